/**
 * What a scale-out run (`npm run load -- --redis …`) adds to the report: every gateway process's RSS, CPU and open
 * files, Redis's memory, keys and commands, and the machine's load average — read at three moments (before the
 * clients, once all are connected, at the end of the idle phase), so the report can say what a connection costs and
 * whether anything grows while nothing happens.
 */
import os from 'node:os';
import type { GroupMember, ProcGroupSampler } from './proc-group.js';
import { CLK_TCK, cpuTicks } from './proc-stats.js';
import type { RedisServer, RedisSnapshot } from './redis-server.js';

/** One moment of the run, as the scale probe saw it. */
interface Moment {
  at: number;
  redis: RedisSnapshot;
  /** Summed RSS of the gateway processes, MiB. */
  rssMiB: number;
  /** CPU ticks per gateway process. */
  ticks: Map<number, number>;
  /** Open connections the clients counted. */
  open: number;
}

/** The scale-out part of a report (JSON `scale`; rows and checks in the table). */
export interface ScaleSummary {
  /** Gateway processes serving clients (the `--workers` count, or 1). */
  gatewayProcesses: number;
  /** `cluster`: one `wsgate --workers N` on one port (its primary only hands out connections); `single`: one process. */
  mode: 'cluster' | 'single';
  /** os.loadavg() when the run started and when the idle phase ended. */
  loadAvg: { before: number[]; after: number[] };
  /** Connections open when the idle phase started and when it ended (the clients' count). */
  connections: { idleStart: number; idleEnd: number };
  processes: (GroupMember & { idleCpuPct: number; rampCpuPct: number })[];
  rss: { baselineMiB: number; idleStartMiB: number; idleEndMiB: number; perConnectionKiB: number; addedPerConnectionKiB: number };
  /** Summed over the gateway processes, % of one core. */
  cpu: { rampPct: number; idlePct: number; connectSeconds: number; idleSeconds: number };
  fds: { maxPerProcess: number };
  redis: {
    baseline: RedisSnapshot;
    idleStart: RedisSnapshot;
    idleEnd: RedisSnapshot;
    /** (used_memory once all connected − before the clients) / connections. */
    bytesPerSession: number;
    /** used_memory at the end of the idle phase − at its start. */
    idleGrowthBytes: number;
    idleKeysDelta: number;
    idleCommandsPerSecond: number;
    /** Calls per second of each command during the idle phase (INFO commandstats), busiest first. */
    idleCallsPerSecond: Record<string, number>;
    /** Redis's own CPU during the idle phase, % of one core. */
    idleCpuPct: number;
  };
}

const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;

/** Calls per second of each command between two snapshots (INFO and DBSIZE of the snapshots left out). */
function callRates(a: RedisSnapshot, b: RedisSnapshot, secs: number): Record<string, number> {
  const own: Record<string, number> = { info: 1, dbsize: 1 };
  const rates = Object.entries(b.calls)
    .map(([k, v]) => [k, round((v - (a.calls[k] ?? 0) - (own[k] ?? 0)) / secs, 2)] as const)
    .filter(([, v]) => v > 0)
    .sort((x, y) => y[1] - x[1]);
  return Object.fromEntries(rates);
}

/** Reads the moments of a scale-out run; `summary()` turns them into the report's `scale`. */
export class ScaleProbe {
  private readonly loadBefore = os.loadavg();
  private moments: Moment[] = [];

  constructor(
    private readonly redis: RedisServer,
    private readonly group: ProcGroupSampler,
    private readonly processes: number,
  ) {}

  /** Take one moment: before the clients, when all are connected, at the end of the idle phase. */
  async mark(open: number): Promise<void> {
    const ticks = new Map<number, number>();
    for (const p of this.group.pids()) ticks.set(p, cpuTicks(p) ?? 0);
    this.group.countFds();
    this.moments.push({ at: Date.now(), redis: await this.redis.snapshot(), rssMiB: this.group.current().rssMiB, ticks, open });
  }

