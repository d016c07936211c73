/**
 * The five bench scenarios, each against one fresh server process and its own client processes (one source address
 * 127.0.0.x each, at most `perWorker` connections per process). Every scenario returns flat named figures.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpuMs, ProcSampler } from '../proc-stats.js';
import { addEncoded, newHistogram } from '../stats.js';
import type { WorkerCommand, WorkerReply } from './client-worker.js';
import type { BenchKind, ServerCommand, ServerReply } from './servers.js';

/** Sizes of one bench run (all flags of run.ts). */
export interface BenchSizes {
  idle: number;
  fanoutClients: number;
  fanoutMessages: number;
  echoClients: number;
  echoSeconds: number;
  /** Client processes the echo clients are spread over (the clients must not be the limit). */
  echoWorkers: number;
  /** Client processes of the join (each reads a system/init and the room's presence per client). */
  joinWorkers: number;
  join: number;
  joinRate: number;
  storm: number;
  /** Connections per client process. */
  perWorker: number;
}

/** The bench's scenario names. */
export type ScenarioName = 'idle' | 'fanout' | 'echo' | 'join' | 'storm';

/** Named figures of one scenario against one server. */
export type Figures = Record<string, number>;

const nowMs = (): number => performance.timeOrigin + performance.now();
const round = (v: number, d = 1): number => Math.round(v * 10 ** d) / 10 ** d;

/** A child process answering one reply per command, in order. */
export class Child<C, R extends { type: string }> {
  private readonly queue: ((r: R) => void)[] = [];
  constructor(readonly proc: ChildProcess, onFirst?: (r: R) => void) {
    if (onFirst) this.queue.push(onFirst);
    proc.on('message', (m: R) => this.queue.shift()?.(m));
  }
  ask(cmd: C): Promise<R> {
    return new Promise((resolve, reject) => {
      this.queue.push((r) => (r.type === 'error' ? reject(new Error((r as unknown as { message: string }).message)) : resolve(r)));
      this.proc.send(cmd as object);
    });
  }
}

/** A bench server process and its port. */
export type Server = Child<ServerCommand, ServerReply> & { port: number };
/** A bench client process. */
export type Worker = Child<WorkerCommand, WorkerReply>;

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));

/** Extra node flags for the server processes, e.g. `WSGATE_BENCH_SERVER_ARGS=--cpu-prof` to profile them. */
const serverArgs = (process.env.WSGATE_BENCH_SERVER_ARGS ?? '').split(' ').filter((a) => a.length > 0);

function startServer(kind: BenchKind): Promise<Server> {
  const proc = fork(here('./servers.js'), [kind], { execArgv: ['--expose-gc', ...serverArgs], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    proc.once('exit', (c) => reject(new Error(`${kind} server exited (${c})`)));
    const s = new Child<ServerCommand, ServerReply>(proc, (r) => {
      if (r.type === 'ready') resolve(Object.assign(s, { port: r.port }));
    });
  });
}

