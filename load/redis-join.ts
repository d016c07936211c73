/**
 * N clients joining the default room, spread over several gateway processes sharing one Redis: hello → system/init
 * latency, the bytes each client received while the room filled, gateway and Redis CPU, Redis commands per join.
 * The gateways are the real command (dist/bin/wsgate.js via load/gateway-child.js), one process each; the clients are
 * the bench's client processes (load/bench/client-worker.ts), one source address 127.0.0.x each, each talking to one
 * gateway. Run (an empty Redis; ≤ 3,000 clients on a shared machine):
 *   npm run build && node dist/load/redis-join.js --redis redis://127.0.0.1:6379 [--clients 3000] [--rate 520]
 *     [--processes 2] [--presence-limit 100] [--out load/results/redis-join-3000.md]
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { connectAll, startWorkers } from './bench/scenarios.js';
import { ProcSampler, type ProcSummary } from './proc-stats.js';
import { startGatewayChild } from './processes.js';
import { machineInfo } from './report.js';
import { scriptArg } from './script-arg.js';

const USAGE = 'usage: redis-join --redis URL [--clients N] [--rate R] [--processes P] [--presence-limit L] [--per-worker N] [--out FILE.md]';
const arg = (name: string, fallback?: string): string => scriptArg(USAGE, name, fallback);
const num = (name: string, fallback: string): number => {
  const v = Number(arg(name, fallback));
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name}: expected a positive integer`);
  return v;
};
const round = (v: number, d = 1): number => Math.round(v * 10 ** d) / 10 ** d;

/** Redis's own counters: commands processed so far, memory used, its pid. */
async function redisStats(r: Redis): Promise<{ commands: number; usedMemory: number; pid: number }> {
  const info = await r.info();
  const field = (k: string): number => Number(new RegExp(`^${k}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { commands: field('total_commands_processed'), usedMemory: field('used_memory'), pid: field('process_id') };
}

async function main(): Promise<void> {
  const url = arg('redis');
  const clients = num('clients', '3000');
  const rate = num('rate', '520');
  const processes = num('processes', '2');
  const perWorker = num('per-worker', '1500');
  const limit = arg('presence-limit', '');
  const out = arg('out', '');
  const redis = new Redis(url);
  const gws = await Promise.all(
    Array.from({ length: processes }, () => startGatewayChild({ redis: url, legacy: false, ...(limit ? { presenceLimit: Number(limit) } : {}) })),
  );
  const workers = startWorkers(Math.max(processes, Math.ceil(clients / perWorker)));
  const loadBefore = loadavg()[0]!;
  const before = await redisStats(redis);
  const samplers = gws.map((g) => new ProcSampler(g.child.pid ?? 0));
  const redisSampler = new ProcSampler(before.pid);
  // Worker i talks to gateway i % processes (the bench's own connect: load/bench/scenarios.ts).
  const c = await connectAll('wsgate', gws.map((g) => g.port), workers, clients, { room: 'default', subscribe: false, rate });
  await new Promise((r) => setTimeout(r, 2000)); // the last presence ticks land in the byte count
  const gwStats: ProcSummary[] = samplers.map((s) => s.stop());
  const redisCpu = redisSampler.stop();
  const after = await redisStats(redis);
  const bytes = await Promise.all(workers.map((w) => w.ask({ cmd: 'bytes' })));
  const { ok, failed, hist } = c;
  let maxBytes = 0;
  let sumBytes = 0;
  for (const b of bytes) if (b.type === 'bytes') (maxBytes = Math.max(maxBytes, b.max), (sumBytes += b.sum));
  const figures = {
    clients, processes, presenceLimit: limit ? Number(limit) : 100, joined: ok, failed,
    seconds: round(c.seconds, 2), arrivalsPerSec: Math.round(c.startsPerSec),
    p50InitMs: hist.getValueAtPercentile(50) / 1000, p99InitMs: hist.getValueAtPercentile(99) / 1000, maxInitMs: hist.maxValue / 1000,
    maxKiBPerClient: round(maxBytes / 1024, 2), meanKiBPerClient: round(sumBytes / Math.max(1, ok) / 1024, 2),
    gatewayPeakCpuPct: gwStats.map((s) => Math.round(s.peakCpuPct)), gatewayAvgCpuPct: gwStats.map((s) => Math.round(s.avgCpuPct)),
    redisPeakCpuPct: Math.round(redisCpu.peakCpuPct), redisAvgCpuPct: Math.round(redisCpu.avgCpuPct),
    redisCommandsPerJoin: round((after.commands - before.commands) / Math.max(1, ok), 1),
    redisMemoryKiBPerSession: round((after.usedMemory - before.usedMemory) / Math.max(1, ok) / 1024, 2),
    // The machine's 1-minute load average before and after: on a shared machine, latency follows it.
    loadAverage: [round(loadBefore, 2), round(loadavg()[0]!, 2)],
  };
  console.log(JSON.stringify(figures, null, 2));
  if (out) writeFileSync(out, report(figures, process.argv.slice(2).join(' ')));
  for (const w of workers) w.proc.kill();
  for (const g of gws) g.child.kill('SIGKILL');
  redis.disconnect();
}

function report(f: Record<string, unknown>, args: string): string {
  const m = machineInfo();
  const rows = Object.entries(f).map(([k, v]) => `| ${k} | ${Array.isArray(v) ? v.join(', ') : String(v)} |`);
  return [
    `# Joining the default room over ${String(f.processes)} processes + Redis`,
    '',
    `Command: \`node dist/load/redis-join.js ${args}\``,
    '',
    `Machine: ${m.nproc} cores (${m.cpu}), ${m.memTotalGiB} GiB, ${m.node}, ${m.kernel}, ulimit -n ${m.openFilesLimit}; ` +
      'clients, gateways and redis-server on the same machine, shared with other jobs.',
    '',
    '| figure | value |',
    '|---|---|',
    ...rows,
    '',
  ].join('\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
