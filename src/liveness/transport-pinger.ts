import type { Clock } from '../time/clock.js';
import { WheelLayer } from './wheel-layer.js';

/** What the transport layer needs from a connection: send a ping frame, kill the socket. */
export interface PingTarget {
  ping(data: Buffer): void;
  /** The peer is presumed gone: drop the socket without a close handshake. */
  terminate(): void;
}

/** Observers for metrics; every field optional. */
export interface PingerHooks {
  onPing?(): void;
  /** Round-trip of one ping, ms. */
  onPong?(rttMs: number): void;
  onTimeout?(): void;
  /** Pinging or terminating one connection threw. */
  onError?(err: unknown): void;
}

interface Entry {
  target: PingTarget;
  nextPingAt: number;
  /** Layer time (ms since the layer started) of the unanswered ping, or -1. */
  awaitingSince: number;
  /** Number of the unanswered ping (its payload is this in base 36), or 0. A number, not a Buffer per connection. */
  pingId: number;
  wheelSlot: number;
}

/**
 * The transport liveness layer (docs/protocol.md §3.1): a ping frame to every connection each
 * `intervalMs`, each connection on its own phase (the first ping lands at a random point of the
 * interval, so pings are spread rather than sent in one tick); no pong within `timeoutMs` → terminate.
 */
export class TransportPinger extends WheelLayer<PingTarget, Entry> {
  private counter = 0;

  constructor(
    clock: Clock,
    /** Ping period, ms; must be > 0 (a disabled layer is simply not constructed). */
    private readonly intervalMs: number,
    /** Pong wait, ms. */
    private readonly timeoutMs: number,
    private readonly hooks: PingerHooks = {},
    private readonly random: () => number = Math.random,
  ) {
    super(clock, Math.max(5, Math.min(250, Math.floor(Math.min(intervalMs, timeoutMs) / 20))), (err) => hooks.onError?.(err));
  }

  /** Start pinging `target`. Adding it twice restarts it. */
  add(target: PingTarget): void {
    const entry: Entry = { target, nextPingAt: this.now() + Math.round(this.random() * this.intervalMs), awaitingSince: -1, pingId: 0, wheelSlot: -1 };
    this.track(entry, entry.nextPingAt);
  }

  /** A pong arrived for `target`. Only a pong echoing the outstanding ping's payload counts. */
  pong(target: PingTarget, data?: Buffer): void {
    const entry = this.entries.get(target);
    if (!entry || entry.awaitingSince < 0) return;
    if (data && entry.pingId > 0 && data.toString('latin1') !== entry.pingId.toString(36)) return;
    this.hooks.onPong?.(this.now() - entry.awaitingSince);
    entry.awaitingSince = -1;
  }

  protected due(entry: Entry): void {
    const now = this.now();
    if (entry.awaitingSince >= 0 && now - entry.awaitingSince >= this.timeoutMs) {
      this.remove(entry.target);
      this.hooks.onTimeout?.();
      entry.target.terminate();
      return;
    }
    if (now >= entry.nextPingAt) {
      if (entry.awaitingSince < 0) {
        // The payload names the ping so a late pong for an older one is not taken for this one.
        entry.pingId = ++this.counter;
        entry.awaitingSince = now;
        this.hooks.onPing?.();
        entry.target.ping(Buffer.from(entry.pingId.toString(36), 'latin1'));
      }
      entry.nextPingAt = now + this.intervalMs;
    }
    const deadline = entry.awaitingSince >= 0 ? entry.awaitingSince + this.timeoutMs : Infinity;
    this.fileAt(entry, Math.min(entry.nextPingAt, deadline));
  }
}
