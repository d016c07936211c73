/**
 * The fuzz scenario's measured phase: hostile worker processes attack the gateway (v3, v2 and plain
 * HTTP) while the bystanders chat with acked messages and receive a channel; /healthz is sampled
 * every 250 ms, RSS is read before the attack and after the hostiles leave.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FromHostile, HostileConfig, ToHostile } from './hostile-worker.js';
import { emptyCounts, type HostileCounts } from './hostile/scripts.js';
import type { ProcSampler } from './proc-stats.js';

/** What the fuzz phase measured (the report's `fuzz` section). */
export interface FuzzSummary {
  hostile: HostileCounts & { workers: number; wsLanes: number; httpLanes: number; seconds: number };
  health: { samples: number; failed: number; maxMs: number; p99Ms: number };
  /** MiB. `beforeGcMiB`: once dropped hostile sessions expired; `afterMiB`: after a full GC (see settleRss). */
  rss: { baselineMiB: number; peakMiB: number; beforeGcMiB: number; afterMiB: number; settleSeconds: number };
  /**
   * After a full GC, MiB, before the attack and after it: V8 heap in use (objects still referenced) and reserved, and
   * external memory (Buffers and ArrayBuffers still referenced). In use + external is what a leak would grow.
   * External is absent from reports written before 2 December.
   */
  heap: { baselineMiB: number; afterMiB: number; reservedBaselineMiB: number; reservedAfterMiB: number; externalBaselineMiB?: number; externalAfterMiB?: number };
  /** Was the gateway process still running at the end? */
  gatewayAlive: boolean;
}

/** How hard to attack. */
export interface FuzzPlan {
  port: number;
  maxPayload: number;
  lanes: number;
  seconds: number;
  frameTarget: number;
  requestTarget: number;
  /** Wait before reading RSS after the attack: dropped hostile sessions are held for session_ttl, so that plus a margin. */
  settleSeconds: number;
  localAddresses: string[];
}

/** Samples GET /healthz every 250 ms with a 1 s budget. */
class HealthProbe {
  private readonly times: number[] = [];
  failed = 0;
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly url: string) {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const t0 = performance.now();
      try {
        const res = await fetch(this.url, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.status !== 200) this.failed++;
      } catch {
        this.failed++;
      }
      this.times.push(performance.now() - t0);
      await sleep(250);
    }
  }

  async stop(): Promise<FuzzSummary['health']> {
    this.running = false;
    await this.loop;
    const sorted = [...this.times].sort((a, b) => a - b);
    const at = (p: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0);
    return { samples: sorted.length, failed: this.failed, maxMs: Math.round(sorted.at(-1) ?? 0), p99Ms: at(0.99) };
  }
}

function add(into: HostileCounts, c: HostileCounts): void {
  into.frames += c.frames;
  into.httpRequests += c.httpRequests;
  into.connections += c.connections;
  for (const [k, v] of Object.entries(c.closes)) into.closes[k] = (into.closes[k] ?? 0) + v;
  for (const [k, v] of Object.entries(c.statuses)) into.statuses[k] = (into.statuses[k] ?? 0) + v;
}

/** Lanes per hostile worker process: one process saturates about one core. */
const LANES_PER_WORKER = 60;

/** The hostile worker processes: started with their share of the lanes, stopped, their counts summed. */
class HostileFleet {
  private readonly latest = new Map<number, HostileCounts>();
  private readonly finals = new Set<number>();
  private readonly children: { child: ChildProcess; config: HostileConfig }[];

