import type { Clock } from '../time/clock.js';
import { WheelLayer } from './wheel-layer.js';

/** What the application layer needs from a connection. */
export interface HeartbeatTarget {
  /** Send `system/heartbeat`. */
  sendHeartbeat(): void;
  /** Nothing heard from the client app for `timeout`: close 4100. */
  timedOut(): void;
}

/** Observers for metrics. */
export interface HeartbeatHooks {
  onSent?(): void;
  onTimeout?(): void;
  /** Sending a heartbeat to, or closing, one connection threw. */
  onError?(err: unknown): void;
}

interface Entry {
  target: HeartbeatTarget;
  nextSendAt: number;
  lastHeardAt: number;
  wheelSlot: number;
}

/**
 * The application liveness layer (docs/protocol.md §3.2): `system/heartbeat` to each client every
 * `intervalMs`, and close when no client message at all arrived for `timeoutMs`. Separate from the
 * transport pinger on purpose: pongs come from the peer's network stack (or a proxy), only
 * messages prove the client application runs.
 */
export class AppHeartbeat extends WheelLayer<HeartbeatTarget, Entry> {
  constructor(
    clock: Clock,
    /** Heartbeat period, ms (> 0). */
    private readonly intervalMs: number,
    /** Silence allowed, ms (≥ interval). */
    private readonly timeoutMs: number,
    private readonly hooks: HeartbeatHooks = {},
    private readonly random: () => number = Math.random,
  ) {
    super(clock, Math.max(5, Math.min(500, Math.floor(intervalMs / 20))), (err) => hooks.onError?.(err));
  }

  /** Start watching `target`; counts as having just heard from it. */
  add(target: HeartbeatTarget): void {
    const now = this.now();
    const entry: Entry = { target, nextSendAt: now + Math.round((0.5 + 0.5 * this.random()) * this.intervalMs), lastHeardAt: now, wheelSlot: -1 };
    this.track(entry, Math.min(entry.nextSendAt, now + this.timeoutMs));
  }

  /** Any client message arrived. Cheap on purpose (hot path): no re-scheduling here. */
  heard(target: HeartbeatTarget): void {
    const entry = this.entries.get(target);
    if (entry) entry.lastHeardAt = this.now();
  }

  protected due(entry: Entry): void {
    const now = this.now();
    if (now - entry.lastHeardAt >= this.timeoutMs) {
      this.remove(entry.target);
      this.hooks.onTimeout?.();
      entry.target.timedOut();
      return;
    }
    if (now >= entry.nextSendAt) {
      this.hooks.onSent?.();
      entry.target.sendHeartbeat();
      entry.nextSendAt = now + this.intervalMs;
    }
    this.fileAt(entry, Math.min(entry.nextSendAt, entry.lastHeardAt + this.timeoutMs));
  }
}
