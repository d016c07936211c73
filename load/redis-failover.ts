/**
 * Failover storm: N clients on gateway process A of two sharing a Redis; the backend sends each session messages
 * through process B's API before and while A is killed with SIGKILL; every client resumes on B as soon as its socket
 * closes. Reports the time until all resumed, messages lost and duplicated (by payload, across both connections),
 * both processes' RSS/CPU, Redis memory, load average; exit 0 when all resumed, 0 lost, 0 duplicated.
 * Starts its own redis-server (temp dir, no persistence) unless given --redis URL; stops everything at the end,
 * on failure and on Ctrl-C.
 *
 *   npm run build && node dist/load/redis-failover.js [--clients 500] [--messages 6] [--redis URL]
 *     [--connect-rate 500] [--timeout 180] [--json FILE] [--md FILE]
 */
import os from 'node:os';
import { Backend } from './failover-clients.js';
import type { ShardResult } from './failover-shard.js';
import { CLIENTS_PER_SHARD, ShardSet } from './failover-shards.js';
import { ProcSampler } from './proc-stats.js';
import { startGatewayChild, stopChild, type GatewayChild } from './processes.js';
import { startRedisServer, useRedis, type RedisServer } from './redis-server.js';
import { renderFailover, writeFailover, type FailoverReport, type StormOutcome } from './failover-report.js';
import { listenOverflows, machineInfo } from './report.js';
import { scriptArg } from './script-arg.js';

const USAGE = 'usage: redis-failover [--clients N] [--messages N] [--redis URL] [--connect-rate R] [--timeout S] [--json FILE] [--md FILE]';
const arg = (name: string, fallback?: string): string => scriptArg(USAGE, name, fallback);

