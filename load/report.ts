import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type hdr from 'hdr-histogram-js';
import type { FuzzSummary } from './fuzz.js';
import type { ProcSummary } from './proc-stats.js';
import { scaleRows, type ScaleSummary } from './scale.js';
import type { Check } from './scenarios.js';
import type { MergedStats } from './stats.js';
import type { TimelineSample } from './timeline.js';
import type { Spread } from './types.js';

/** The machine a run happened on. */
export interface MachineInfo {
  nproc: number;
  cpu: string;
  memTotalGiB: number;
  freeH: string;
  node: string;
  kernel: string;
  openFilesLimit: string;
}

/** How the run was set up (what the report's numbers are about). */
export interface RunSetup {
  via: 'nginx' | 'direct' | 'target';
  target: string;
  clients: { total: number; v3: number; v2: number };
  workers: number;
  /** v3 clients per room (v2 clients all share the adapter's default room). */
  roomSize: number;
  sourceAddresses: string[];
  /** Seconds the measured phase really lasted (idle, chat traffic + drain, storm + drain; control ends early). */
  idleSeconds: number;
  /** Our gateway's liveness settings; undefined with --target. */
  gateway?: { pingInterval: number; pingTimeout: number; heartbeatInterval: number };
  nginx?: { proxyReadTimeout: string; workerProcesses: number; workerConnections: number; workerRlimitNofile: number };
}

const pct = (h: hdr.Histogram, p: number): number => (h.totalCount ? h.getValueAtPercentile(p) : 0);

/** The full report: printed as a table, written as JSON with --json. */
export interface Report {
  scenario: string;
  pass: boolean;
  checks: Check[];
  command: string;
  startedAt: string;
  wallSeconds: number;
  machine: MachineInfo;
  setup: RunSetup;
  connections: {
    opened: number;
    /** Failed attempts, retries included. */
    failed: number;
    neverConnected: number;
    failReasons: Record<string, number>;
    /** Machine-wide TCP listen-queue overflows during the run (TcpExt ListenOverflows): SYNs a full accept queue dropped. */
    listenOverflows: number;
  };
  closes: {
    expected: number;
    unexpected: number;
    byCode: Record<string, number>;
    bySinceOpen: Record<string, number>;
    sinceOpenMs: { min: number; p50: number; max: number };
    sinceLastRxMs: { min: number; p50: number; max: number };
  };
  liveness: {
    pingsPerClient: { v3: SpreadOut; v2: SpreadOut };
    heartbeatsReceived: number;
    heartbeatsSent: number;
    acksSent: number;
  };
  messages: { sent: number; received: number; lost: number; duplicated: number; outOfOrder: number; seqGaps: number; seqDuplicates: number };
  latencyMs: { count: number; p50: number; p99: number; p999: number; max: number };
  resumes: Record<string, number>;
  replayed: number;
  gateway: ProcSummary | null;
  errors: Record<string, number>;
  /** fuzz scenario only: what the hostile clients sent, /healthz under attack, RSS before and after. */
  fuzz?: FuzzSummary;
  /** --redis runs: every gateway process, Redis memory and commands, load average (load/scale.ts). */
  scale?: ScaleSummary;
  /** One sample per second (the HTML report's charts); absent in reports written before it existed. */
  timeline?: TimelineSample[];
}

/** A per-client count summarised over clients. */
export interface SpreadOut {
  clients: number;
  min: number;
  avg: number;
  max: number;
}

function spreadOut(s: Spread): SpreadOut {
  return { clients: s.clients, min: s.clients ? s.min : 0, avg: s.clients ? round(s.sum / s.clients, 1) : 0, max: s.max };
}

/** `n` rounded to `digits` decimals. */
export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function minMax(h: hdr.Histogram): { min: number; p50: number; max: number } {
  return h.totalCount ? { min: h.minNonZeroValue, p50: pct(h, 50), max: h.maxValue } : { min: 0, p50: 0, max: 0 };
}

/** TcpExt ListenOverflows from /proc/net/netstat (machine-wide), or 0 where unavailable. */
export function listenOverflows(): number {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = lines[i]!.split(/\s+/);
      const at = names.indexOf('ListenOverflows');
      if (at > 0) return Number(lines[i + 1]!.split(/\s+/)[at]);
    }
  } catch {
    /* not Linux */
  }
  return 0;
}

