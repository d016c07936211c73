#!/usr/bin/env node
/**
 * Side-by-side benchmark: the same echo and fan-out workloads against a plain `ws` server, a Socket.IO server and
 * wsgate, each server in its own process, clients in this one. Prints a table with wsgate's ratios; --json FILE too.
 *
 *   node dist/load/bench/run.js [--clients 500] [--echo-seconds 10] [--fanout 200] [--json FILE]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ProcSampler } from '../proc-stats.js';
import { machineInfo } from '../report.js';
import { newHistogram } from '../stats.js';
import { connectBench, type BenchConn } from './clients.js';
import type { BenchKind } from './servers.js';

const KINDS: BenchKind[] = ['ws', 'socketio', 'wsgate'];

interface BenchResult {
  kind: BenchKind;
  clients: number;
  rssPerConnKiB: number;
  echo: { roundTripsPerSec: number; p50Ms: number; p99Ms: number };
  fanout: { deliveriesPerSec: number; p50Ms: number; p99Ms: number; delivered: number; expected: number };
  serverCpuPct: number;
}

const USAGE = `Usage: node dist/load/bench/run.js [--clients N] [--echo-seconds S] [--fanout K] [--json FILE]
  --clients N        connections per server (default 500)
  --echo-seconds S   each client does sequential echo round trips for S seconds (default 10)
  --fanout K         the server sends K messages to every client (default 200)
  --json FILE        also write the results as JSON`;

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

const nowMs = (): number => performance.timeOrigin + performance.now();

function startServer(kind: BenchKind): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(new URL('./servers.js', import.meta.url)), [kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (c) => reject(new Error(`${kind} server exited (${c})`)));
    child.on('message', (m: { type: string; port: number }) => resolve({ child, port: m.port }));
  });
}

async function echoPhase(conns: BenchConn[], seconds: number): Promise<BenchResult['echo']> {
  const h = newHistogram();
  const end = Date.now() + seconds * 1000;
  await Promise.all(conns.map(async (c) => {
    while (Date.now() < end) {
      const t = nowMs();
      await c.echo();
      h.recordValue(Math.max(1, Math.round((nowMs() - t) * 1000)));
    }
  }));
  return { roundTripsPerSec: Math.round(h.totalCount / seconds), p50Ms: h.getValueAtPercentile(50) / 1000, p99Ms: h.getValueAtPercentile(99) / 1000 };
}

async function fanoutPhase(conns: BenchConn[], port: number, k: number): Promise<BenchResult['fanout']> {
  const h = newHistogram();
  const expected = conns.length * k;
  let last = 0;
  const done = new Promise<void>((resolve) => {
    for (const c of conns) c.onFanout((sentAt) => {
      const now = nowMs();
      h.recordValue(Math.max(1, Math.round((now - sentAt) * 1000)));
      last = now;
      if (h.totalCount === expected) resolve();
    });
  });
  const start = nowMs();
  await fetch(`http://127.0.0.1:${port}/fanout?n=${k}`);
  await Promise.race([done, new Promise((r) => setTimeout(r, 60_000))]);
  const secs = ((last || nowMs()) - start) / 1000;
  return { deliveriesPerSec: Math.round(h.totalCount / secs), p50Ms: h.getValueAtPercentile(50) / 1000, p99Ms: h.getValueAtPercentile(99) / 1000, delivered: h.totalCount, expected };
}

async function benchOne(kind: BenchKind, clients: number, echoSeconds: number, fanout: number): Promise<BenchResult> {
  const { child, port } = await startServer(kind);
  try {
    const sampler = new ProcSampler(child.pid ?? 0);
    const before = sampler.read().rssMiB;
    const conns: BenchConn[] = [];
    for (let i = 0; i < clients; i += 50) {
      conns.push(...(await Promise.all(Array.from({ length: Math.min(50, clients - i) }, () => connectBench(kind, port)))));
    }
    await new Promise((r) => setTimeout(r, 500));
    const rssPerConnKiB = Math.round(((sampler.read().rssMiB - before) * 1024) / clients * 10) / 10;
    await echoPhase(conns, 1); // warm-up: JIT both sides before measuring
    const echo = await echoPhase(conns, echoSeconds);
    const fan = await fanoutPhase(conns, port, fanout);
    const serverCpuPct = Math.round(sampler.stop().avgCpuPct);
    conns.forEach((c) => c.close());
    return { kind, clients, rssPerConnKiB, echo, fanout: fan, serverCpuPct };
  } finally {
    child.kill('SIGTERM');
  }
}

function table(results: BenchResult[]): string {
  const wsgate = results.find((r) => r.kind === 'wsgate')!;
  const ratio = (a: number, b: number): string => (b ? `${(a / b).toFixed(2)}×` : '-');
  const rows = results.map((r) => [
    r.kind,
    String(r.echo.roundTripsPerSec), `${r.echo.p50Ms}/${r.echo.p99Ms}`,
    String(r.fanout.deliveriesPerSec), `${r.fanout.p50Ms}/${r.fanout.p99Ms}`, `${r.fanout.delivered}/${r.fanout.expected}`,
    String(r.rssPerConnKiB), String(r.serverCpuPct),
    r.kind === 'wsgate' ? '1.00×' : `${ratio(wsgate.echo.roundTripsPerSec, r.echo.roundTripsPerSec)} / ${ratio(wsgate.fanout.deliveriesPerSec, r.fanout.deliveriesPerSec)}`,
  ]);
  const head = ['server', 'echo rt/s', 'echo p50/p99 ms', 'fan-out msg/s', 'fan-out p50/p99 ms', 'delivered', 'KiB/conn', 'cpu %', 'wsgate ÷ this (echo / fan-out)'];
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  return all.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ')).join('\n');
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) return void process.stdout.write(`${USAGE}\n`);
  const clients = arg('clients', 500);
  const echoSeconds = arg('echo-seconds', 10);
  const fanout = arg('fanout', 200);
  const results: BenchResult[] = [];
  for (const kind of KINDS) results.push(await benchOne(kind, clients, echoSeconds, fanout));
  const out = table(results);
  process.stdout.write(`${out}\n`);
  const jsonAt = process.argv.indexOf('--json');
  if (jsonAt > 0) {
    const report = { command: `node dist/load/bench/run.js ${process.argv.slice(2).join(' ')}`, machine: machineInfo(), startedAt: new Date().toISOString(), results, table: out };
    writeFileSync(process.argv[jsonAt + 1]!, `${JSON.stringify(report, null, 2)}\n`);
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench: ${String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