  constructor(plan: FuzzPlan) {
    const workers = Math.max(1, Math.ceil(plan.lanes / LANES_PER_WORKER));
    this.children = Array.from({ length: workers }, (_, w) => {
      const child = fork(fileURLToPath(new URL('./hostile-worker.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child.on('message', (m: FromHostile) => {
        this.latest.set(m.workerId, m.counts);
        if (m.type === 'final') this.finals.add(m.workerId);
      });
      const lanes = Math.floor(((w + 1) * plan.lanes) / workers) - Math.floor((w * plan.lanes) / workers);
      const wsLanes = Math.max(1, Math.round(lanes * 0.6));
      const config: HostileConfig = {
        workerId: w, port: plan.port, host: '127.0.0.1', localAddresses: plan.localAddresses, maxPayload: plan.maxPayload,
        wsLanes, httpLanes: Math.max(1, lanes - wsLanes),
        frameTarget: Math.ceil(plan.frameTarget / workers), requestTarget: Math.ceil(plan.requestTarget / workers),
      };
      child.send({ type: 'start', config } satisfies ToHostile);
      return { child, config };
    });
  }

  /** Every worker reached its targets and reported for the last time. */
  get done(): boolean {
    return this.finals.size === this.children.length;
  }

  total(): HostileCounts {
    const t = emptyCounts();
    for (const c of this.latest.values()) add(t, c);
    return t;
  }

  /** Tell every worker to stop, wait up to 15 s for its last counts, then kill what is left. */
  async stop(): Promise<void> {
    for (const { child } of this.children) if (child.connected) child.send({ type: 'stop' } satisfies ToHostile);
    const deadline = Date.now() + 15_000;
    while (!this.done && Date.now() < deadline) await sleep(200);
    for (const { child } of this.children) if (child.exitCode === null) child.kill('SIGKILL');
  }

  summary(seconds: number): FuzzSummary['hostile'] {
    const sum = (k: 'wsLanes' | 'httpLanes'): number => this.children.reduce((a, c) => a + c.config[k], 0);
    return { ...this.total(), workers: this.children.length, wsLanes: sum('wsLanes'), httpLanes: sum('httpLanes'), seconds };
  }
}

/** Run the attack; `onTick` gets the running totals (for the live view). */
export async function runFuzz(plan: FuzzPlan, sampler: ProcSampler | undefined, gateway: ChildProcess | undefined,
  onTick: (c: HostileCounts) => void): Promise<FuzzSummary> {
  const probe = new HealthProbe(`http://127.0.0.1:${plan.port}/healthz`);
  const heapBefore = await collect(gateway);
  const baselineMiB = sampler?.read().rssMiB ?? 0;
  const fleet = new HostileFleet(plan);
  const started = Date.now();
  while (Date.now() - started < plan.seconds * 1000 && !fleet.done && gateway?.exitCode == null) {
    await sleep(500);
    onTick(fleet.total());
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  await fleet.stop();
  const peakMiB = sampler?.read().peakRssMiB ?? 0;
  const rss = await settleRss(sampler, gateway, baselineMiB, plan.settleSeconds);
  const heapAfter = await collect(gateway);
  const health = await probe.stop();
  const heap = {
    baselineMiB: round(heapBefore.used), afterMiB: round(heapAfter.used), reservedBaselineMiB: round(heapBefore.total), reservedAfterMiB: round(heapAfter.total),
    externalBaselineMiB: round(heapBefore.external), externalAfterMiB: round(heapAfter.external),
  };
  const gatewayAlive = gateway ? gateway.exitCode === null && gateway.signalCode === null : true;
  return { hostile: fleet.summary(seconds), health, rss: { baselineMiB: round(baselineMiB), peakMiB: round(peakMiB), ...rss }, heap, gatewayAlive };
}

/**
 * RSS once the hostiles are gone: first after their dropped sessions expired (`expireSeconds`:
 * session_ttl plus a margin), then after full GCs until it is within 25 % of the baseline or 10 s
 * more have passed. An idle V8 does not collect by itself, so without the GC garbage would read as
 * retained memory; what the check is after is memory still referenced (a leak, state without bound).
 */
async function settleRss(sampler: ProcSampler | undefined, gateway: ChildProcess | undefined, baselineMiB: number, expireSeconds: number):
  Promise<{ beforeGcMiB: number; afterMiB: number; settleSeconds: number }> {
  const start = Date.now();
  if (!sampler) return { beforeGcMiB: 0, afterMiB: 0, settleSeconds: 0 };
  await sleep(expireSeconds * 1000);
  const beforeGcMiB = sampler.read().rssMiB;
  let now = beforeGcMiB;
  const end = Date.now() + 10_000;
  do {
    if (gateway?.connected) gateway.send('gc');
    await sleep(2000);
    now = sampler.read().rssMiB;
  } while (now > baselineMiB * 1.25 && Date.now() < end);
  return { beforeGcMiB: round(beforeGcMiB), afterMiB: round(now), settleSeconds: Math.round((Date.now() - start) / 100) / 10 };
}

/** Ask the gateway child for a full GC; resolves with its heap in use and reserved and its external memory afterwards, MiB (0 if it cannot tell). */
function collect(gateway: ChildProcess | undefined): Promise<{ used: number; total: number; external: number }> {
  const none = { used: 0, total: 0, external: 0 };
  if (!gateway?.connected) return Promise.resolve(none);
  return new Promise((resolve) => {
    const t = setTimeout(() => done(none), 5000);
    const on = (m: unknown): void => {
      const { heapUsedMiB, heapTotalMiB, externalMiB } = m as { heapUsedMiB?: unknown; heapTotalMiB?: unknown; externalMiB?: unknown };
      if (typeof heapUsedMiB === 'number' && typeof heapTotalMiB === 'number') {
        done({ used: heapUsedMiB, total: heapTotalMiB, external: typeof externalMiB === 'number' ? externalMiB : 0 });
      }
    };
    const done = (v: { used: number; total: number; external: number }): void => {
      clearTimeout(t);
      gateway.off('message', on);
      resolve(v);
    };
    gateway.on('message', on);
    gateway.send('gc');
  });
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