/** Describe this machine (what `nproc`, `free -h` and `node -v` say). */
export function machineInfo(): MachineInfo {
  let freeH = '';
  let nofile = '';
  try {
    freeH = execFileSync('free', ['-h'], { encoding: 'utf8' }).trim();
    nofile = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  } catch {
    /* not Linux: leave empty */
  }
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memTotalGiB: round(os.totalmem() / 2 ** 30, 1),
    freeH,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    openFilesLimit: nofile,
  };
}

/** Assemble the report (checks are filled in by the scenario afterwards). */
export function buildReport(base: Pick<Report, 'scenario' | 'command' | 'startedAt' | 'wallSeconds' | 'machine' | 'setup'>,
  merged: MergedStats, gateway: ProcSummary | null): Report {
  const s = merged.stats;
  const lat = merged.latency;
  const us = (v: number): number => round(v / 1000, 3);
  return {
    ...base,
    pass: false,
    checks: [],
    connections: { opened: s.opened, failed: s.failed, neverConnected: s.neverConnected, failReasons: s.failReasons, listenOverflows: 0 },
    closes: {
      expected: s.expectedCloses,
      unexpected: s.unexpectedCloses,
      byCode: s.closesByCode,
      bySinceOpen: s.closesBySinceOpen,
      sinceOpenMs: minMax(merged.closeSinceOpen),
      sinceLastRxMs: minMax(merged.closeSinceRx),
    },
    liveness: {
      pingsPerClient: { v3: spreadOut(s.pingsV3), v2: spreadOut(s.pingsV2) },
      heartbeatsReceived: s.heartbeatsReceived,
      heartbeatsSent: s.heartbeatsSent,
      acksSent: s.acksSent,
    },
    messages: { ...s.messages, seqGaps: s.seq.gaps, seqDuplicates: s.seq.duplicated },
    latencyMs: { count: lat.totalCount, p50: us(pct(lat, 50)), p99: us(pct(lat, 99)), p999: us(pct(lat, 99.9)), max: us(lat.maxValue) },
    resumes: s.resumes,
    replayed: s.replayed,
    gateway: gateway ? { ...gateway, rssMiB: round(gateway.rssMiB, 1), peakRssMiB: round(gateway.peakRssMiB, 1), avgCpuPct: round(gateway.avgCpuPct, 1), peakCpuPct: round(gateway.peakCpuPct, 1) } : null,
    errors: s.errors,
  };
}

const kv = (rec: Record<string, number>): string => Object.entries(rec).map(([k, v]) => `${k}: ${v}`).join(', ') || '-';

