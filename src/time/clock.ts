/** A timer handle as returned by a Clock. */
export type TimerHandle = unknown;

/**
 * The narrow time port of everything that keeps time — the two liveness layers, the legacy
 * adapter's pinger and the client SDK — so tests drive them without waiting. Milliseconds,
 * wall clock (it keeps running while a laptop sleeps). Browser-safe: no Node-only imports.
 */
export interface Clock {
  now(): number;
  /** Run `fn` after about `ms`; may fire (much) later, never earlier. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock. In Node its timers are unref'd: keeping time never holds a process open. */
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
