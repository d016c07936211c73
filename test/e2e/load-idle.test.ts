/**
 * The promise the load script exists to check: v3 and v2 clients idle behind a stock nginx (proxy_read_timeout left
 * at its 60 s default) for 75 s, and not one connection is cut — the gateway's ping frames keep nginx busy.
 * Runs the real driver (bundled from source) with a real gateway and a real nginx; ~80 s.
 */
import { bundleDriver, runDriver, type DriverRun } from '../support/load-driver.js';

let bundle: Awaited<ReturnType<typeof bundleDriver>>;
let run: DriverRun;

beforeAll(async () => {
  bundle = await bundleDriver();
  run = await runDriver(bundle.dir, ['--scenario', 'idle', '--clients', '120', '--v2-share', '0.25', '--duration', '75']);
}, 150_000);

afterAll(() => bundle?.remove());

test('the idle scenario passes and says so in its exit code', () => {
  expect(run.stderr).toBe('');
  expect(run.report?.checks.filter((c) => !c.ok)).toEqual([]);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('idle — PASS');
});

test('v3 and v2 clients went through nginx at its default proxy_read_timeout', () => {
  const r = run.report!;
  expect(r.setup.via).toBe('nginx');
  expect(r.setup.nginx?.proxyReadTimeout).toMatch(/^60s/);
  expect(r.setup.clients).toEqual({ total: 120, v3: 90, v2: 30 });
  expect(r.setup.idleSeconds).toBeGreaterThanOrEqual(75);
});

test('every client stayed connected past 60 s idle, kept alive by ping frames', () => {
  const r = run.report!;
  expect(r.connections).toMatchObject({ opened: 120, failed: 0 });
  expect(r.closes.unexpected).toBe(0);
  expect(r.closes.expected).toBe(120); // the driver's own closes at the end
  // 75 s at the default 10 s ping interval: about 7 ping frames each, relayed to v2 clients by the adapter.
  expect(r.liveness.pingsPerClient.v3.min).toBeGreaterThanOrEqual(5);
  expect(r.liveness.pingsPerClient.v2.min).toBeGreaterThanOrEqual(5);
  // The gateway's application heartbeat (60 s) reached the v3 clients at least once too.
  expect(r.liveness.heartbeatsReceived).toBeGreaterThanOrEqual(90);
  expect(r.gateway?.peakRssMiB).toBeGreaterThan(0);
});
