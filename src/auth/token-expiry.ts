import type { Clock, TimerHandle } from '../time/clock.js';

/**
 * Node (and browsers) fire a timer at once when its delay exceeds 2^31 − 1 ms (~24.8 days): a
 * token valid for a month would end its connection immediately. Longer waits are re-armed in steps.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Ends a live connection when its token expires (docs/protocol.md, "Authentication"): `onExpired`
 * runs once, at `expiresAt` or later, unless `cancel()` came first (connection closed, or the
 * session moved to a connection with a fresher token).
 */
export class TokenExpiry {
  private handle: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly expiresAt: number,
    private readonly onExpired: () => void,
  ) {
    this.arm();
  }

  private arm(): void {
    const wait = this.expiresAt - this.clock.now();
    if (wait <= 0) {
      this.handle = undefined;
      this.onExpired();
      return;
    }
    this.handle = this.clock.setTimeout(() => this.arm(), Math.min(wait, MAX_TIMER_MS));
  }

  /** Stop watching. Idempotent. */
  cancel(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }
}
