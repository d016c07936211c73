/**
 * The scale-out runs of issue 13 at toy size: `npm run load -- --redis --gateway-processes N` and the failover storm
 * (`load/redis-failover.ts`), bundled from source and run as child processes with a real redis-server and the real
 * `wsgate --workers N` command, and the fuzz scenario against a gateway over Redis. What a user reads in the reports is
 * checked, and that nothing is left running. ~90 s.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScaleSummary } from '../../load/scale.js';
import { bundleDriver, runDriver } from '../support/load-driver.js';

let bundle: Awaited<ReturnType<typeof bundleDriver>>;

beforeAll(async () => {
  bundle = await bundleDriver();
}, 60_000);

afterAll(() => bundle?.remove());

/** The driver's private redis-server temp dirs that exist now. */
const redisDirs = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('wsgate-load-redis-'));

/** Processes whose command line runs a file of this test's bundle (gateways, client workers, shards). */
function bundleProcesses(): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(bundle.dir)) out.push(Number(pid));
    } catch {
      /* gone */
    }
  }
  return out;
}

test('idle --redis --gateway-processes 2: per-process fds and RSS, Redis per session and flat while idle, all cleaned up', async () => {
  const before = redisDirs();
  const run = await runDriver(bundle.dir, ['--scenario', 'idle', '--clients', '60', '--redis', '--gateway-processes', '2', '--via', 'direct', '--duration', '4']);
  // 4 s cannot outlast nginx's 60 s: that check fails, every other one holds.
  expect(run.report?.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['idle longer than nginx proxy_read_timeout']);
  expect(run.code).toBe(1);
  const s = run.report!.scale as ScaleSummary;
  expect(s.gatewayProcesses).toBe(2);
  const workers = s.processes.filter((p) => p.role === 'worker');
  expect(workers).toHaveLength(2);
  expect(s.processes.filter((p) => p.role === 'primary')).toHaveLength(1);
  // Round-robin (the timeline's /metrics scrapes take turns too): both workers hold clients, 60 sockets in all.
  for (const w of workers) expect(w.peakFds).toBeGreaterThanOrEqual(15);
  expect(workers[0]!.peakFds + workers[1]!.peakFds).toBeGreaterThanOrEqual(60);
  expect(s.connections).toEqual({ idleStart: 60, idleEnd: 60 });
  expect(s.redis.bytesPerSession).toBeGreaterThan(100);
  expect(s.redis.bytesPerSession).toBeLessThan(20_000);
  expect(s.redis.idleKeysDelta).toBe(0);
  expect(run.stdout).toContain('Redis memory per session');
  expect(run.stdout).toContain('wsgate --workers 2 --redis, one port');
  expect(redisDirs()).toEqual(before);
  expect(bundleProcesses()).toEqual([]);
}, 90_000);

test('--gateway-processes without --redis is a usage error naming both', async () => {
  const bad = await runDriver(bundle.dir, ['--scenario', 'idle', '--gateway-processes', '3']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--gateway-processes needs --redis');
}, 30_000);

test('fuzz --redis: hostile clients end nothing on a gateway over Redis; bystanders lose nothing; Redis memory comes back', async () => {
  const before = redisDirs();
  const run = await runDriver(bundle.dir, ['--scenario', 'fuzz', '--redis', '--clients', '10', '--duration', '8', '--hostile', '12', '--session-ttl', '2']);
  const r = run.report!;
  expect(r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
  expect(r.checks.map((c) => c.name)).toContain('Redis memory back once the hostile sessions expired');
  const f = r.fuzz!;
  expect(f.gatewayAlive).toBe(true);
  expect(f.hostile.frames).toBeGreaterThan(2000);
  expect(f.hostile.connections).toBeGreaterThan(20);
  expect(f.health.maxMs).toBeLessThan(1000);
  expect(r.messages).toMatchObject({ lost: 0, duplicated: 0, seqGaps: 0, seqDuplicates: 0 });
  expect(r.closes.unexpected).toBe(0);
  expect((r.scale as ScaleSummary).redis.bytesPerSession).toBeGreaterThan(100);
  expect(redisDirs()).toEqual(before);
  expect(bundleProcesses()).toEqual([]);
}, 90_000);

test('fuzz attacks one process it started: --target and --gateway-processes 2 are usage errors', async () => {
  const target = await runDriver(bundle.dir, ['--scenario', 'fuzz', '--target', 'ws://127.0.0.1:9']);
  expect(target.code).toBe(2);
  expect(target.stderr).toContain('--target: the fuzz scenario attacks a gateway it starts itself');
  const many = await runDriver(bundle.dir, ['--scenario', 'fuzz', '--redis', '--gateway-processes', '2']);
  expect(many.code).toBe(2);
  expect(many.stderr).toContain('--gateway-processes: the fuzz scenario attacks one gateway process');
}, 30_000);

test('failover storm: every client resumes on the survivor, 0 lost, 0 duplicated; reports written; nothing left running', async () => {
  const before = redisDirs();
  const json = join(bundle.dir, 'failover.json');
  const child = spawn(process.execPath, [join(bundle.dir, 'redis-failover.js'), '--clients', '60', '--messages', '4', '--json', json], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.resume();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(stdout).toMatch(/resumed on B\s+60 \/ 60/);
  expect(code).toBe(0);
  const r = JSON.parse(readFileSync(json, 'utf8')) as { resumed: number; lost: number; duplicated: number; outcomes: Record<string, number>; resumeMs: { max: number } };
  expect(r).toMatchObject({ resumed: 60, lost: 0, duplicated: 0, outcomes: { resumed: 60 } });
  expect(r.resumeMs.max).toBeGreaterThan(0);
  expect(redisDirs()).toEqual(before);
  expect(bundleProcesses()).toEqual([]);
}, 90_000);

test('Ctrl-C during a --redis run stops the gateway processes, the clients and redis-server, and exits 130', async () => {
  const before = redisDirs();
  const child = spawn(process.execPath, [join(bundle.dir, 'cli.js'), '--scenario', 'idle', '--clients', '20', '--redis', '--gateway-processes', '2', '--via', 'direct', '--duration', '60', '--progress', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.resume();
  await new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), / idle /.test(stderr) && resolve())));
  expect(redisDirs().length).toBe(before.length + 1);
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code).toBe(130);
  expect(redisDirs()).toEqual(before);
  expect(bundleProcesses()).toEqual([]);
}, 90_000);
