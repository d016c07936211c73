import type { Clock } from '../liveness/clock.js';

// The client keeps time through the same port as the gateway's liveness layers.
export { systemClock, type Clock } from '../liveness/clock.js';

/**
 * One re-armable timer (engine.io style: re-arm, don't re-create). `arm(at)` replaces any pending
 * deadline; the callback runs once per arming.
 */
export class Timer {
  private handle: unknown = undefined;

  constructor(
    private readonly clock: Clock,
    private readonly fn: () => void,
  ) {}

  /** Fire at wall-clock time `at` (ms) or later. */
  armAt(at: number): void {
    this.arm(Math.max(0, at - this.clock.now()));
  }

  /** Fire after `ms` milliseconds or later. */
  arm(ms: number): void {
    this.cancel();
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      this.fn();
    }, ms);
  }

  cancel(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
  }

  get armed(): boolean {
    return this.handle !== undefined;
  }
}
