import { TestClient } from '../support/ws-client.js';
import { until } from '../support/http-api.js';
import { startWsgate, type WsgateProcess } from '../support/wsgate-process.js';

let proc: WsgateProcess | undefined;
let clients: TestClient[] = [];

afterEach(() => {
  proc?.kill();
  proc = undefined;
  for (const c of clients) c.kill();
  clients = [];
});

/**
 * Connect `n` clients, `parallel` hellos at a time. Each in a room of its own: a room of 1,000
 * means ~500,000 presence messages, which is not what this test is about.
 */
async function connectMany(url: string, n: number, parallel = 100): Promise<TestClient[]> {
  const out: TestClient[] = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, n - i) }, () => new TestClient(url));
    out.push(...batch);
    clients.push(...batch);
    await Promise.all(batch.map((c, j) => c.hello({ room: `r${i + j}` })));
  }
  return out;
}

test('SIGTERM with 1,000 connected clients: every one gets system/disconnect and close 1012, then exit 0 within drain_timeout', async () => {
  const drainTimeout = 10;
  proc = await startWsgate(['--drain-timeout', String(drainTimeout), '--drain-batch-size', '200', '--drain-batch-pause', '0.05', '--log-level', 'info']);
  const all = await connectMany(`ws://127.0.0.1:${proc.port}/api/ws`, 1000);
  const sent = Date.now();
  proc.child.kill('SIGTERM');
  const closes = await Promise.all(all.map((c) => c.closed));
  const exit = await proc.exited;

  expect(closes.every((c) => c.code === 1012)).toBe(true);
  for (const c of all) expect(c.all('system/disconnect')[0]?.payload).toMatchObject({ code: 1012, reason: 'service_restart' });
  expect(exit.code).toBe(0);
  expect(exit.at - sent).toBeLessThan(drainTimeout * 1000);
  // Five batches of 200, 50 ms apart: the closes are spread over at least 200 ms, not one burst.
  const drained = proc.logs.find((l) => l.msg === 'drained');
  expect(drained).toMatchObject({ closed: 1000, forced: 0 });
  expect(drained!.ms).toBeGreaterThanOrEqual(200);
  expect(proc.logs.find((l) => l.msg === 'draining')).toMatchObject({ connections: 1000, batches: 5 });
}, 60_000);

test('while draining: /readyz is 503 and new upgrades are refused; a second SIGTERM exits at once', async () => {
  // One connection per batch, 2 s apart: the drain of 4 clients would take 6 s.
  proc = await startWsgate(['--drain-timeout', '30', '--drain-batch-size', '1', '--drain-batch-pause', '2', '--no-legacy']);
  const base = proc.base;
  expect((await fetch(`${base}/readyz`)).status).toBe(200);
  const all = await connectMany(`ws://127.0.0.1:${proc.port}/api/ws`, 4);
  proc.child.kill('SIGTERM');
  await all[0]!.closed;
  expect((await fetch(`${base}/readyz`)).status).toBe(503);
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  const late = new TestClient(`ws://127.0.0.1:${proc.port}/api/ws`);
  clients.push(late);
  await expect(late.open()).rejects.toThrow('HTTP 503');
  expect(all[3]!.ws.readyState).toBe(all[3]!.ws.OPEN);

  const second = Date.now();
  proc.child.kill('SIGTERM');
  const exit = await proc.exited;
  expect(exit.code).toBe(143);
  expect(exit.at - second).toBeLessThan(1500);
  await until(() => all[3]!.ws.readyState === all[3]!.ws.CLOSED, 3000, 'socket of a killed process to close');
}, 30_000);

test('SIGTERM still exits 0 when nobody reads the logs any more (stdout pipe closed: a dead log shipper)', async () => {
  proc = await startWsgate([]);
  proc.child.stdout!.destroy(); // the reading end goes away: every later log write fails with EPIPE
  const sent = Date.now();
  proc.child.kill('SIGTERM');
  const exit = await Promise.race([proc.exited, new Promise<{ code: number; at: number }>((r) => setTimeout(() => r({ code: -1, at: Date.now() }), 8000))]);
  expect(exit.code).toBe(0);
  expect(exit.at - sent).toBeLessThan(5000);
});