/** `n` bench client processes. */
export function startWorkers(n: number): Worker[] {
  return Array.from({ length: n }, () => new Child<WorkerCommand, WorkerReply>(fork(here('./client-worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })));
}

/** Fresh server + workers for one scenario (or the heap breakdown); everything is killed afterwards. */
export async function withSetup<T>(kind: BenchKind, clients: number, perWorker: number, body: (s: Server, ws: Worker[]) => Promise<T>): Promise<T> {
  const server = await startServer(kind);
  const workers = startWorkers(Math.max(1, Math.ceil(clients / perWorker)));
  try {
    return await body(server, workers);
  } finally {
    for (const w of workers) w.proc.kill();
    server.proc.kill();
  }
}

/**
 * Split `total` connections over the workers and connect them; returns the merged reply. With several `ports`
 * (one gateway process each), worker i talks to ports[i % ports.length].
 */
export async function connectAll(kind: BenchKind, ports: number | readonly number[], ws: Worker[], total: number, opts: { room: 'own' | 'default'; subscribe: boolean; rate?: number }) {
  const per = Math.ceil(total / ws.length);
  const portOf = (i: number): number => (typeof ports === 'number' ? ports : ports[i % ports.length]!);
  const replies = await Promise.all(ws.map((w, i) => w.ask({
    cmd: 'connect', kind, port: portOf(i), count: Math.max(0, Math.min(per, total - i * per)), localAddress: `127.0.0.${i + 2}`,
    room: opts.room, subscribe: opts.subscribe, rate: (opts.rate ?? 0) / ws.length, parallel: 200, idBase: i * per,
  })));
  const hist = newHistogram();
  let ok = 0;
  let failed = 0;
  let firstStart = Infinity;
  let lastStart = 0;
  let lastReady = 0;
  for (const r of replies) {
    if (r.type !== 'connected') continue;
    if (r.firstError !== undefined) process.stderr.write(`  ${kind}: ${r.failed} connections failed, first error: ${r.firstError}\n`);
    addEncoded(hist, r.hist);
    ok += r.ok;
    failed += r.failed;
    firstStart = Math.min(firstStart, r.firstStart);
    lastStart = Math.max(lastStart, r.lastStart);
    lastReady = Math.max(lastReady, r.lastReady);
  }
  // Arrival rate: connections started per second over the run (the clients pace themselves at --join-rate).
  return { ok, failed, hist, seconds: (lastReady - firstStart) / 1000, startsPerSec: total > 1 ? (total - 1) / ((lastStart - firstStart) / 1000) : 0 };
}

async function mem(s: Server): Promise<{ heap: number; rss: number }> {
  const r = await s.ask({ cmd: 'mem' });
  return r.type === 'mem' ? r : { heap: 0, rss: 0 };
}

/** Memory kept per idle connection after GC: hello done, subscribed to one channel, own rooms. */
export function idle(kind: BenchKind, z: BenchSizes): Promise<Figures> {
  return withSetup(kind, z.idle, z.perWorker, async (s, ws) => {
    const before = await mem(s);
    const c = await connectAll(kind, s.port, ws, z.idle, { room: 'own', subscribe: true });
    await new Promise((r) => setTimeout(r, 2000)); // acks flushed, handshake garbage collectable
    const after = await mem(s);
    return { connected: c.ok, heapKiB: round((after.heap - before.heap) / c.ok / 1024, 2), rssKiB: round((after.rss - before.rss) / c.ok / 1024, 2) };
  });
}

/** K messages to every subscriber: deliveries/s, latency from the server's send stamp, longest loop block. */
export function fanout(kind: BenchKind, z: BenchSizes): Promise<Figures> {
  return withSetup(kind, z.fanoutClients, z.perWorker, async (s, ws) => {
    const c = await connectAll(kind, s.port, ws, z.fanoutClients, { room: 'own', subscribe: true });
    await Promise.all(ws.map((w) => w.ask({ cmd: 'fanout-arm', perClient: z.fanoutMessages })));
    // The loop figure checked against a known 100 ms synchronous block: it must read ≥ 100.
    await s.ask({ cmd: 'loop-reset' });
    await s.ask({ cmd: 'block', ms: 100 });
    const check = await s.ask({ cmd: 'loop' });
    // The same figure over a quiet second first: on a shared machine the OS alone delays timers (the baseline).
    await s.ask({ cmd: 'loop-reset' });
    await new Promise((r) => setTimeout(r, 1000));
    const quiet = await s.ask({ cmd: 'loop' });
    await s.ask({ cmd: 'loop-reset' });
    const start = nowMs();
    await s.ask({ cmd: 'fanout', n: z.fanoutMessages });
    const replies = await Promise.all(ws.map((w) => w.ask({ cmd: 'fanout-wait', timeoutMs: 120_000 })));
    const loop = await s.ask({ cmd: 'loop' });
    const hist = newHistogram();
    let delivered = 0;
    let last = 0;
    for (const r of replies) if (r.type === 'fanout') (addEncoded(hist, r.hist), (delivered += r.delivered), (last = Math.max(last, r.lastAt)));
    return {
      expected: c.ok * z.fanoutMessages, delivered, deliveriesPerSec: Math.round(delivered / ((last - start) / 1000)),
      p50Ms: hist.getValueAtPercentile(50) / 1000, p99Ms: hist.getValueAtPercentile(99) / 1000,
      ...loopFigures(loop, quiet, check),
    };
  });
}

/**
 * The fan-out's loop figures: longest block and blocks over 10 ms (1 ms timer gaps), the same over a quiet second
 * before, a known 100 ms block as read (the check), perf_hooks' reading for comparison, the longest GC pause, and
 * (wsgate) how late the ping and heartbeat wheels ran against their schedule.
 */
function loopFigures(loop: ServerReply, quiet: ServerReply, check: ServerReply): Figures {
  if (loop.type !== 'loop' || quiet.type !== 'loop' || check.type !== 'loop') return {};
  return {
    maxBlockMs: round(loop.maxBlockMs), maxBlockCpuMs: round(loop.maxBlockCpuMs), blocksOver10Ms: loop.blocksOver10Ms,
    quietMaxBlockMs: round(quiet.maxBlockMs), quietMaxBlockCpuMs: round(quiet.maxBlockCpuMs),
    check100MsBlockMs: round(check.maxBlockMs), eldMaxBlockMs: round(loop.eldMaxMs), maxGcMs: round(loop.maxGcMs),
    pingLateMs: round(loop.pingLateMs), heartbeatLateMs: round(loop.heartbeatLateMs),
  };
}

/** CPU ms used so far by the given processes together (0 for one that is gone). */
const cpuOf = (procs: ChildProcess[]): number => procs.reduce((t, p) => t + (cpuMs(p.pid ?? 0) ?? 0), 0);

/**
 * Sequential round trips on every connection for S seconds (after 1 s of warm-up), the clients spread over
 * `echoWorkers` processes. Besides the wall figures (which on a shared 2-core machine depend on what else runs),
 * the server's and the clients' CPU time per round trip: the server's is what the server itself costs, whatever
 * the load, and its inverse (round trips per server CPU-second) is the throughput the server would reach alone.
 */
export function echo(kind: BenchKind, z: BenchSizes): Promise<Figures> {
  const perWorker = Math.min(z.perWorker, Math.ceil(z.echoClients / z.echoWorkers));
  return withSetup(kind, z.echoClients, perWorker, async (s, ws) => {
    await connectAll(kind, s.port, ws, z.echoClients, { room: 'own', subscribe: false });
    await Promise.all(ws.map((w) => w.ask({ cmd: 'echo', seconds: 1 })));
    const clients = ws.map((w) => w.proc);
    const [server0, clients0, start] = [cpuOf([s.proc]), cpuOf(clients), nowMs()];
    const replies = await Promise.all(ws.map((w) => w.ask({ cmd: 'echo', seconds: z.echoSeconds })));
    const [serverMs, clientMs, wallMs] = [cpuOf([s.proc]) - server0, cpuOf(clients) - clients0, nowMs() - start];
    const hist = newHistogram();
    for (const r of replies) if (r.type === 'echo') addEncoded(hist, r.hist);
    const n = Math.max(1, hist.totalCount);
    return {
      roundTripsPerSec: Math.round(hist.totalCount / (wallMs / 1000)), p50Ms: hist.getValueAtPercentile(50) / 1000, p99Ms: hist.getValueAtPercentile(99) / 1000,
      serverCpuPct: Math.round((serverMs / wallMs) * 100), clientCpuPct: Math.round((clientMs / wallMs) * 100),
      serverCpuUsPerRt: round((serverMs * 1000) / n, 2), clientCpuUsPerRt: round((clientMs * 1000) / n, 2),
      rtPerServerCpuSec: serverMs > 0 ? Math.round(hist.totalCount / (serverMs / 1000)) : 0,
    };
  });
}

/** N clients into the default room at R/s: time, hello→init, bytes each client received while the room filled. */
export function join(kind: BenchKind, z: BenchSizes): Promise<Figures> {
  // Two client processes of 5,000 peaked at 85-92 % of a core with wsgate's clients: spread them wider, the same
  // for every server, so the clients' own loop does not add to hello→init.
  const perWorker = Math.min(z.perWorker, Math.ceil(z.join / z.joinWorkers));
  return withSetup(kind, z.join, perWorker, async (s, ws) => {
    const sampler = new ProcSampler(s.proc.pid ?? 0);
    // The client processes too: a saturated client process paces late and reads late, and that is not the server.
    const clientSamplers = ws.map((w) => new ProcSampler(w.proc.pid ?? 0));
    const c = await connectAll(kind, s.port, ws, z.join, { room: 'default', subscribe: false, rate: z.joinRate });
    await new Promise((r) => setTimeout(r, 1000)); // presence still in flight lands in the byte count
    const cpu = sampler.stop();
    const clientPeakCpuPct = Math.max(...clientSamplers.map((cs) => cs.stop().peakCpuPct));
    const bytes = await Promise.all(ws.map((w) => w.ask({ cmd: 'bytes' })));
    let max = 0;
    let sum = 0;
    for (const b of bytes) if (b.type === 'bytes') (max = Math.max(max, b.max), (sum += b.sum));
    return {
      joined: c.ok, seconds: round(c.seconds, 2), arrivalsPerSec: Math.round(c.startsPerSec),
      p50InitMs: c.hist.getValueAtPercentile(50) / 1000, p99InitMs: c.hist.getValueAtPercentile(99) / 1000,
      maxKiBPerClient: round(max / 1024), meanKiBPerClient: round(sum / Math.max(1, c.ok) / 1024),
      serverPeakCpuPct: Math.round(cpu.peakCpuPct), serverAvgCpuPct: Math.round(cpu.avgCpuPct), clientPeakCpuPct: Math.round(clientPeakCpuPct),
    };
  });
}

/** N connected clients lose their sockets at once and reconnect at once: time until every one is ready again. */
export function storm(kind: BenchKind, z: BenchSizes): Promise<Figures> {
  return withSetup(kind, z.storm, z.perWorker, async (s, ws) => {
    await connectAll(kind, s.port, ws, z.storm, { room: 'own', subscribe: true });
    const start = nowMs();
    const replies = await Promise.all(ws.map((w) => w.ask({ cmd: 'storm', timeoutMs: 120_000 })));
    let ok = 0;
    let last = 0;
    const hist = newHistogram();
    for (const r of replies) {
      if (r.type !== 'storm') continue;
      ok += r.ok;
      last = Math.max(last, r.lastReady);
      addEncoded(hist, r.hist);
      if (r.firstError !== undefined) process.stderr.write(`  storm ${kind}: ${r.failed} not ready, first error: ${r.firstError}\n`);
    }
    // No client ready: no time to report (it was a negative number of seconds); `failed` says why.
    return { ready: ok, failed: z.storm - ok, ...(ok > 0 ? { seconds: round((last - start) / 1000, 2), p99InitMs: hist.getValueAtPercentile(99) / 1000 } : {}) };
  });
}

/** Scenario functions by name. */
export const SCENARIOS: Record<ScenarioName, (kind: BenchKind, z: BenchSizes) => Promise<Figures>> = { idle, fanout, echo, join, storm };
