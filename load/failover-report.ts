import { writeFileSync } from 'node:fs';
import type { ProcSummary } from './proc-stats.js';
import type { MachineInfo } from './report.js';
import type { RedisSnapshot } from './redis-server.js';

/** How the clients of a failover storm fared. */
export interface StormOutcome {
  resumed: number;
  /** `resumed`, `new_session:<resume_error>`, `failed:…`, `not_resumed_in_time`, `never_connected`. */
  outcomes: Record<string, number>;
  /** ms from the kill to each client's resumed system/init. */
  resumeMs: { p50: number; p99: number; max: number };
  /** ms from the kill to the close event of the old socket (how soon clients notice). */
  closedMs: { p50: number; p99: number; max: number };
  lost: number;
  duplicated: number;
  /** Connects and resumes, retries included. */
  connectAttempts: number;
}

/** The JSON report (--json); --md and stdout print it as a table. */
export interface FailoverReport extends StormOutcome {
  pass: boolean;
  command: string;
  startedAt: string;
  machine: MachineInfo;
  clients: number;
  /** Client processes (load/failover-shard.ts), one per 2,500 clients, each from its own source address. */
  clientProcesses: number;
  messagesEach: number;
  connectSeconds: number;
  notAccepted: Record<string, number>;
  listenOverflows: number;
  killed: ProcSummary | null;
  survivor: ProcSummary | null;
  redis: { baseline: RedisSnapshot; connected: RedisSnapshot; end: RedisSnapshot; bytesPerSession: number };
  loadAvg: { before: number[]; after: number[] };
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
const kv = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${k}: ${v}`).join(', ') || '-';
const proc = (p: ProcSummary | null): string => (p ? `RSS ${p.rssMiB.toFixed(1)} MiB (peak ${p.peakRssMiB.toFixed(1)}), CPU avg ${p.avgCpuPct.toFixed(1)} % / peak ${p.peakCpuPct.toFixed(0)} % of one core` : '-');

/** The printed table. */
export function renderFailover(r: FailoverReport): string {
  const rows: [string, string][] = [
    ['failover storm', r.pass ? 'PASS' : 'FAIL'],
    ['clients / messages each', `${r.clients} in ${r.clientProcesses} client processes / ${r.messagesEach} (half before the kill, half during; through process B's API)`],
    ['connected to A in', `${r.connectSeconds} s`],
    ['resumed on B', `${r.resumed} / ${r.clients} (${kv(r.outcomes)})`],
    ['time from kill to resumed p50 / p99 / all', `${r.resumeMs.p50} / ${r.resumeMs.p99} / ${r.resumeMs.max} ms`],
    ['… of which until the old socket closed', `${r.closedMs.p50} / ${r.closedMs.p99} / ${r.closedMs.max} ms`],
    ['lost / duplicated', `${r.lost} / ${r.duplicated}`],
    ['sends not accepted (not counted as lost)', kv(r.notAccepted)],
    ['connect attempts (retries included)', String(r.connectAttempts)],
    ['TCP listen overflows (machine)', String(r.listenOverflows)],
    ['process A (killed), at the kill', proc(r.killed)],
    ['process B (survivor), at the end', proc(r.survivor)],
    ['Redis used_memory before / connected / end', `${mib(r.redis.baseline.usedMemory)} / ${mib(r.redis.connected.usedMemory)} / ${mib(r.redis.end.usedMemory)}`],
    ['Redis memory per session (connected)', `${r.redis.bytesPerSession} B`],
    ['load average before / after', `${r.loadAvg.before.join(' ')} / ${r.loadAvg.after.join(' ')}`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

/** Write the report as JSON and/or Markdown ('' = not). */
export function writeFailover(r: FailoverReport, json: string, md: string): void {
  if (json) writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  const m = r.machine;
  const fence = '```';
  if (md) writeFileSync(md, `# failover storm — ${r.pass ? 'PASS' : 'FAIL'}\n\n${fence}sh\n${r.command}\n${fence}\n\nStarted ${r.startedAt}. Machine: ${m.nproc} × ${m.cpu}, ${m.memTotalGiB} GiB, node ${m.node}.\n\n${fence}\n${renderFailover(r)}\n${fence}\n`);
}
