/**
 * The problem, reproduced: with the gateway's ping frames off and its heartbeat at 130 s (its first one lands after 65 s), a stock nginx cuts every
 * idle WebSocket after its default proxy_read_timeout — 60 s of silence. If this stops failing connections, the idle
 * test proves nothing. Runs the real driver (bundled from source), a real gateway and a real nginx; ~65 s.
 */
import { bundleDriver, runDriver, type DriverRun } from '../support/load-driver.js';

let bundle: Awaited<ReturnType<typeof bundleDriver>>;
let run: DriverRun;

beforeAll(async () => {
  bundle = await bundleDriver();
  run = await runDriver(bundle.dir, ['--scenario', 'control', '--clients', '60']);
}, 150_000);

afterAll(() => bundle?.remove());

test('the control scenario passes: nginx cut every connection', () => {
  expect(run.stderr).toBe('');
  expect(run.report?.checks.filter((c) => !c.ok)).toEqual([]);
  expect(run.code).toBe(0);
  const r = run.report!;
  expect(r.setup.gateway).toMatchObject({ pingInterval: 0, heartbeatInterval: 130 });
  expect(r.connections).toMatchObject({ opened: 60, failed: 0 });
  expect(r.closes.unexpected).toBe(60);
  expect(r.closes.bySinceOpen).toEqual({ '58-62s': 60 });
});

test('each cut came after 60 s ± 2 s of silence, without a close frame', () => {
  const r = run.report!;
  expect(r.closes.sinceLastRxMs.min).toBeGreaterThanOrEqual(58_000);
  expect(r.closes.sinceLastRxMs.max).toBeLessThanOrEqual(62_000);
  expect(r.closes.byCode).toEqual({ '1006': 60 });
  expect(r.liveness.pingsPerClient.v3.max).toBe(0);
  expect(r.liveness.heartbeatsReceived).toBe(0);
});
