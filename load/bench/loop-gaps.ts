/**
 * The longest time the event loop could not run a timer: a 1 ms interval records the gap between its own runs, and
 * a gap beyond the interval is time the loop spent elsewhere (a synchronous fan-out, a burst of I/O callbacks, a GC
 * pause). Pings and heartbeats are timers too, so this is the delay they would have seen. Measured from the inside
 * with plain timers, the same for every server; `perf_hooks.monitorEventLoopDelay` read ~2 ms for raw ws's
 * synchronous 200,000-send loop in the bench, so the figure does not rely on it.
 */
const INTERVAL_MS = 1;

/** A running gap recorder; `read()` gives the figures since the last `reset()`. */
export class LoopGaps {
  private last = performance.now();
  private maxGap = 0;
  private over10 = 0;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => this.tick(), INTERVAL_MS);
    this.timer.unref();
  }

  private tick(): void {
    const now = performance.now();
    const block = now - this.last - INTERVAL_MS;
    this.last = now;
    if (block > this.maxGap) this.maxGap = block;
    if (block > 10) this.over10++;
  }

  /** Start a new measurement window. */
  reset(): void {
    this.last = performance.now();
    this.maxGap = 0;
    this.over10 = 0;
  }

  /**
   * The longest block (ms) since `reset()`, counting the one still going on (the caller runs, so the loop is not
   * blocked now; a read right after a long synchronous job sees it when the next tick has not run yet), and how
   * many blocks were over 10 ms.
   */
  read(): { maxBlockMs: number; blocksOver10Ms: number } {
    const pending = performance.now() - this.last - INTERVAL_MS;
    return { maxBlockMs: Math.max(0, this.maxGap, pending), blocksOver10Ms: this.over10 + (pending > 10 ? 1 : 0) };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
