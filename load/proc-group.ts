import { readdirSync, readFileSync } from 'node:fs';
import { ProcSampler, type ProcSummary } from './proc-stats.js';

/** One gateway process of a group: the cluster primary or one of its workers. */
export interface GroupMember extends ProcSummary {
  role: 'primary' | 'worker';
  /** Open file descriptors at the last fd count (what the 20,000-per-process limit is about). */
  fds: number;
  /** Most fds seen at any count. */
  peakFds: number;
}

/** A process group over a run: every member, and their sum. */
export interface GroupSummary {
  members: GroupMember[];
  /** Sum over members now: RSS (MiB) and average CPU (% of one core, so up to 100 × processes). */
  total: ProcSummary;
}

/** Direct children of `pid` (every thread's children file; needs Linux ≥ 3.5). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    /* gone */
  }
  return out;
}

/** Open file descriptors of `pid` (0 once it is gone). */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/**
 * Samples a process and its children (the `wsgate --workers N` primary and its workers) once a second: per-process
 * RSS and CPU, and their sums, which is what the timeline charts. Workers that appear later (a replaced worker) are
 * picked up; ones that exit keep their last figures, so the report shows that a worker went away.
 */
export class ProcGroupSampler {
  private readonly samplers = new Map<number, ProcSampler>();
  private readonly fds = new Map<number, { now: number; peak: number }>();
  private readonly timer: NodeJS.Timeout;
  private peakRssMiB = 0;
  private peakCpuPct = 0;

  constructor(readonly pid: number) {
    this.discover();
    this.timer = setInterval(() => this.discover(), 1000);
    this.timer.unref();
  }

  private discover(): void {
    for (const p of [this.pid, ...childPids(this.pid)]) if (!this.samplers.has(p)) this.samplers.set(p, new ProcSampler(p));
    const now = this.current();
    this.peakRssMiB = Math.max(this.peakRssMiB, now.rssMiB);
    this.peakCpuPct = Math.max(this.peakCpuPct, now.cpuPct);
  }

  /** Every member's pid, the primary's children looked up again now (ones that exited included). */
  pids(): number[] {
    this.discover();
    return [...this.samplers.keys()];
  }

  /** Count every member's open fds now (a readdir of /proc/PID/fd each: call it at a few moments, not each second). */
  countFds(): void {
    for (const p of this.samplers.keys()) {
      const n = fdCount(p);
      if (n === 0) continue;
      const f = this.fds.get(p) ?? { now: 0, peak: 0 };
      this.fds.set(p, { now: n, peak: Math.max(f.peak, n) });
    }
  }

  /** Summed RSS (MiB) and CPU over the last second (% of one core) of the members still running. */
  current(): { rssMiB: number; cpuPct: number } {
    let rssMiB = 0;
    let cpuPct = 0;
    for (const s of this.samplers.values()) {
      const c = s.current();
      rssMiB += c.rssMiB;
      cpuPct += c.cpuPct;
    }
    return { rssMiB, cpuPct };
  }

  /** Per-member summaries and their sum (samples each once more). */
  read(): GroupSummary {
    const members: GroupMember[] = [...this.samplers.entries()].map(([pid, s]) => ({
      ...s.read(),
      role: pid === this.pid ? 'primary' : 'worker',
      fds: this.fds.get(pid)?.now ?? 0,
      peakFds: this.fds.get(pid)?.peak ?? 0,
    }));
    const sum = (f: (m: GroupMember) => number): number => members.reduce((a, m) => a + f(m), 0);
    const total: ProcSummary = {
      pid: this.pid,
      rssMiB: sum((m) => m.rssMiB),
      peakRssMiB: Math.max(this.peakRssMiB, sum((m) => m.rssMiB)),
      avgCpuPct: sum((m) => m.avgCpuPct),
      peakCpuPct: this.peakCpuPct,
      samples: Math.max(0, ...members.map((m) => m.samples)),
    };
    return { members, total };
  }

  /** Final summaries; stops sampling. */
  stop(): GroupSummary {
    const out = this.read();
    clearInterval(this.timer);
    for (const s of this.samplers.values()) s.stop();
    return out;
  }
}
