/**
 * The longest time the event loop could not run a timer: a 1 ms interval records the gap between its own runs, and
 * a gap beyond the interval is time the loop spent elsewhere (a synchronous fan-out, a burst of I/O callbacks, a GC
 * pause). Pings and heartbeats are timers too, so this is the delay they would have seen. Measured from the inside
 * with plain timers, the same for every server; `perf_hooks.monitorEventLoopDelay` read ~2 ms for raw ws's
 * synchronous 200,000-send loop in the bench, so the figure does not rely on it.
 */
const INTERVAL_MS = 1;

/** CPU time of the whole process (all threads: GC helpers included), ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** A gap recorder; `reset()` starts a window, `read()` gives its figures and ends it. */
export class LoopGaps {
  private last = performance.now();
  private lastCpu = cpuMs();
  private maxGap = 0;
  /**
   * The most CPU time the process used within one gap: on a shared machine a gap also holds time the OS gave to
   * other processes, and this is the part that was the server's own work (what the gap would be on a quiet machine).
   */
  private maxGapCpu = 0;
  private over10 = 0;
  /** Runs only from `reset()` to `read()`: its 1,000 wake-ups and CPU reads a second cost ~4 % of a core. */
  private timer: NodeJS.Timeout | undefined;

  private tick(): void {
    const now = performance.now();
    const cpu = cpuMs();
    const block = now - this.last - INTERVAL_MS;
    const blockCpu = cpu - this.lastCpu;
    this.last = now;
    this.lastCpu = cpu;
    if (block > this.maxGap) this.maxGap = block;
    if (block > 1 && blockCpu > this.maxGapCpu) this.maxGapCpu = Math.min(blockCpu, block + INTERVAL_MS);
    if (block > 10) this.over10++;
  }

  /** Start a new measurement window. */
  reset(): void {
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), INTERVAL_MS);
      this.timer.unref();
    }
    this.last = performance.now();
    this.lastCpu = cpuMs();
    this.maxGap = 0;
    this.maxGapCpu = 0;
    this.over10 = 0;
  }

  /**
   * Ends the window: the longest block (ms) since `reset()`, counting the one still going on (the caller runs, so
   * the loop is not blocked now; a read right after a long synchronous job sees it when the next tick has not run
   * yet), its CPU time, and how many blocks were over 10 ms.
   */
  read(): { maxBlockMs: number; maxBlockCpuMs: number; blocksOver10Ms: number } {
    if (this.timer === undefined) return { maxBlockMs: 0, maxBlockCpuMs: 0, blocksOver10Ms: 0 };
    const pending = performance.now() - this.last - INTERVAL_MS;
    const pendingCpu = Math.min(cpuMs() - this.lastCpu, pending + INTERVAL_MS);
    const figures = {
      maxBlockMs: Math.max(0, this.maxGap, pending),
      maxBlockCpuMs: Math.max(0, this.maxGapCpu, pending > 1 ? pendingCpu : 0),
      blocksOver10Ms: this.over10 + (pending > 10 ? 1 : 0),
    };
    this.stop();
    return figures;
  }

  /** End the window (read() does). */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
