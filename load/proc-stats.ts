import { readFileSync } from 'node:fs';

/** Linux clock ticks per second for /proc/<pid>/stat (USER_HZ is 100 on every mainstream kernel). */
export const CLK_TCK = 100;

/** RSS and CPU of one process over a run. */
export interface ProcSummary {
  pid: number;
  /** Resident set size at the last sample, MiB. */
  rssMiB: number;
  /** Largest RSS seen, MiB. */
  peakRssMiB: number;
  /** CPU time used during the run divided by wall time, % of one core. */
  avgCpuPct: number;
  /** Busiest 1-second sample, % of one core. */
  peakCpuPct: number;
  samples: number;
}

/** utime + stime in ticks (CLK_TCK per second), or undefined once the process is gone. */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, ms (10 ms resolution), or undefined once it is gone. */
export function cpuMs(pid: number): number | undefined {
  const t = cpuTicks(pid);
  return t === undefined ? undefined : (t * 1000) / CLK_TCK;
}

function rssKiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS and CPU every second from /proc until stop(). */
export class ProcSampler {
  private readonly timer: NodeJS.Timeout;
  private readonly startTicks: number;
  private readonly startAt = Date.now();
  private lastTicks: number;
  private lastAt = Date.now();
  private summary: ProcSummary;
  private cpuPct = 0;

  constructor(readonly pid: number) {
    this.startTicks = this.lastTicks = cpuTicks(pid) ?? 0;
    this.summary = { pid, rssMiB: 0, peakRssMiB: 0, avgCpuPct: 0, peakCpuPct: 0, samples: 0 };
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  private sample(): void {
    const ticks = cpuTicks(this.pid);
    const rss = rssKiB(this.pid);
    if (ticks === undefined || rss === undefined) return;
    const now = Date.now();
    const s = this.summary;
    s.samples++;
    s.rssMiB = rss / 1024;
    s.peakRssMiB = Math.max(s.peakRssMiB, s.rssMiB);
    if (now - this.lastAt >= 500) {
      this.cpuPct = ((ticks - this.lastTicks) / CLK_TCK / ((now - this.lastAt) / 1000)) * 100;
      s.peakCpuPct = Math.max(s.peakCpuPct, this.cpuPct);
      this.lastTicks = ticks;
      this.lastAt = now;
    }
    const wall = (now - this.startAt) / 1000;
    if (wall > 0) s.avgCpuPct = ((ticks - this.startTicks) / CLK_TCK / wall) * 100;
  }

  /** RSS now (MiB) and CPU over the last second or so (% of one core), for the report's time series. */
  current(): { rssMiB: number; cpuPct: number } {
    return { rssMiB: this.summary.rssMiB, cpuPct: this.cpuPct };
  }

  /** The current summary (also samples once more). */
  read(): ProcSummary {
    this.sample();
    return { ...this.summary };
  }

  /** Final summary; stops sampling. */
  stop(): ProcSummary {
    const s = this.read();
    clearInterval(this.timer);
    return s;
  }
}