  /** The summary (needs the three moments). */
  summary(): ScaleSummary | undefined {
    const [base, start, end] = this.moments;
    if (!base || !start || !end) return undefined;
    const secs = (a: Moment, b: Moment): number => Math.max(0.001, (b.at - a.at) / 1000);
    const cpuPct = (pid: number, a: Moment, b: Moment): number => (((b.ticks.get(pid) ?? 0) - (a.ticks.get(pid) ?? 0)) / CLK_TCK / secs(a, b)) * 100;
    const group = this.group.read();
    const processes = group.members.map((m) => ({ ...m, idleCpuPct: round(cpuPct(m.pid, start, end)), rampCpuPct: round(cpuPct(m.pid, base, start)) }));
    const conns = Math.max(1, start.open);
    const idleSecs = secs(start, end);
    return {
      gatewayProcesses: this.processes,
      mode: this.processes > 1 ? 'cluster' : 'single',
      loadAvg: { before: this.loadBefore.map((l) => round(l, 2)), after: os.loadavg().map((l) => round(l, 2)) },
      connections: { idleStart: start.open, idleEnd: end.open },
      processes,
      rss: {
        baselineMiB: round(base.rssMiB),
        idleStartMiB: round(start.rssMiB),
        idleEndMiB: round(end.rssMiB),
        perConnectionKiB: round((end.rssMiB * 1024) / conns),
        addedPerConnectionKiB: round(((end.rssMiB - base.rssMiB) * 1024) / conns),
      },
      cpu: {
        rampPct: round(processes.reduce((a, p) => a + p.rampCpuPct, 0)),
        idlePct: round(processes.reduce((a, p) => a + p.idleCpuPct, 0)),
        connectSeconds: round(secs(base, start)),
        idleSeconds: round(idleSecs),
      },
      fds: { maxPerProcess: Math.max(0, ...processes.map((p) => p.peakFds)) },
      redis: {
        baseline: base.redis,
        idleStart: start.redis,
        idleEnd: end.redis,
        bytesPerSession: Math.round((start.redis.usedMemory - base.redis.usedMemory) / conns),
        idleGrowthBytes: end.redis.usedMemory - start.redis.usedMemory,
        idleKeysDelta: end.redis.keys - start.redis.keys,
        // Each snapshot's own INFO counts once: subtract it.
        idleCommandsPerSecond: round((end.redis.commands - start.redis.commands - 2) / idleSecs),
        idleCallsPerSecond: callRates(start.redis, end.redis, idleSecs),
        idleCpuPct: round(((end.redis.cpuSeconds - start.redis.cpuSeconds) / idleSecs) * 100),
      },
    };
  }
}

const mib = (b: number): string => `${round(b / 2 ** 20, 1)} MiB`;

