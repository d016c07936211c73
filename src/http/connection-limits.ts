import type { IncomingMessage } from 'node:http';
import type { BlockList } from 'node:net';
import { clientAddress } from './trusted-proxies.js';

/** Bounds on open WebSocket connections (0 = no bound). */
export interface ConnectionBounds {
  maxConnections: number;
  maxConnectionsPerIp: number;
}

/** Why an upgrade was refused: the HTTP status and its text. */
export interface Refusal {
  status: 503 | 429;
  text: string;
}

/**
 * Counts the open WebSocket connections of every upgrade path, in total and per client address, and
 * refuses an upgrade over either bound before it happens (503 over the total, 429 over the address's
 * share). A connection is counted from its upgrade until its TCP socket closes, so it cannot be missed
 * whatever ends it.
 */
export class ConnectionLimiter {
  private total = 0;
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly bounds: ConnectionBounds,
    private readonly trusted: BlockList | null,
  ) {}

  /**
   * Count a connection in, or say why not. It is counted until `lifetime` emits `close`: the socket of an
   * upgrade, the response of an SSE stream.
   */
  admit(req: IncomingMessage, lifetime: { once(event: 'close', listener: () => void): unknown }): Refusal | undefined {
    const b = this.bounds;
    if (b.maxConnections > 0 && this.total >= b.maxConnections) return { status: 503, text: 'Service Unavailable' };
    const address = clientAddress(req, this.trusted);
    const mine = this.perAddress.get(address) ?? 0;
    if (b.maxConnectionsPerIp > 0 && mine >= b.maxConnectionsPerIp) return { status: 429, text: 'Too Many Requests' };
    this.total++;
    this.perAddress.set(address, mine + 1);
    lifetime.once('close', () => this.release(address));
    return undefined;
  }

  /** Open connections counted. */
  get count(): number {
    return this.total;
  }

  private release(address: string): void {
    this.total--;
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, left);
  }
}
