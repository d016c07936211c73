import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadArgs } from './args.js';
import { startNginx, nginxSizing, type NginxHandle } from './nginx.js';
import { startGatewayChild, startWorker, stopChild, type GatewayChild, type WorkerChild } from './processes.js';
import { ProcSampler } from './proc-stats.js';
import { ProcGroupSampler } from './proc-group.js';
import { startRedisServer, useRedis, type RedisServer } from './redis-server.js';
import { FD_BUDGET, ScaleProbe, scaleChecks } from './scale.js';
import { bothViews, lineView, liveView, type LiveView } from './progress.js';
import { runFuzz, type FuzzSummary } from './fuzz.js';
import { Publisher } from './publisher.js';
import { buildReport, listenOverflows, machineInfo, type Report, type RunSetup } from './report.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { mergeStats } from './stats.js';
import { Timeline } from './timeline.js';
import type { FromWorker, Progress, WorkerConfig, WorkerStats } from './types.js';

/** Clients per worker process by default: well under the per-process open-file limit, and spreads CPU. */
const CLIENTS_PER_WORKER = 2500;
/** Clients per source address (each 127.0.0.x has its own ~28k ephemeral ports). */
const CLIENTS_PER_ADDRESS = 5000;
const STORM_CHANNEL = 'load-storm';
/** --redis: seconds between "all connected" and the start of the measured phase (clients ack once a second). */
const SETTLE_SECONDS = 10;
/** fuzz: the bystanders' room; the hostile clients pick theirs from another pool. */
const FUZZ_ROOM = 'fuzz-bystanders';


/** Everything a run started, so it can all be stopped — at the end, on failure and on Ctrl-C. */
export class Resources {
  gateway?: GatewayChild;
  sampler?: ProcSampler;
  /** --redis: the gateway's processes (the `--workers` primary and its workers) and the Redis they share. */
  group?: ProcGroupSampler;
  redis?: RedisServer;
  nginx?: NginxHandle;
  workers: WorkerChild[] = [];
  publisher?: Publisher;
  view?: LiveView;

  /** Stop everything; safe to call more than once. */
  async stopAll(): Promise<void> {
    this.view?.stop();
    this.publisher?.stop();
    this.sampler?.stop();
    this.group?.stop();
    await Promise.all(this.workers.map((w) => stopChild(w.child, 2000)));
    await this.nginx?.stop();
    // A --workers primary drains its workers on SIGTERM: give 100,000 connections time to close.
    if (this.gateway) await stopChild(this.gateway.child, this.redis ? 60_000 : 5000);
    await this.redis?.stop();
  }
}

/** Where clients connect, and what the report says about the path. */
interface Endpoints {
  v3Url: string;
  v2Url: string;
  httpBase: string;
  setup: Pick<RunSetup, 'via' | 'target' | 'gateway' | 'nginx'>;
}

async function startTargets(args: LoadArgs, sc: Scenario, res: Resources): Promise<Endpoints> {
  if (args.target) {
    const httpBase = args.target.replace(/^ws/, 'http');
    return { v3Url: `${args.target}/api/ws`, v2Url: `${args.target}/ws`, httpBase, setup: { via: 'target', target: args.target } };
  }
  if (args.redis) res.redis = args.redis === 'start' ? await startRedisServer() : await useRedis(args.redis);
  // The workers accept from their shared socket (SCHED_NONE, src/cluster/primary.ts): a busy one takes fewer, so
  // the counts are uneven. Past FD_BUDGET a process refuses (503) and the client's retry lands elsewhere,
  // instead of the process running out of open files (20,000 here).
  const cluster = args.gatewayProcesses > 1 ? { workers: String(args.gatewayProcesses), maxConnections: FD_BUDGET - 1000 } : {};
  const scaleOut = res.redis ? { redis: res.redis.url, ...cluster } : {};
  res.gateway = await startGatewayChild({ ...sc.gateway, ...(args.sessionTtl ? { sessionTtl: args.sessionTtl } : {}), ...scaleOut }, res.redis ? 120_000 : 20_000);
  if (res.redis) res.group = new ProcGroupSampler(res.gateway.child.pid ?? 0);
  else res.sampler = new ProcSampler(res.gateway.child.pid ?? 0);
  const o = res.gateway.options;
  const gateway = { pingInterval: o.pingInterval, pingTimeout: o.pingTimeout, heartbeatInterval: o.heartbeatInterval };
  if (args.via === 'direct') {
    const base = `ws://127.0.0.1:${res.gateway.port}`;
    return { v3Url: `${base}/api/ws`, v2Url: `${base}/ws`, httpBase: base.replace('ws', 'http'), setup: { via: 'direct', target: '', gateway } };
  }
  const sizing = nginxSizing(args.clients);
  res.nginx = await startNginx({ upstreamPort: res.gateway.port, ...sizing });
  const n = res.nginx;
  return {
    v3Url: `${n.url}/api/ws`,
    v2Url: `${n.url}/ws`,
    httpBase: n.httpUrl,
    setup: { via: 'nginx', target: '', gateway, nginx: { proxyReadTimeout: n.proxyReadTimeout, ...sizing } },
  };
}

