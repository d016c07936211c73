#!/usr/bin/env node
/**
 * `npm run bench`: raw `ws`, Socket.IO and wsgate side by side, each server in its own process, the same clients in
 * client processes of their own: idle memory, fan-out, echo, joining the default room, a reconnect storm. Medians
 * of --runs runs; with --out DIR, writes DIR/bench.json, bench.md and bench.png (the ratios chart).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { machineInfo } from '../report.js';
import { renderChart } from './chart.js';
import { chartRows, goalsTable, markdown, medians, resultsTable, type RunResults } from './bench-report.js';
import { SCENARIOS, type BenchSizes, type ScenarioName } from './scenarios.js';
import type { BenchKind } from './servers.js';

const USAGE = `Usage: npm run bench -- [options]      (or: node dist/load/bench/run.js [options])
  --runs N               runs; figures are medians (default 3)
  --kinds LIST           servers, comma-separated (default ws,socketio,wsgate)
  --scenarios LIST       idle,fanout,echo,join,storm (default all)
  --idle N               idle connections for the memory figure (default 18000)
  --fanout-clients N     subscribers (default 10000)
  --fanout-messages K    messages published to all of them (default 20)
  --echo-clients N       (default 500)      --echo-seconds S   (default 10)
  --echo-workers N       client processes the echo clients are spread over (default 4)
  --join-workers N       client processes the joining clients are spread over (default 4)
  --join N               clients into the default room (default 10000)
  --join-rate R          connections started per second (default 520: at least 500 arrive each second)
  --storm N              clients dropped and reconnecting at once (default 10000)
  --per-worker N         connections per client process, each with its own 127.0.0.x (default 6000)
  --small                dev/CI sizes: idle 500, fan-out 500×20, echo 100×3 s, join 300, storm 300, 1 run
  --out DIR              write DIR/bench.json, DIR/bench.md, DIR/bench.png`;

const ALL_KINDS: BenchKind[] = ['ws', 'socketio', 'wsgate'];
const ALL_SCENARIOS = Object.keys(SCENARIOS) as ScenarioName[];

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function num(name: string, def: number): number {
  const raw = flag(name);
  if (raw === undefined) return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name}: expected a positive number, got ${JSON.stringify(raw)}`);
  return v;
}

function list<T extends string>(name: string, all: T[]): T[] {
  const raw = flag(name);
  if (raw === undefined) return all;
  const items = raw.split(',').map((s) => s.trim()) as T[];
  const bad = items.filter((i) => !all.includes(i));
  if (bad.length) throw new Error(`--${name}: unknown ${bad.join(', ')} (known: ${all.join(', ')})`);
  return items;
}

function sizes(): BenchSizes & { runs: number } {
  const small = process.argv.includes('--small');
  return {
    runs: num('runs', small ? 1 : 3),
    idle: num('idle', small ? 500 : 18_000),
    fanoutClients: num('fanout-clients', small ? 500 : 10_000),
    fanoutMessages: num('fanout-messages', 20),
    echoClients: num('echo-clients', small ? 100 : 500),
    echoSeconds: num('echo-seconds', small ? 3 : 10),
    echoWorkers: num('echo-workers', 4),
    joinWorkers: num('join-workers', 4),
    join: num('join', small ? 300 : 10_000),
    joinRate: num('join-rate', 520),
    storm: num('storm', small ? 300 : 10_000),
    perWorker: num('per-worker', 6000),
  };
}

function loadAverage(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) return void process.stdout.write(`${USAGE}\n`);
  const z = sizes();
  const kinds = list('kinds', ALL_KINDS);
  const scenarios = list('scenarios', ALL_SCENARIOS);
  const startedAt = new Date().toISOString();
  const loadBefore = loadAverage();
  const runs: RunResults[] = [];
  for (let r = 0; r < z.runs; r++) {
    const run: RunResults = {};
    for (const sc of scenarios) {
      for (const kind of kinds) {
        process.stderr.write(`run ${r + 1}/${z.runs}: ${sc} ${kind} …\n`);
        (run[sc] ??= {})[kind] = await SCENARIOS[sc](kind, z);
        process.stderr.write(`  ${JSON.stringify(run[sc]![kind])}\n`);
      }
    }
    runs.push(run);
  }
  const med = medians(runs);
  const out = `${resultsTable(med)}\n\n${goalsTable(med, z)}`;
  process.stdout.write(`${out}\n`);
  const dir = flag('out');
  if (dir) {
    mkdirSync(dir, { recursive: true });
    const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;
    const report = { command, startedAt, sizes: z, machine: machineInfo(), loadBefore, loadAfter: loadAverage(), runs, medians: med };
    writeFileSync(joinPath(dir, 'bench.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(joinPath(dir, 'bench.md'), markdown(report));
    await renderChart(chartRows(med), `wsgate vs raw ws and Socket.IO — medians of ${z.runs} run(s), ${startedAt.slice(0, 10)}`, joinPath(dir, 'bench.png'));
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench: ${String((err as Error).message ?? err)}\n`);
  process.exit(1);
});
