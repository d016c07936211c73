/**
 * The other scenarios, small and short (the driver bundled from source, a real gateway; ~55 s in all):
 * chat delivery accounting across v2 and v3, a reconnect storm whose clients all resume, a short fuzz run, and the CLI's contract.
 */
import { bundleDriver, runDriver } from '../support/load-driver.js';

let bundle: Awaited<ReturnType<typeof bundleDriver>>;

beforeAll(async () => {
  bundle = await bundleDriver();
}, 60_000);

afterAll(() => bundle?.remove());

test('chat: every line from v2 and v3 senders reaches every other client exactly once', async () => {
  const run = await runDriver(bundle.dir, ['--scenario', 'chat', '--clients', '30', '--v2-share', '0.5', '--duration', '4', '--rate', '2']);
  expect(run.report?.checks.filter((c) => !c.ok)).toEqual([]);
  expect(run.code).toBe(0);
  const m = run.report!.messages;
  expect(m.sent).toBeGreaterThan(100);
  expect(m.received).toBe(m.sent * 29); // one room of 30: each line goes to the 29 others
  expect(m).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0, seqGaps: 0, seqDuplicates: 0 });
  expect(run.report!.latencyMs.count).toBe(m.received);
}, 60_000);

test('reconnect-storm: dropped clients all resume with last_seq and miss nothing', async () => {
  const run = await runDriver(bundle.dir, ['--scenario', 'reconnect-storm', '--clients', '100', '--duration', '6', '--publish-rate', '20']);
  expect(run.report?.checks.filter((c) => !c.ok)).toEqual([]);
  expect(run.code).toBe(0);
  const r = run.report!;
  expect(r.resumes).toEqual({ dropped: 50, resumed: 50 });
  expect(r.connections.opened).toBe(150);
  expect(r.messages.received).toBe(r.messages.sent * 100);
  expect(r.messages).toMatchObject({ lost: 0, duplicated: 0, seqGaps: 0, seqDuplicates: 0 });
}, 60_000);

test('a failed expectation exits 1; bad usage exits 2; --help exits 0', async () => {
  // 5 s idle cannot outlast nginx's 60 s timeout: the idle scenario must say FAIL, not pass vacuously.
  const short = await runDriver(bundle.dir, ['--scenario', 'idle', '--clients', '10', '--duration', '1', '--via', 'direct']);
  expect(short.code).toBe(1);
  expect(short.stdout).toContain('FAIL  idle longer than nginx proxy_read_timeout');
  const bad = await runDriver(bundle.dir, ['--scenario', 'nope']);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--scenario must be one of');
  const help = await runDriver(bundle.dir, ['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('--target URL');
}, 60_000);

test('fuzz: hostile v3, v2 and HTTP clients end nothing; bystanders lose, repeat and notice nothing; /healthz stays under 1 s', async () => {
  const run = await runDriver(bundle.dir, ['--scenario', 'fuzz', '--clients', '10', '--duration', '8', '--hostile', '12', '--session-ttl', '2']);
  const r = run.report!;
  expect(r.fuzz).toBeDefined();
  // Every check, memory still referenced after the attack included (RSS is reported, not judged: V8 keeps heap pages).
  expect(r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
  expect(r.checks.map((c) => c.name)).toContain('memory still referenced back near its baseline');
  const f = r.fuzz!;
  expect(f.gatewayAlive).toBe(true);
  expect(f.hostile.frames).toBeGreaterThan(2000);
  expect(f.hostile.httpRequests).toBeGreaterThan(500);
  expect(f.hostile.connections).toBeGreaterThan(20);
  expect(f.health.samples).toBeGreaterThan(20);
  expect(f.health.maxMs).toBeLessThan(1000);
  expect(r.messages).toMatchObject({ lost: 0, duplicated: 0, seqGaps: 0, seqDuplicates: 0 });
  expect(r.closes.unexpected).toBe(0);
  expect(r.errors['unacked chat lines']).toBeUndefined();
  expect(Object.keys(r.errors).filter((k) => k.startsWith('gateway log'))).toEqual([]);
  expect(run.stdout).toContain('hostile frames / HTTP requests');
}, 60_000);