/** Client processes: --workers, or one per 2,500 clients. */
function workerCount(args: LoadArgs): number {
  return args.workers || Math.max(1, Math.ceil(args.clients / CLIENTS_PER_WORKER));
}

/** Source addresses: at least one per 5,000 clients, and one per worker, so each worker has its own address. */
function sourceAddresses(args: LoadArgs): string[] {
  const host = args.target ? new URL(args.target).hostname : '127.0.0.1';
  if (!/^127\.|^localhost$/.test(host)) return [];
  // 127.0.0.100–119 are the fuzz scenario's hostile lanes (--workers is at most 64).
  const n = Math.min(98, Math.max(workerCount(args), Math.ceil(args.clients / CLIENTS_PER_ADDRESS)));
  return Array.from({ length: n }, (_, i) => `127.0.0.${i + 2}`);
}

/** Split N clients (and their v2 share) over the workers. */
function workerConfigs(args: LoadArgs, sc: Scenario, ep: Endpoints, addrs: string[]): WorkerConfig[] {
  const workers = workerCount(args);
  const v2Total = Math.round(args.clients * args.v2Share);
  const out: WorkerConfig[] = [];
  let first = 0;
  let v2Given = 0;
  for (let w = 0; w < workers; w++) {
    const count = Math.floor(((w + 1) * args.clients) / workers) - first;
    const v2 = Math.round(((first + count) * v2Total) / args.clients) - v2Given;
    out.push({
      workerId: w,
      v3Url: ep.v3Url,
      v2Url: ep.v2Url,
      firstIndex: first,
      v3Count: count - v2,
      v2Count: v2,
      // Worker w gets addresses w, w + workers, …: its own, never shared with another worker.
      localAddresses: addrs.filter((_, i) => i % workers === w),
      connectRate: args.connectRate / workers,
      roomSize: args.roomSize,
      room: sc.mode === 'chat' ? 'main' : sc.mode === 'fuzz' ? FUZZ_ROOM : undefined,
      mode: sc.mode,
      msgRate: args.rate,
      channel: STORM_CHANNEL,
      password: args.password,
    });
    first += count;
    v2Given += v2;
  }
  return out;
}

/** An all-zero progress snapshot. */
export function emptyProgress(): Progress {
  return { opened: 0, failed: 0, open: 0, unexpectedCloses: 0, received: 0, sent: 0, resumed: 0, expectedCloses: 0, pings: 0, heartbeatsSent: 0, heartbeatsReceived: 0, latencyWindow: '' };
}

type Counter = Exclude<keyof Progress, 'latencyWindow'>;
const COUNTERS = Object.keys(emptyProgress()).filter((k): k is Counter => k !== 'latencyWindow');

/** Collects what the workers report and lets the run wait for "all workers said X". */
class WorkerBoard {
  readonly progress = new Map<number, Progress>();
  readonly finals = new Map<number, WorkerStats>();
  readonly sent: Record<string, number> = {};
  /** Latency windows received since the timeline last took them. */
  latencyWindows: string[] = [];
  ramped = new Set<number>();
  sentFrom = new Set<number>();

  onMessage = (m: FromWorker): void => {
    if (m.type === 'progress') {
      this.progress.set(m.workerId, m.progress);
      if (m.progress.latencyWindow) this.latencyWindows.push(m.progress.latencyWindow);
    }
    else if (m.type === 'ramped') this.ramped.add(m.workerId);
    else if (m.type === 'sent') {
      Object.assign(this.sent, m.sentBySender);
      this.sentFrom.add(m.workerId);
    } else if (m.type === 'final') this.finals.set(m.workerId, m.stats);
  };

  total(): Progress {
    const t = emptyProgress();
    for (const p of this.progress.values()) for (const k of COUNTERS) t[k] += p[k];
    return t;
  }

  /** The summed progress and the latency windows since the last call (for the timeline). */
  takeSample(): { total: Progress; latencyWindows: string[] } {
    const latencyWindows = this.latencyWindows;
    this.latencyWindows = [];
    return { total: this.total(), latencyWindows };
  }
}

