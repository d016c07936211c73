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

/** What a connection is counted until: its socket's (or SSE response's) `close`. */
export interface Lifetime {
  on(event: 'close', listener: () => void): unknown;
}

/** The address a lifetime was counted under (kept on it until its close). */
const COUNTED = Symbol('wsgate.countedAddress');
type Counted = Lifetime & { [COUNTED]?: string | undefined };

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
  admit(req: IncomingMessage, lifetime: Lifetime): Refusal | undefined {
    const b = this.bounds;
    if (b.maxConnections > 0 && this.total >= b.maxConnections) return { status: 503, text: 'Service Unavailable' };
    const address = clientAddress(req, this.trusted);
    const mine = this.perAddress.get(address) ?? 0;
    if (b.maxConnectionsPerIp > 0 && mine >= b.maxConnectionsPerIp) return { status: 429, text: 'Too Many Requests' };
    this.total++;
    this.perAddress.set(address, mine + 1);
    // The address rides on the socket and one listener serves every connection: a closure, its context and
    // `once`'s wrapper per connection were about 240 bytes of every idle connection's heap.
    (lifetime as Counted)[COUNTED] = address;
    lifetime.on('close', this.onClose);
    return undefined;
  }

  /** The `close` listener of every counted lifetime (`this` is the socket or response). */
  private readonly onClose = ((limiter: ConnectionLimiter) =>
    function (this: Counted): void {
      const address = this[COUNTED];
      if (address === undefined) return; // counted out already
      this[COUNTED] = undefined;
      limiter.release(address);
    })(this);

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
