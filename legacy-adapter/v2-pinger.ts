import { Timer, type Clock } from '../src/time/clock.js';

/** The payload of the adapter's own pings. `:` never occurs in the gateway's (base-36) ping payloads. */
export const ADAPTER_PING_PAYLOAD: Buffer = Buffer.from('wsgate:legacy');

/**
 * After a relayed upstream ping the upstream is expected to ping again one interval later; allow
 * this share of an interval for its timer jitter before stepping in, so both sides do not ping
 * on the same beat (docs/protocol.md §7.4 point 2 then still holds: the upstream's pings keep the leg busy).
 */
export const UPSTREAM_GRACE = 0.25;

/** What the pinger needs from the v2 leg. */
export interface V2PingTarget {
  ping(data: Buffer): void;
  /** One of the adapter's pings went unanswered for `timeoutMs`. */
  onPingTimeout(): void;
}

/**
 * Keeps the v2 leg from going silent (docs/protocol.md §7.4 point 2): when no ping has crossed
 * the leg for `intervalMs` — the upstream sends none, or stopped — the adapter pings the v2 client
 * itself, and a pong echoing its payload must come back within `timeoutMs`.
 * Its pongs are answered to the adapter and never relayed upstream.
 */
export class V2Pinger {
  private readonly silence: Timer;
  private readonly pongWait: Timer;
  private stopped = false;

  constructor(
    clock: Clock,
    /** Longest silence on the v2 leg, ms; 0 disables the adapter's own pings. */
    private readonly intervalMs: number,
    /** Wait for the pong to an own ping, ms. */
    private readonly timeoutMs: number,
    private readonly target: V2PingTarget,
  ) {
    this.silence = new Timer(clock, () => this.silent());
    this.pongWait = new Timer(clock, () => {
      this.stop();
      this.target.onPingTimeout();
    });
  }

  /** Start watching the leg's silence (cancels first, so calling it twice never leaks a timer). */
  start(): void {
    this.stop();
    this.stopped = false;
    this.armSilence(this.intervalMs);
  }

  /** An upstream ping was relayed to the v2 client: the leg is busy, wait for the next one. */
  upstreamPinged(): void {
    this.armSilence(this.intervalMs * (1 + UPSTREAM_GRACE));
  }

  /** A pong from the v2 client. True when it answers the adapter's own ping (do not relay it). */
  pong(data: Buffer): boolean {
    if (!data.equals(ADAPTER_PING_PAYLOAD)) return false;
    this.pongWait.cancel();
    return true;
  }

  /** Clear every timer. */
  stop(): void {
    this.stopped = true;
    this.silence.cancel();
    this.pongWait.cancel();
  }

  private armSilence(ms: number): void {
    if (this.stopped || this.intervalMs <= 0) return;
    this.silence.arm(ms);
  }

  private silent(): void {
    // The first unanswered ping starts the deadline; later ones (interval < timeout) do not move it.
    if (!this.pongWait.armed) this.pongWait.arm(this.timeoutMs);
    this.target.ping(ADAPTER_PING_PAYLOAD);
    this.armSilence(this.intervalMs);
  }
}
