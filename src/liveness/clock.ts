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
