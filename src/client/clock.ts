/**
 * The time source of the client. Injected so unit tests drive every timer by hand, including a
 * "throttled" clock that fires timers late the way a hidden browser tab does.
 */
export interface Clock {
  /** Wall-clock milliseconds. Wall clock on purpose: it keeps running while a laptop sleeps. */
  now(): number;
  /** Run `fn` after about `ms` milliseconds; may fire (much) later, never earlier. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock: `Date.now` and the global timers; Node timers are unref'd so a client never holds a process open. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = globalThis.setTimeout(fn, ms) as unknown as { unref?: () => void };
    if (typeof handle === 'object' && handle !== null && typeof handle.unref === 'function') handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>);
  },
};

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
