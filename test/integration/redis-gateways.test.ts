import type { Gateway } from '../../src/index.js';
import { ClientPool, startGateway } from '../support/gateway.js';
import { api, until } from '../support/http-api.js';
import { startRedis, type RedisHandle } from '../support/redis.js';
import type { TestClient } from '../support/ws-client.js';

// Two gateways in this process sharing one real redis-server and key prefix: one gateway of two "processes".
// (Killing a process for real is in test/e2e/redis-processes.test.ts.)
let redis: RedisHandle;
let gws: Gateway[] = [];
const pool = new ClientPool();

async function pair(): Promise<[Gateway, Gateway]> {
  const redisPrefix = `g${Date.now()}-${Math.random()}:`;
  gws = [await startGateway({ redis: redis.url, redisPrefix }), await startGateway({ redis: redis.url, redisPrefix })];
  return gws as [Gateway, Gateway];
}
const payloads = (c: TestClient, event: string) => c.all(event).map((f) => f.payload);

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  pool.killAll();
  await Promise.all(gws.map((g) => g.close()));
  gws = [];
});

test('presence, unicast and broadcast between clients of different processes, each frame once and in seq order', async () => {
  const [g1, g2] = await pair();
  const { client: a, init: ia } = await pool.connect(g1, { room: 'lobby', profile: { name: 'Ann' } });
  const { client: b, init: ib } = await pool.connect(g2, { room: 'lobby', profile: { name: 'Bob' } });
  expect(ib.sessions).toEqual([
    { id: ia.session_id, profile: { name: 'Ann' }, is_connected: true },
    { id: ib.session_id, profile: { name: 'Bob' }, is_connected: true },
  ]);
  expect((await a.next('session/joined')).payload).toEqual({ id: ib.session_id, profile: { name: 'Bob' } });
  b.send('send/unicast', { receiver: ia.session_id, subject: 'hi', body: 1 }, 'u1');
  expect((await b.next('system/ack')).payload).toEqual({ id: 'u1' });
  expect((await a.next('send/unicast')).payload).toEqual({ sender: ib.session_id, receiver: ia.session_id, subject: 'hi', body: 1 });
  a.send('send/broadcast', { subject: 'all', body: 2 }, 'b1');
  await a.next('system/ack');
  expect((await b.next('send/broadcast')).payload).toEqual({ sender: ia.session_id, subject: 'all', body: 2 });
  // The same id again is a duplicate wherever it is checked: acked, not applied.
  a.send('send/broadcast', { subject: 'all', body: 2 }, 'b1');
  expect((await a.next('system/ack')).payload).toEqual({ id: 'b1', duplicate: true });
  b.send('send/unicast', { receiver: 'nobody', subject: 'x', body: 0 }, 'u2');
  expect((await b.next('system/error')).payload).toMatchObject({ code: 'unknown_session', id: 'u2' });
  for (const c of [a, b]) {
    const seqs = c.frames.filter((f) => f.seq !== undefined).map((f) => f.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  }
  expect(payloads(b, 'send/broadcast')).toHaveLength(1);
});

test('the HTTP API of either process reaches, lists and ends the sessions of both', async () => {
  const [g1, g2] = await pair();
  const { client: a, init: ia } = await pool.connect(g1, { room: 'r' });
  const { init: ib } = await pool.connect(g2, { room: 'r' });
  const sent = await api(g2, 'POST', `/api/sessions/${ia.session_id}/send`, { event: 'app/notice', payload: { n: 1 } });
  expect(sent.status).toBe(202);
  expect(sent.body).toMatchObject({ connected: true });
  const notice = await a.next('app/notice');
  expect(notice.payload).toEqual({ n: 1 });
  expect(notice.seq).toBe((sent.body as { seq: number }).seq);
  const listed = await api(g1, 'GET', '/api/sessions?room=r');
  expect((listed.body as { sessions: { id: string }[] }).sessions.map((s) => s.id).sort()).toEqual([ia.session_id, ib.session_id].sort());
  expect((await api(g2, 'DELETE', `/api/sessions/${ia.session_id}`)).status).toBe(204);
  expect((await a.closed).code).toBe(4003);
  expect((await api(g2, 'POST', `/api/sessions/${ia.session_id}/send`, { event: 'app/x' })).status).toBe(404);
});

test('client acks reach Redis: the buffers of clients acking together shrink, bytes with them, as any process lists them', async () => {
  const [g1, g2] = await pair();
  const clients = await Promise.all([0, 1, 2].map((i) => pool.connect(g1, { room: `acks${i}` })));
  const ids = clients.map(({ init }) => init.session_id as string);
  for (const id of ids) {
    for (let n = 1; n <= 4; n++) expect((await api(g2, 'POST', `/api/sessions/${id}/send`, { event: 'app/n', payload: { n, text: 'x'.repeat(100) } })).status).toBe(202);
  }
  const last = await Promise.all(clients.map(async ({ client }) => {
    let seq = 0;
    for (let n = 1; n <= 4; n++) seq = (await client.next('app/n')).seq!;
    return seq;
  }));
  const held = async (): Promise<[number, number][]> => {
    const listed = (await api(g2, 'GET', '/api/sessions')).body as { sessions: { id: string; buffered: number; buffered_bytes: number }[] };
    return ids.map((id) => listed.sessions.find((s) => s.id === id)!).map((s) => [s.buffered, s.buffered_bytes]);
  };
  expect((await held()).map(([n]) => n)).toEqual(last);
  // All three ack at once: the first two all but their last message, the third everything.
  clients.forEach(({ client }, i) => client.send('client/ack', { seq: i < 2 ? last[i]! - 1 : last[i]! }));
  const after = await until(async () => {
    const h = await held();
    return h.map(([n]) => n).join() === '1,1,0' ? h : undefined;
  }, 5000, 'buffers trimmed in Redis');
  expect(after![0]![1]).toBeGreaterThan(100);
  expect(after![1]![1]).toBe(after![0]![1]);
  expect(after![2]![1]).toBe(0);
});

test('the library API of either process reaches and ends the sessions of both, as the HTTP API does', async () => {
  const [g1, g2] = await pair();
  const { client: a, init: ia } = await pool.connect(g1, { room: 'lib' });
  const id = ia.session_id as string;
  expect(g2.session(id)).toBeUndefined(); // not held by g2: reached through Redis
  await expect(g2.sendTo(id, 'app/notice', { n: 1 })).resolves.toBe(true);
  expect((await a.next('app/notice')).payload).toEqual({ n: 1 });
  // A payload JSON cannot express throws at the call, as for a local session; nothing is sent.
  expect(() => g2.sendTo(id, 'app/bad', { big: 1n })).toThrow(TypeError);
  await expect(g1.sendTo(id, 'app/notice', { n: 2 })).resolves.toBe(true);
  const second = await a.next('app/notice');
  expect(second).toMatchObject({ payload: { n: 2 }, seq: a.all('app/notice')[0]!.seq! + 1 });
  await expect(g2.sendTo('nobody', 'app/notice', {})).resolves.toBe(false);
  await expect(g2.endSession('nobody')).resolves.toBe(false);
  await expect(g2.endSession(id)).resolves.toBe(true);
  expect((await a.closed).code).toBe(4003);
  await expect(g1.sendTo(id, 'app/notice', {})).resolves.toBe(false);
});

test('a channel publish on one process reaches subscribers on both; a resume on the other process keeps the subscription', async () => {
  const [g1, g2] = await pair();
  const { client: a, init: ia } = await pool.connect(g1);
  const { client: b } = await pool.connect(g2);
  for (const c of [a, b]) {
    c.send('channel/subscribe', { channel: 'news' });
    await c.next('channel/subscribed');
  }
  await g2.publish('news', 'one');
  expect((await a.next('channel/message')).payload).toMatchObject({ data: 'one', offset: 1 });
  expect((await b.next('channel/message')).payload).toMatchObject({ data: 'one', offset: 1 });
  const seen = a.lastSeq;
  a.kill();
  await g2.publish('news', 'two'); // buffered for `a` in Redis by g1 while it is away
  const { client: a2, init: i2 } = await pool.connect(g2, { resume: { session_id: ia.session_id, resume_token: ia.resume_token, last_seq: seen } });
  expect(i2).toMatchObject({ resumed: true, session_id: ia.session_id });
  await g1.publish('news', 'three');
  const got = [await a2.next('channel/message'), await a2.next('channel/message')];
  expect(got.map((f) => (f.payload as { data: string }).data)).toEqual(['two', 'three']);
  expect(got.map((f) => f.seq)).toEqual([seen + 1, seen + 2]);
  await new Promise((r) => setTimeout(r, 200));
  expect(a2.all('channel/message')).toHaveLength(2);
});

test('takeover across processes: resuming on the other process closes the old socket 4002', async () => {
  const [g1, g2] = await pair();
  const { client: a, init: ia } = await pool.connect(g1, { room: 't' });
  const { init: i2 } = await pool.connect(g2, { resume: { session_id: ia.session_id, resume_token: ia.resume_token, last_seq: 0 } });
  expect(i2).toMatchObject({ resumed: true });
  expect((await a.closed).code).toBe(4002);
});

test('three processes: a room spread over all of them hears each broadcast once; draining one moves its clients to the others by resume', async () => {
  const redisPrefix = `g3-${Date.now()}:`;
  gws = [await startGateway({ redis: redis.url, redisPrefix }), await startGateway({ redis: redis.url, redisPrefix }), await startGateway({ redis: redis.url, redisPrefix })];
  const members = await Promise.all(gws.map((g) => pool.connect(g, { room: 'three' })));
  const [a, b, c] = members.map((m) => m.client) as [TestClient, TestClient, TestClient];
  a.send('send/broadcast', { subject: 's', body: 'from a' }, 'x');
  await a.next('system/ack');
  for (const other of [b, c]) expect((await other.next('send/broadcast')).payload).toMatchObject({ body: 'from a' });
  // Draining process 3: its client is told 1012 and resumes on process 1, nothing lost, the room never hears it left.
  const { init: ic } = members[2]!;
  const seen = c.lastSeq;
  await gws[2]!.drain();
  expect((await c.closed).code).toBe(1012);
  b.send('send/unicast', { receiver: ic.session_id, subject: 'while moving', body: 1 }, 'm');
  await b.next('system/ack');
  const { client: c2, init } = await pool.connect(gws[0]!, { resume: { session_id: ic.session_id, resume_token: ic.resume_token, last_seq: seen } });
  expect(init).toMatchObject({ resumed: true });
  expect((await c2.next('send/unicast')).payload).toMatchObject({ subject: 'while moving' });
  expect(b.all('session/left')).toHaveLength(0);
  for (const other of [b, c]) expect(other.all('send/broadcast')).toHaveLength(1);
  gws = gws.slice(0, 2);
});