const live: { redis?: RedisServer; gateways: GatewayChild[]; shards?: ShardSet } = { gateways: [] };
const log = (s: string): void => void process.stderr.write(`[failover ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

async function cleanup(): Promise<void> {
  await live.shards?.stop();
  await Promise.all(live.gateways.map((g) => stopChild(g.child, 10_000)));
  await live.redis?.stop();
}

function pct(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : -1;
}

/** What every client ended with: outcomes, times since the kill, messages lost and duplicated over both connections. */
function analyse(results: ShardResult[], killedAt: number, messages: number, rejected: Set<string>): StormOutcome {
  const outcomes: Record<string, number> = {};
  let lost = 0;
  let duplicated = 0;
  for (const c of results) {
    const o = !c.id ? 'never_connected' : c.outcome || 'not_resumed_in_time';
    outcomes[o] = (outcomes[o] ?? 0) + 1;
    if (!c.id) continue;
    const seen = new Set(c.got);
    duplicated += c.got.length - seen.size;
    for (let m = 1; m <= messages; m++) if (!seen.has(m) && !rejected.has(`${c.id}:${m}`)) lost++;
  }
  const since = (ts: number[]): { p50: number; p99: number; max: number } => {
    const sorted = ts.map((t) => t - killedAt).sort((x, y) => x - y);
    return { p50: pct(sorted, 50), p99: pct(sorted, 99), max: pct(sorted, 100) };
  };
  return {
    resumed: outcomes.resumed ?? 0,
    outcomes,
    resumeMs: since(results.filter((c) => c.outcome === 'resumed').map((c) => c.resumedAt)),
    closedMs: since(results.filter((c) => c.closedAt > 0).map((c) => c.closedAt)),
    lost,
    duplicated,
    connectAttempts: results.reduce((a, c) => a + c.attempts, 0),
  };
}

/** Kill A while the second half of the messages goes out; resolves when every client resumed or failed (or at the timeout). */
async function storm(shards: ShardSet, ids: string[], a: GatewayChild, b: GatewayChild, backend: Backend, from: number, to: number, timeoutS: number): Promise<number> {
  await shards.arm(b.port);
  const sending = (async () => {
    for (let m = from; m <= to; m++) await backend.sendAll(ids, m);
  })();
  const killedAt = Date.now();
  a.child.kill('SIGKILL');
  log(`killed process A (pid ${a.child.pid}) with SIGKILL; ${shards.clients} clients resume on B`);
  const deadline = killedAt + timeoutS * 1000;
  let lastLog = 0;
  while (shards.settledCount() < shards.clients && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    if (Date.now() - lastLog >= 2000) {
      lastLog = Date.now();
      log(`resumed or failed: ${shards.settledCount()} / ${shards.clients}`);
    }
  }
  await sending;
  await new Promise((r) => setTimeout(r, 2000)); // the last sends' deliveries
  return killedAt;
}

async function main(): Promise<number> {
  const n = Number(arg('clients', '500'));
  const messages = Number(arg('messages', '6'));
  const rate = Number(arg('connect-rate', '500'));
  const timeoutS = Number(arg('timeout', '180'));
  if (![n, messages, rate, timeoutS].every((v) => Number.isFinite(v) && v >= 1)) {
    console.error(USAGE);
    return 2;
  }
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  const overflowsBefore = listenOverflows();
  const given = process.argv.includes('--redis') ? arg('redis') : '';
  live.redis = given ? await useRedis(given) : await startRedisServer();
  log(`redis ${live.redis.url}${given ? '' : ' (private, no persistence)'}`);
  const gw = (): Promise<GatewayChild> => startGatewayChild({ redis: live.redis!.url, legacy: false }, 60_000);
  const [a, b] = await Promise.all([gw(), gw()]);
  live.gateways.push(a, b);
  const [sa, sb] = [new ProcSampler(a.child.pid ?? 0), new ProcSampler(b.child.pid ?? 0)];
  log(`process A :${a.port} (pid ${a.child.pid}), process B :${b.port} (pid ${b.child.pid})`);
  const baseline = await live.redis.snapshot();
  const shards = (live.shards = new ShardSet(n));
  const t0 = Date.now();
  const ticker = setInterval(() => log(`connecting ${n} clients to A…`), 5000);
  const all = await shards.connect(a.port, rate).finally(() => clearInterval(ticker));
  const ids = all.filter((id) => id);
  const connectSeconds = (Date.now() - t0) / 1000;
  log(`${ids.length} of ${n} clients connected to A in ${connectSeconds.toFixed(1)} s`);
  const connected = await live.redis.snapshot();
  const backend = new Backend(b.port);
  const half = Math.floor(messages / 2);
  for (let m = 1; m <= half; m++) await backend.sendAll(ids, m);
  log(`${half} messages to each session sent through B; killing A`);
  const killed = sa.stop();
  const killedAt = await storm(shards, ids, a, b, backend, half + 1, messages, timeoutS);
  const end = await live.redis.snapshot();
  const survivor = sb.stop();
  backend.stop();
  const results = await shards.results();
  const outcome = analyse(results, killedAt, messages, backend.rejected);
  const report: FailoverReport = {
    pass: outcome.resumed === n && outcome.lost === 0 && outcome.duplicated === 0,
    command: `node dist/load/redis-failover.js ${process.argv.slice(2).join(' ')}`.trim(),
    startedAt: startedAt.toISOString(),
    machine: machineInfo(),
    clients: n,
    clientProcesses: Math.ceil(n / CLIENTS_PER_SHARD),
    messagesEach: messages,
    connectSeconds: Math.round(connectSeconds * 10) / 10,
    ...outcome,
    notAccepted: backend.failures,
    listenOverflows: listenOverflows() - overflowsBefore,
    killed,
    survivor,
    redis: { baseline, connected, end, bytesPerSession: Math.round((connected.usedMemory - baseline.usedMemory) / Math.max(1, ids.length)) },
    loadAvg: { before: loadBefore.map((l) => Math.round(l * 100) / 100), after: os.loadavg().map((l) => Math.round(l * 100) / 100) },
  };
  process.stdout.write(`${renderFailover(report)}\n`);
  writeFailover(report, process.argv.includes('--json') ? arg('json') : '', process.argv.includes('--md') ? arg('md') : '');
  return report.pass ? 0 : 1;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    log(`${sig}: stopping the gateways and Redis`);
    void cleanup().finally(() => process.exit(130));
  });
}
main().then(
  async (code) => {
    await cleanup();
    process.exit(code);
  },
  async (err: unknown) => {
    console.error(err);
    await cleanup();
    process.exit(2);
  },
);
