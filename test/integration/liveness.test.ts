import type { Gateway } from '../../src/index.js';
import { ClientPool, startGateway } from '../support/gateway.js';
import { until } from '../support/http-api.js';
import { ManualClock } from '../support/manual-clock.js';
import { sleep, type TestClient } from '../support/ws-client.js';

let gw: Gateway | undefined;
const pool = new ClientPool();
afterEach(async () => {
  pool.killAll();
  await gw?.close();
  gw = undefined;
});
/** A heartbeat with an id, answered by an ack: everything the client sent before it (pongs too) reached the gateway. */
async function roundTrip(c: TestClient, id: string): Promise<void> {
  c.send('client/heartbeat', undefined, id);
  await c.next((f) => f.event === 'system/ack' && (f.payload as { id?: string }).id === id);
}
const client = (hello: Record<string, unknown> = {}, opts?: { answerPings?: boolean }) => pool.connect(gw!, hello, opts);

test('a client that stops answering pings is terminated within ping_interval + ping_timeout; its session stays resumable', async () => {
  const clock = new ManualClock();
  gw = await startGateway({ clock, pingInterval: 10, pingTimeout: 10, heartbeatInterval: 0 });
  const { client: watcher } = await client({ room: 'p' });
  const { client: dead, init } = await client({ room: 'p' }, { answerPings: false });
  // Steps shorter than ping_timeout, each with a round trip that carries the watcher's pongs to the gateway.
  for (let step = 1; step <= 8; step++) {
    clock.advance(2_500);
    await roundTrip(watcher, `step-${step}`);
  }
  clock.advance(500); // 20.5 s = ping_interval + ping_timeout + the wheel's 250 ms slot, twice
  const closed = await dead.closed;
  expect(closed.code).toBe(1006); // terminated: no close frame
  // It may have come in during the steps above, before an ack: look at every frame, not the next one.
  const state = await until(() => watcher.all('session/state')[0], 3000, 'session/state');
  expect(state.payload).toEqual({ id: init.session_id, is_connected: false });
  expect(watcher.ws.readyState).toBe(watcher.ws.OPEN);
  const { init: r } = await client({ room: 'p', resume: { session_id: init.session_id, resume_token: init.resume_token, last_seq: dead.lastSeq } });
  expect(r.resumed).toBe(true);
});

test('a client that answers pings but sends nothing is closed 4100 after heartbeat_timeout, and can resume', async () => {
  gw = await startGateway({ pingInterval: 0.2, pingTimeout: 0.2, heartbeatInterval: 0.4, heartbeatTimeout: 0.8 });
  const { client: quiet, init } = await client();
  const start = Date.now();
  const d = await quiet.next('system/disconnect', 3000);
  expect(d.payload).toMatchObject({ code: 4100, reason: 'heartbeat_timeout' });
  const closed = await quiet.closed;
  expect(closed.code).toBe(4100);
  expect(closed.at - start).toBeGreaterThanOrEqual(700);
  expect(quiet.pings.length).toBeGreaterThanOrEqual(2);
  expect(quiet.all('system/heartbeat').length).toBeGreaterThanOrEqual(1);
  expect(quiet.all('system/heartbeat').every((f) => f.seq === undefined)).toBe(true);
  const { init: r } = await client({ resume: { session_id: init.session_id, resume_token: init.resume_token, last_seq: quiet.lastSeq } });
  expect(r.resumed).toBe(true);
});

test('an idle, healthy client (answers pings, sends heartbeats) is never closed', async () => {
  const clock = new ManualClock();
  gw = await startGateway({ clock, pingInterval: 10, pingTimeout: 10, heartbeatInterval: 10, heartbeatTimeout: 20 });
  const { client: c } = await client();
  // A minute in 5 s steps; each step's round trip is the client's heartbeat, and carries its pongs to the gateway.
  for (let step = 1; step <= 12; step++) {
    clock.advance(5_000);
    await roundTrip(c, `beat-${step}`);
  }
  expect(c.ws.readyState).toBe(c.ws.OPEN);
  expect(c.pings.length).toBeGreaterThanOrEqual(5);
  expect(c.all('system/heartbeat').length).toBeGreaterThanOrEqual(5);
  expect(c.all('system/disconnect')).toHaveLength(0);
});

test('pings disabled: the heartbeat layer alone still closes a silent client and never pings', async () => {
  gw = await startGateway({ pingInterval: 0, heartbeatInterval: 0.3, heartbeatTimeout: 0.6 });
  const { client: c } = await client({}, { answerPings: false });
  expect((await c.closed).code).toBe(4100);
  expect(c.pings).toHaveLength(0);
});

test('heartbeat disabled: the ping layer alone still finds a dead peer and leaves a quiet live one alone', async () => {
  const clock = new ManualClock();
  gw = await startGateway({ clock, pingInterval: 10, pingTimeout: 10, heartbeatInterval: 0 });
  const { client: live } = await client();
  const { client: dead } = await client({}, { answerPings: false });
  for (let step = 1; step <= 6; step++) {
    clock.advance(5_000);
    await roundTrip(live, `step-${step}`);
  }
  expect((await dead.closed).code).toBe(1006);
  expect(live.ws.readyState).toBe(live.ws.OPEN);
  expect(live.all('system/heartbeat')).toHaveLength(0);
});

test('a client that stops reading is closed 4102 slow_consumer and can resume without loss', async () => {
  gw = await startGateway({ maxBuffered: 64 * 1024, pingInterval: 0, heartbeatInterval: 0, bufferMaxBytes: 32 * 1024 * 1024, bufferMaxMessages: 100_000 });
  const { client: slow, init } = await client();
  const sock = (slow.ws as unknown as { _socket: { pause(): void } })._socket;
  sock.pause();
  const big = 'x'.repeat(8 * 1024);
  const total = 2000; // 16 MB: more than loopback's kernel buffers absorb
  for (let i = 0; i < total; i++) {
    gw!.sendTo(String(init.session_id), 'app/blob', { i, big });
    if (i % 100 === 0) await sleep(2);
  }
  await sleep(500);
  const closes = await gw!.metrics.closes.get();
  expect(closes.values.find((v) => v.labels.code === '4102')?.value).toBe(1);
  expect(gw!.sessions().find((x) => x.id === init.session_id)!.isConnected).toBe(false);
  const { client: again, init: r } = await client({ resume: { session_id: init.session_id, resume_token: init.resume_token, last_seq: 0 } });
  expect(r.resumed).toBe(true);
  await again.next((f) => (f.payload as { i?: number })?.i === total - 1, 10_000);
  const got = again.all('app/blob').map((f) => (f.payload as { i: number }).i);
  expect(got).toEqual(Array.from({ length: total }, (_, i) => i));
});
