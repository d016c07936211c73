import type { Gateway, GatewayInit } from '../../src/index.js';
import { ClientPool, startGateway } from '../support/gateway.js';
import { api } from '../support/http-api.js';
import { ManualClock } from '../support/manual-clock.js';
import { TestClient } from '../support/ws-client.js';

// Real sockets, but every gateway timer runs on a ManualClock: these tests wait for no deadline.
let gw: Gateway;
let clock: ManualClock;
const pool = new ClientPool();

/** Liveness layers off: advancing minutes must not fire pings the test is not about. */
async function start(init: GatewayInit = {}): Promise<void> {
  clock = new ManualClock(1_000_000);
  gw = await startGateway({ clock, pingInterval: 0, heartbeatInterval: 0, ...init });
}

afterEach(async () => {
  pool.killAll();
  await gw.close();
});

async function opened(): Promise<TestClient> {
  const c = pool.track(new TestClient(gw.url()));
  await c.open();
  return c;
}

/** Send a heartbeat with an id and wait for its ack: proves the connection is alive and everything before it was handled. */
async function roundTrip(c: TestClient, id: string): Promise<void> {
  c.send('client/heartbeat', undefined, id);
  await c.next((f) => f.event === 'system/ack' && (f.payload as { id?: string }).id === id);
}

test('hello_timeout: a hello just inside it is accepted; a connection silent for all of it gets 4101', async () => {
  await start({ helloTimeout: 5 });
  const early = await opened();
  clock.advance(4_999);
  expect(await early.hello({})).toMatchObject({ resumed: false });
  const silent = await opened();
  clock.advance(4_999);
  await roundTrip(early, 'alive');
  expect(silent.frames).toEqual([]);
  clock.advance(1);
  expect((await silent.next('system/disconnect')).payload).toMatchObject({ code: 4101, reason: 'hello_timeout' });
  expect((await silent.closed).code).toBe(4101);
});

test('rate_limit: a burst of twice the rate passes, the next message closes 4103; a second later there is room for rate more', async () => {
  await start({ rateLimit: 5 });
  const { client } = await pool.connect(gw); // the hello took one of the 10 tokens
  for (let i = 1; i <= 9; i++) client.send('client/heartbeat', undefined, `b${i}`);
  await client.next((f) => f.event === 'system/ack' && (f.payload as { id?: string }).id === 'b9');
  clock.advance(1_000);
  for (let i = 1; i <= 5; i++) client.send('client/heartbeat', undefined, `r${i}`);
  await client.next((f) => f.event === 'system/ack' && (f.payload as { id?: string }).id === 'r5');
  client.send('client/heartbeat', undefined, 'one-too-many');
  expect((await client.closed).code).toBe(4103);
  expect(client.all('system/ack').map((f) => (f.payload as { id: string }).id)).not.toContain('one-too-many');
});

test('session_ttl: a dropped session is listed as disconnected until the ttl, then leaves its room as expired', async () => {
  await start({ sessionTtl: 30 });
  const { client: a, init } = await pool.connect(gw, { room: 't' });
  const { client: b } = await pool.connect(gw, { room: 't' });
  a.kill();
  await b.next('session/state');
  clock.advance(29_999);
  const during = (await api(gw, 'GET', '/api/sessions?room=t')).body as { sessions: { id: string; is_connected: boolean }[] };
  expect(during.sessions).toContainEqual(expect.objectContaining({ id: init.session_id, is_connected: false }));
  expect(b.all('session/left')).toEqual([]);
  clock.advance(1);
  expect((await b.next('session/left')).payload).toEqual({ id: init.session_id, reason: 'expired' });
  const after = (await api(gw, 'GET', '/api/sessions?room=t')).body as { sessions: { id: string }[] };
  expect(after.sessions.map((s) => s.id)).not.toContain(init.session_id);
  const { init: late } = await pool.connect(gw, { resume: { session_id: init.session_id, resume_token: init.resume_token, last_seq: 0 } });
  expect(late.resume_error).toBe('expired');
});

test('drain pacing: drain_batch_size at a time, drain_batch_pause apart, all with 1012', async () => {
  await start({ drainBatchSize: 1, drainBatchPause: 1, drainTimeout: 10 });
  const clients = [];
  for (let i = 0; i < 3; i++) clients.push((await pool.connect(gw)).client);
  const [first, second, third] = clients as [TestClient, TestClient, TestClient];
  const drained = gw.drain();
  expect((await first.closed).code).toBe(1012);
  await roundTrip(second, 'still-open');
  clock.advance(999);
  await roundTrip(third, 'still-open');
  expect(second.all('system/disconnect')).toEqual([]);
  clock.advance(1);
  expect((await second.closed).code).toBe(1012);
  await roundTrip(third, 'still-open-2');
  clock.advance(1_000);
  expect((await third.closed).code).toBe(1012);
  expect(await drained).toEqual({ closed: 3, forced: 0, ms: 2_000 });
});

test('drain_timeout: a client that never answers the close handshake is dropped at the deadline, not before', async () => {
  await start({ drainTimeout: 2 });
  const polite = await pool.connect(gw);
  const stuck = await pool.connect(gw);
  stuck.client.ws.pause(); // reads nothing: the close frame is never seen or answered
  let result: unknown;
  const drained = gw.drain().then((r) => (result = r));
  expect((await polite.client.closed).code).toBe(1012);
  clock.advance(1_999);
  await new Promise((r) => setImmediate(r)); // let any pending I/O run: nothing but the clock may end this drain
  expect(result).toBeUndefined();
  clock.advance(1);
  await drained;
  expect(result).toMatchObject({ closed: 2, forced: 1, ms: 2_000 });
});
