import { Timer, type Clock } from '../time/clock.js';

/** What the liveness monitor needs from the connection it watches. */
export interface LivenessPort {
  /** Send `client/heartbeat`. */
  sendHeartbeat(): void;
  /** Nothing arrived for too long: give up on this socket. */
  onDead(silentForMs: number): void;
}

/**
 * The client half of the application heartbeat (docs/protocol.md §3.2), with one re-armed timer.
 *
 * - Heartbeat: `client/heartbeat` when nothing was sent for `intervalMs` (any client message counts).
 * - Watchdog: no message received for 1.5 × `intervalMs` → `onDead`.
 *
 * Hidden browser tabs throttle timers (Chrome: once a minute after five minutes), so nothing here
 * counts ticks: every decision compares wall-clock timestamps, and `received()` — called on each
 * incoming message, which browsers do not throttle — also sends a heartbeat that is overdue.
 * The server sends `system/heartbeat` every interval, so a live server keeps our heartbeat going too.
 */
export class Liveness {
  private lastSent = 0;
  private lastReceived = 0;
  private intervalMs = 0;
  private readonly timer: Timer;

  constructor(
    private readonly clock: Clock,
    private readonly port: LivenessPort,
    /** Watchdog factor: dead after `factor` × interval of silence. Default 1.5. */
    private readonly factor = 1.5,
  ) {
    this.timer = new Timer(clock, () => this.tick());
  }

  /** Start for one connection; `intervalMs` 0 disables both heartbeat and watchdog. Cancels first, so nothing leaks. */
  start(intervalMs: number): void {
    this.stop();
    this.intervalMs = intervalMs;
    const now = this.clock.now();
    this.lastSent = now;
    this.lastReceived = now;
    if (intervalMs > 0) this.rearm();
  }

  stop(): void {
    this.timer.cancel();
    this.intervalMs = 0;
  }

  /** A message arrived: the server is alive. Sends our heartbeat too if it is overdue (throttled timers). */
  received(): void {
    this.lastReceived = this.clock.now();
    if (this.intervalMs > 0 && this.heartbeatDue()) this.beat();
  }

  /** We sent something: it counts as our heartbeat. */
  sent(): void {
    this.lastSent = this.clock.now();
  }

  /** Milliseconds since the last message arrived. */
  get silentFor(): number {
    return this.clock.now() - this.lastReceived;
  }

  private heartbeatDue(): boolean {
    return this.clock.now() - this.lastSent >= this.intervalMs;
  }

  /** Re-check now (the page became visible, the network came back): throttled timers may have held the watchdog. */
  check(): void {
    this.tick();
  }

  private tick(): void {
    if (this.intervalMs <= 0) return;
    const silent = this.silentFor;
    if (silent >= this.intervalMs * this.factor) {
      this.stop();
      this.port.onDead(silent);
      return;
    }
    if (this.heartbeatDue()) this.beat();
    this.rearm();
  }

  private beat(): void {
    this.lastSent = this.clock.now();
    this.port.sendHeartbeat();
  }

  /** Arm for whichever comes first: the next heartbeat or the watchdog deadline. */
  private rearm(): void {
    const nextBeat = this.lastSent + this.intervalMs;
    const deadline = this.lastReceived + this.intervalMs * this.factor;
    this.timer.armAt(Math.min(nextBeat, deadline));
  }
}