async function waitFor(cond: () => boolean, timeoutMs: number, tick?: () => void): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    tick?.();
    await sleep(250);
  }
  return true;
}

/** Wait `seconds`, updating the view; stop early when `until` says so. */
async function phase(view: LiveView, board: WorkerBoard, name: string, seconds: number, until?: () => boolean): Promise<void> {
  const start = Date.now();
  view.phase(name, Math.ceil(seconds));
  await waitFor(() => Date.now() - start >= seconds * 1000 || (until?.() ?? false), seconds * 1000 + 1000, () =>
    view.update(Math.floor((Date.now() - start) / 1000), board.total()),
  );
}

/** fuzz: bystanders chat (acked) and receive a channel while the hostile workers attack; returns the last offset. */
async function measureFuzz(args: LoadArgs, res: Resources, board: WorkerBoard, httpBase: string): Promise<{ lastOffset: number; fuzz: FuzzSummary }> {
  const view = res.view!;
  await sleep(1000); // let every channel/subscribe land before the first publish
  res.publisher = new Publisher(httpBase, STORM_CHANNEL, args.publishRate, args.apiKey);
  res.workers.forEach((w) => w.send({ type: 'traffic', on: true }));
  await phase(view, board, 'baseline', 3);
  view.phase('fuzz', Math.ceil(args.duration));
  const start = Date.now();
  // Over Redis (one process, see args.ts) the report samples the process group; the fuzz reads that one process.
  const sampler = res.sampler ?? (res.gateway ? new ProcSampler(res.gateway.child.pid ?? 0) : undefined);
  const fuzz = await runFuzz(
    { port: res.gateway?.port ?? 0, maxPayload: res.gateway?.options.maxPayload ?? 65536, lanes: args.hostile, seconds: args.duration,
      frameTarget: args.fuzzFrames, requestTarget: args.fuzzRequests, settleSeconds: (res.gateway?.options.sessionTtl ?? 0) + 3, localAddresses: Array.from({ length: 20 }, (_, i) => `127.0.0.${100 + i}`) },
    sampler, res.gateway?.child, () => view.update(Math.floor((Date.now() - start) / 1000), board.total()),
  );
  if (sampler !== res.sampler) sampler?.stop();
  res.workers.forEach((w) => w.send({ type: 'traffic', on: false }));
  await waitFor(() => board.sentFrom.size === res.workers.length, 10_000);
  const lastOffset = await res.publisher.stop();
  await phase(view, board, 'drain', 2);
  return { lastOffset, fuzz };
}

/** The middle of the run: what the clients do once they are all up. */
async function measure(args: LoadArgs, sc: Scenario, res: Resources, board: WorkerBoard, httpBase: string): Promise<number> {
  const view = res.view!;
  if (sc.mode === 'chat') {
    res.workers.forEach((w) => w.send({ type: 'traffic', on: true }));
    await phase(view, board, 'chat', args.duration);
    res.workers.forEach((w) => w.send({ type: 'traffic', on: false }));
    await waitFor(() => board.sentFrom.size === res.workers.length, 10_000);
    await phase(view, board, 'drain', 2);
    return 0;
  }
  if (sc.mode === 'storm') {
    await sleep(1000); // let every channel/subscribe land before the first publish
    res.publisher = new Publisher(httpBase, STORM_CHANNEL, args.publishRate, args.apiKey);
    await phase(view, board, 'steady', args.duration * 0.3);
    res.workers.forEach((w) => w.send({ type: 'drop', share: args.dropShare }));
    await phase(view, board, 'storm', args.duration * 0.7);
    const lastOffset = await res.publisher.stop();
    await phase(view, board, 'drain', 2);
    return lastOffset;
  }
  const until = sc.endWhenAllClosed ? () => board.total().open === 0 && board.progress.size === res.workers.length : undefined;
  await phase(view, board, 'idle', args.duration, until);
  return 0;
}