/** Table rows for the scale-out part of a report. */
export function scaleRows(s: ScaleSummary | undefined): [string, string][] {
  if (!s) return [];
  const workers = s.processes.filter((p) => p.role === 'worker' || s.mode === 'single');
  const primary = s.processes.find((p) => p.role === 'primary' && s.mode === 'cluster');
  const perProc = workers.map((p) => `${round(p.rssMiB, 0)}`).join(' / ');
  const r = s.redis;
  return [
    ['gateway processes', `${s.gatewayProcesses} (${s.mode === 'cluster' ? `wsgate --workers ${s.gatewayProcesses} --redis, one port` : 'wsgate --redis'})`],
    ['connections at idle start / end', `${s.connections.idleStart} / ${s.connections.idleEnd}`],
    ['RSS per process (MiB)', `${perProc}${primary ? `; primary ${round(primary.rssMiB, 0)}` : ''}`],
    ['RSS total before / connected / end', `${s.rss.baselineMiB} / ${s.rss.idleStartMiB} / ${s.rss.idleEndMiB} MiB`],
    ['RSS per connection (total / added)', `${s.rss.perConnectionKiB} / ${s.rss.addedPerConnectionKiB} KiB`],
    ['open files per process (max)', `${s.fds.maxPerProcess} (${workers.map((p) => p.peakFds).join(' / ')})`],
    ['gateway CPU connect / idle (sum)', `${s.cpu.rampPct} % over ${s.cpu.connectSeconds} s / ${s.cpu.idlePct} % over ${s.cpu.idleSeconds} s of one core${primary ? ` (primary ${primary.rampCpuPct} / ${primary.idleCpuPct} %)` : ''}`],
    ['Redis used_memory before / connected / end', `${mib(r.baseline.usedMemory)} / ${mib(r.idleStart.usedMemory)} / ${mib(r.idleEnd.usedMemory)}`],
    ['Redis memory per session', `${r.bytesPerSession} B`],
    ['Redis while idle: memory / keys / cmds', `${r.idleGrowthBytes >= 0 ? '+' : ''}${r.idleGrowthBytes} B / ${r.idleKeysDelta >= 0 ? '+' : ''}${r.idleKeysDelta} keys / ${r.idleCommandsPerSecond} commands/s (CPU ${r.idleCpuPct} %)`],
    ['Redis calls/s while idle, busiest', Object.entries(r.idleCallsPerSecond).slice(0, 6).map(([k, v]) => `${k} ${v}`).join(', ') || '-'],
    ['load average before / after', `${s.loadAvg.before.join(' ')} / ${s.loadAvg.after.join(' ')}`],
  ];
}

/** The limit the brief sets per process: the machine caps open files at 20,000, keep head room. */
export const FD_BUDGET = 19_000;

/** Checks a scale-out run adds: open files under the cap, Redis flat while idle. */
/**
 * The scale checks of a run. `window` is what the measured window was: `idle` (nothing but liveness: Redis must not
 * move), `attacked` (fuzz: Redis memory must come back once the hostile sessions expired), or `traffic` (chat, a
 * reconnect storm: replay buffers, history and resumed sessions change Redis by design; its figures are reported,
 * not judged).
 */
export function scaleChecks(s: ScaleSummary | undefined, window: 'idle' | 'attacked' | 'traffic' = 'idle'): { name: string; ok: boolean; detail: string }[] {
  if (!s) return [];
  const attacked = window === 'attacked';
  const sessionBytes = s.redis.idleStart.usedMemory - s.redis.baseline.usedMemory;
  // Acks trim buffers and the allocator moves a little: allow 5 % of what the sessions hold, and 1 MiB.
  const slack = Math.max(2 ** 20, sessionBytes * 0.05);
  const workers = s.processes.filter((p) => p.role === 'worker').length;
  return [
    // A worker that died is replaced by the primary: the replacement shows up as one process more.
    ...(s.mode === 'cluster' ? [{ name: 'no gateway process died', ok: workers === s.gatewayProcesses, detail: `${workers} worker processes seen for ${s.gatewayProcesses}` }] : []),
    { name: `every gateway process under ${FD_BUDGET} open files`, ok: s.fds.maxPerProcess < FD_BUDGET, detail: `max ${s.fds.maxPerProcess}` },
    // Under attack (fuzz) the window is not idle: the hostile sessions' tombstones (1 h) and the channels they named
    // (epoch and history, `history_ttl`) stay as keys for a while by design; what must come back is the memory.
    ...(window === 'idle' ? [{ name: 'Redis keys flat while idle', ok: s.redis.idleKeysDelta === 0, detail: `${s.redis.idleKeysDelta} keys over ${s.cpu.idleSeconds} s` }] : []),
    ...(window === 'traffic'
      ? []
      : [
          {
            name: attacked ? 'Redis memory back once the hostile sessions expired' : 'Redis memory flat while idle',
            ok: s.redis.idleGrowthBytes <= slack,
            detail: `${s.redis.idleGrowthBytes} B over ${s.cpu.idleSeconds} s (allowed ${Math.round(slack)} B)${attacked ? `; ${s.redis.idleKeysDelta} keys more (tombstones, channel epochs)` : ''}`,
          },
        ]),
  ];
}