/** The table printed at the end of a run. */
export function renderTable(r: Report): string {
  const st = r.setup;
  const rows: [string, string][] = [
    ['scenario', `${r.scenario} — ${r.pass ? 'PASS' : 'FAIL'}`],
    ['path', st.via === 'target' ? `target ${st.target}` : st.via === 'nginx' ? 'clients → nginx → gateway' : 'clients → gateway'],
    ['nginx proxy_read_timeout', st.nginx ? st.nginx.proxyReadTimeout : st.via === 'target' ? 'unknown (external target)' : 'n/a (direct)'],
    ['nginx workers × connections', st.nginx ? `${st.nginx.workerProcesses} × ${st.nginx.workerConnections} (rlimit ${st.nginx.workerRlimitNofile})` : '-'],
    ['gateway liveness', st.gateway ? `ping ${st.gateway.pingInterval} s / timeout ${st.gateway.pingTimeout} s, heartbeat ${st.gateway.heartbeatInterval} s` : 'unknown (external target)'],
    ['clients', `${st.clients.total} (v3 ${st.clients.v3} in rooms of ${st.roomSize}, v2 ${st.clients.v2}) in ${st.workers} workers from ${st.sourceAddresses.length || 'default'} source addresses`],
    ['measured phase', `${st.idleSeconds} s (wall ${r.wallSeconds} s)`],
    ['connections opened / failed attempts', `${r.connections.opened} / ${r.connections.failed}${r.connections.failed ? ` (${kv(r.connections.failReasons)})` : ''}`],
    ['clients never connected', String(r.connections.neverConnected)],
    ['TCP listen overflows (machine)', String(r.connections.listenOverflows)],
    ['closes expected / unexpected', `${r.closes.expected} / ${r.closes.unexpected}`],
    ['unexpected closes by code', kv(r.closes.byCode)],
    ['unexpected closes by time since open', kv(r.closes.bySinceOpen)],
    ['  since open (min/p50/max)', msTriple(r.closes.sinceOpenMs)],
    ['  since last frame (min/p50/max)', msTriple(r.closes.sinceLastRxMs)],
    ['ping frames per v3 client', spreadText(r.liveness.pingsPerClient.v3)],
    ['ping frames per v2 client', spreadText(r.liveness.pingsPerClient.v2)],
    ['system/heartbeat received', String(r.liveness.heartbeatsReceived)],
    ['client/heartbeat sent / client/ack sent', `${r.liveness.heartbeatsSent} / ${r.liveness.acksSent}`],
    ['messages sent / received', `${r.messages.sent} / ${r.messages.received}`],
    ['lost / duplicated / out of order', `${r.messages.lost} / ${r.messages.duplicated} / ${r.messages.outOfOrder}`],
    ['seq gaps / repeated seq', `${r.messages.seqGaps} / ${r.messages.seqDuplicates}`],
    ['latency ms p50 / p99 / p99.9 / max', r.latencyMs.count ? `${r.latencyMs.p50} / ${r.latencyMs.p99} / ${r.latencyMs.p999} / ${r.latencyMs.max} (n=${r.latencyMs.count})` : '-'],
    ['resumes', `${kv(r.resumes)}; replayed ${r.replayed}`],
    ['gateway RSS now / peak', r.gateway ? `${r.gateway.rssMiB} / ${r.gateway.peakRssMiB} MiB` : '-'],
    ['gateway CPU avg / peak', r.gateway ? `${r.gateway.avgCpuPct} % / ${r.gateway.peakCpuPct} % of one core` : '-'],
    ['errors (clients, nginx, gateway log)', kv(r.errors)],
    ...fuzzRows(r.fuzz),
    ...scaleRows(r.scale),
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
  const checks = r.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`);
  return [...lines, '', ...checks].join('\n');
}

function fuzzRows(f: FuzzSummary | undefined): [string, string][] {
  if (!f) return [];
  const h = f.hostile;
  return [
    ['hostile lanes (ws / http) × workers', `${h.wsLanes} / ${h.httpLanes} in ${h.workers} processes, ${h.seconds} s`],
    ['hostile frames / HTTP requests', `${h.frames} / ${h.httpRequests} (${h.connections} WebSocket connections)`],
    ['hostile closes by code', kv(h.closes)],
    ['hostile HTTP answers', kv(h.statuses)],
    ['/healthz under attack', `${f.health.samples} samples, ${f.health.failed} failed, p99 ${f.health.p99Ms} ms, max ${f.health.maxMs} ms`],
    ['gateway RSS baseline / peak / after', `${f.rss.baselineMiB} / ${f.rss.peakMiB} / ${f.rss.afterMiB} MiB (${f.rss.beforeGcMiB} MiB before a full GC)`],
    ['gateway heap after GC, in use / reserved', `before ${f.heap.baselineMiB} / ${f.heap.reservedBaselineMiB} MiB, after ${f.heap.afterMiB} / ${f.heap.reservedAfterMiB} MiB`],
    ['gateway external memory after GC', `before ${f.heap.externalBaselineMiB ?? 0} MiB, after ${f.heap.externalAfterMiB ?? 0} MiB`],
  ];
}

function msTriple(t: { min: number; p50: number; max: number }): string {
  return t.max ? `${(t.min / 1000).toFixed(2)} / ${(t.p50 / 1000).toFixed(2)} / ${(t.max / 1000).toFixed(2)} s` : '-';
}

function spreadText(s: SpreadOut): string {
  return s.clients ? `min ${s.min}, avg ${s.avg}, max ${s.max} (${s.clients} clients)` : '-';
}

/** The report as Markdown: the command, the machine, the table and the checks (what load/results/*.md hold). */
export function renderMarkdown(r: Report): string {
  const m = r.machine;
  return `# ${r.scenario} — ${r.pass ? 'PASS' : 'FAIL'}

\`\`\`sh
${r.command}
\`\`\`

Started ${r.startedAt}, ${r.wallSeconds} s wall. Machine: ${m.nproc} × ${m.cpu}, ${m.memTotalGiB} GiB, node ${m.node}, ${m.kernel}, open files ${m.openFilesLimit}.

\`\`\`
${renderTable(r)}
\`\`\`
`;
}