/** nginx error-log lines at [error] or worse, grouped by message with addresses and numbers masked. */
function summarizeNginxLog(log: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of log.split('\n')) {
    const m = /\[(error|crit|alert|emerg)\] \d+#\d+: (?:\*\d+ )?([^,]*)/.exec(line);
    if (!m) continue;
    const key = `${m[1]} ${m[2]!.replace(/\d+(\.\d+)*(:\d+)?/g, 'N')}`.slice(0, 100);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** Run one scenario end to end and return its report (the caller prints it and picks the exit code). */
export async function runScenario(args: LoadArgs, res: Resources, argv: string[]): Promise<Report> {
  const sc = SCENARIOS[args.scenario];
  const startedAt = new Date();
  const machine = machineInfo();
  const overflowsBefore = listenOverflows();
  const ep = await startTargets(args, sc, res);
  const probe = res.redis && res.group ? new ScaleProbe(res.redis, res.group, args.gatewayProcesses) : undefined;
  await probe?.mark(0);
  const addrs = sourceAddresses(args);
  const configs = workerConfigs(args, sc, ep, addrs);
  const board = new WorkerBoard();
  const timeline = new Timeline({
    progress: () => board.takeSample(),
    sampler: res.group ?? res.sampler,
    metricsUrl: res.gateway ? `http://127.0.0.1:${res.gateway.port}/metrics` : undefined,
  });
  const bar = bothViews(liveView(), args.progress > 0 ? lineView(args.progress, args.clients) : undefined);
  res.view = { ...bar, phase: (name, total) => (timeline.mark(name), bar.phase(name, total)) };
  res.workers = configs.map((config) => {
    const w = startWorker(board.onMessage);
    w.send({ type: 'start', config });
    return w;
  });
  res.view.phase('connect', args.clients);
  // A saturated machine connects slower than asked: leave half as much again, and a minute.
  const rampMs = (args.clients / args.connectRate) * 1500 + 60_000;
  await waitFor(() => board.ramped.size === configs.length, rampMs, () => {
    const t = board.total();
    res.view!.update(t.opened + t.failed, t);
  });
  if (probe) {
    // Let the first acks trim the hello frames out of the Redis buffers: "while idle" starts settled.
    await phase(res.view, board, 'settle', SETTLE_SECONDS);
    await probe.mark(board.total().open);
  }
  const measureStart = Date.now();
  let fuzz: FuzzSummary | undefined;
  let lastOffset: number;
  if (sc.mode === 'fuzz') ({ lastOffset, fuzz } = await measureFuzz(args, res, board, ep.httpBase));
  else lastOffset = await measure(args, sc, res, board, ep.httpBase);
  const measuredSeconds = Math.round((Date.now() - measureStart) / 100) / 10;
  await probe?.mark(board.total().open);
  res.view.stop();
  const samples = timeline.stop();
  res.workers.forEach((w) => w.send({ type: 'finish', lastOffset, sentBySender: board.sent }));
  await waitFor(() => board.finals.size === configs.length, 30_000);
  const scale = probe?.summary();
  const gateway = res.sampler?.stop() ?? res.group?.read().total ?? null;
  const nginxErrors = summarizeNginxLog(res.nginx?.errorLog() ?? '');
  const setup: RunSetup = {
    ...ep.setup,
    clients: { total: args.clients, v3: configs.reduce((a, c) => a + c.v3Count, 0), v2: configs.reduce((a, c) => a + c.v2Count, 0) },
    workers: configs.length,
    roomSize: args.roomSize,
    sourceAddresses: addrs,
    idleSeconds: measuredSeconds,
  };
  const wallSeconds = Math.round((Date.now() - startedAt.getTime()) / 100) / 10;
  const base = { scenario: sc.name, command: `npm run load -- ${argv.join(' ')}`, startedAt: startedAt.toISOString(), wallSeconds, machine, setup };
  const report = buildReport(base, mergeStats([...board.finals.values()]), gateway);
  if (board.finals.size < configs.length) report.errors.missing_worker_reports = configs.length - board.finals.size;
  for (const [k, v] of Object.entries(nginxErrors)) report.errors[`nginx: ${k}`] = v;
  for (const [k, v] of Object.entries(res.gateway?.logCounts ?? {})) report.errors[`gateway log: ${k}`] = v;
  if (fuzz) report.fuzz = fuzz;
  if (scale) report.scale = scale;
  if (res.publisher) {
    // In the storm the backend is the sender: what it published is what "sent" means (fuzz: the chat lines are).
    if (!fuzz) report.messages.sent = res.publisher.published;
    for (const [k, v] of Object.entries(res.publisher.failures)) report.errors[`publish: ${k}`] = v;
  }
  report.connections.listenOverflows = listenOverflows() - overflowsBefore;
  report.timeline = samples;
  report.checks = [...sc.checks(report), ...scaleChecks(scale, sc.mode === 'fuzz' ? 'attacked' : sc.mode === 'idle' ? 'idle' : 'traffic')];
  report.pass = report.checks.every((c) => c.ok) && board.finals.size === configs.length;
  return report;
}
