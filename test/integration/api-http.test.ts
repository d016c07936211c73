import { networkInterfaces } from 'node:os';
import type { Gateway } from '../../src/index.js';
import { api, until } from '../support/http-api.js';
import { connect, startGateway } from '../support/gateway.js';
import { sleep, TestClient } from '../support/ws-client.js';

let gw: Gateway;
const clients: TestClient[] = [];
const track = <T extends { client: TestClient }>(x: T): T => (clients.push(x.client), x);

beforeEach(async () => {
  gw = await startGateway({ heartbeatInterval: 0, pingInterval: 0 });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.kill();
  await gw.close();
});

test('publish reaches a subscribed client; a repeated idempotency_key returns the first result and publishes nothing', async () => {
  const { client } = track(await connect(gw));
  client.send('channel/subscribe', { channel: 'news' });
  await client.next('channel/subscribed');

  const first = await api(gw, 'POST', '/api/publish', { channel: 'news', data: { n: 1 }, idempotency_key: 'k-1' });
  expect(first.status).toBe(200);
  const pos = first.body as { offset: number; epoch: string };
  expect(pos.offset).toBe(1);
  expect(typeof pos.epoch).toBe('string');
  const msg = await client.next('channel/message');
  expect(msg.payload).toEqual({ channel: 'news', offset: 1, epoch: pos.epoch, data: { n: 1 } });

  const again = await api(gw, 'POST', '/api/publish', { channel: 'news', data: { n: 1 }, idempotency_key: 'k-1' });
  expect(again.status).toBe(200);
  expect(again.body).toEqual(pos);
  expect(again.headers.get('idempotent-replayed')).toBe('true');
  // The same key for something else is a client bug, not a replay.
  const reused = await api(gw, 'POST', '/api/publish', { channel: 'news', data: { n: 2 }, idempotency_key: 'k-1' });
  expect(reused.status).toBe(422);
  expect(reused.body).toMatchObject({ field: 'idempotency_key' });

  // A keyless publish right after gets the very next offset: the repeat published nothing.
  const next = await api(gw, 'POST', '/api/publish', { channel: 'news', data: 'plain' });
  expect(next.body).toEqual({ offset: 2, epoch: pos.epoch });
  await client.next((f) => f.event === 'channel/message' && (f.payload as { offset: number }).offset === 2);
  expect(client.all('channel/message')).toHaveLength(2);
});

test('concurrent repeats of one idempotency_key publish once', async () => {
  const { client } = track(await connect(gw));
  client.send('channel/subscribe', { channel: 'race' });
  await client.next('channel/subscribed');
  const answers = await Promise.all(
    Array.from({ length: 5 }, () => api(gw, 'POST', '/api/publish', { channel: 'race', data: 1, idempotency_key: 'same' })),
  );
  expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
  await client.next('channel/message');
  await sleep(100);
  expect(client.all('channel/message')).toHaveLength(1);
});

test('send reaches a connected session, is buffered for a disconnected one and delivered on resume', async () => {
  const { client, init } = track(await connect(gw));
  const id = init.session_id as string;
  const live = await api(gw, 'POST', `/api/sessions/${id}/send`, { event: 'app/notice', payload: { text: 'hi' } });
  expect(live.status).toBe(202);
  expect(live.body).toMatchObject({ connected: true });
  const got = await client.next('app/notice');
  expect(got.payload).toEqual({ text: 'hi' });
  expect(got.seq).toBe((live.body as { seq: number }).seq);

  const lastSeq = client.lastSeq;
  client.kill();
  await until(async () => ((await api(gw, 'GET', '/api/sessions')).body as { sessions: { is_connected: boolean }[] }).sessions[0]?.is_connected === false);
  const queued = await api(gw, 'POST', `/api/sessions/${id}/send`, { event: 'app/notice', payload: { text: 'while away' } });
  expect(queued.status).toBe(202);
  expect(queued.body).toMatchObject({ connected: false });

  const back = new TestClient(gw.url('/api/ws'));
  clients.push(back);
  const resumed = await back.hello({ resume: { session_id: id, resume_token: init.resume_token, last_seq: lastSeq } });
  expect(resumed).toMatchObject({ resumed: true, replayed: 1 });
  const replayed = await back.next('app/notice');
  expect(replayed.payload).toEqual({ text: 'while away' });
});

test('GET /api/sessions lists sessions; DELETE ends one with close 4003; unknown ids are 404', async () => {
  const { client, init } = track(await connect(gw, { room: 'lobby', profile: { name: 'ann' } }));
  client.send('channel/subscribe', { channel: 'c1' });
  await client.next('channel/subscribed');
  const list = await api(gw, 'GET', '/api/sessions');
  expect(list.status).toBe(200);
  const [s] = (list.body as { sessions: Record<string, unknown>[] }).sessions;
  expect(s).toMatchObject({ id: init.session_id, room: 'lobby', profile: { name: 'ann' }, is_connected: true, subscriptions: ['c1'], disconnected_at: null });
  expect(typeof s!.seq).toBe('number');
  expect(typeof s!.buffered).toBe('number');
  expect(Date.parse(s!.created_at as string)).toBeGreaterThan(Date.now() - 10_000);
  expect(((await api(gw, 'GET', '/api/sessions?room=other')).body as { sessions: unknown[] }).sessions).toEqual([]);

  const del = await api(gw, 'DELETE', `/api/sessions/${init.session_id as string}`);
  expect(del.status).toBe(204);
  const bye = await client.next('system/disconnect');
  expect(bye.payload).toMatchObject({ code: 4003, reason: 'kicked' });
  expect((await client.closed).code).toBe(4003);
  expect(((await api(gw, 'GET', '/api/sessions')).body as { sessions: unknown[] }).sessions).toEqual([]);

  expect((await api(gw, 'DELETE', `/api/sessions/${init.session_id as string}`)).status).toBe(404);
  const unknown = await api(gw, 'POST', '/api/sessions/nope/send', { event: 'app/x' });
  expect(unknown.status).toBe(404);
  expect(unknown.body).toMatchObject({ error: 'unknown session' });
});

test('bad requests get 400 naming the field; oversized bodies 413', async () => {
  const { init } = track(await connect(gw));
  const send = `/api/sessions/${init.session_id as string}/send`;
  const cases: [string, unknown, string][] = [
    ['/api/publish', '{"channel": "x", ', 'body'],
    ['/api/publish', '[1,2]', 'body'],
    ['/api/publish', { data: 1 }, 'channel'],
    ['/api/publish', { channel: 'has space', data: 1 }, 'channel'],
    ['/api/publish', { channel: 'ok' }, 'data'],
    ['/api/publish', { channel: 'ok', data: 1, idempotency_key: 42 }, 'idempotency_key'],
    [send, { payload: 1 }, 'event'],
    [send, { event: '' }, 'event'],
    [send, { event: 'system/disconnect', payload: { code: 1000 } }, 'event'],
    [send, { event: 'channel/message' }, 'event'],
  ];
  for (const [path, body, field] of cases) {
    const r = await api(gw, 'POST', path, body);
    expect({ path, body, status: r.status }).toEqual({ path, body, status: 400 });
    expect(r.body).toMatchObject({ field, error: expect.any(String) });
  }
  const big = await api(gw, 'POST', '/api/publish', { channel: 'x', data: 'a'.repeat(1024 * 1024 + 1) });
  expect(big.status).toBe(413);
  expect((await api(gw, 'GET', '/api/publish')).status).toBe(405);
});

test('with an API key: no or wrong bearer → 401, the right one → 200', async () => {
  const keyed = await startGateway({ apiKey: 's3cret-key', heartbeatInterval: 0, pingInterval: 0 });
  try {
    const none = await api(keyed, 'GET', '/api/sessions');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(none.body).toMatchObject({ error: expect.any(String) });
    expect((await api(keyed, 'POST', '/api/publish', { channel: 'a', data: 1 }, { authorization: 'Bearer s3cret-kez' })).status).toBe(401);
    expect((await api(keyed, 'GET', '/api/sessions', undefined, { authorization: 's3cret-key' })).status).toBe(401);
    const ok = await api(keyed, 'POST', '/api/publish', { channel: 'a', data: 1 }, { authorization: 'Bearer s3cret-key' });
    expect(ok.status).toBe(200);
    // Health and metrics stay open for probes and scrapers.
    expect((await api(keyed, 'GET', '/healthz')).status).toBe(200);
  } finally {
    await keyed.close();
  }
});

const external = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

(external ? test : test.skip)('without an API key only loopback peers are answered (403 otherwise)', async () => {
  // Bound to this machine's own non-loopback address: the peer address is then not 127.x.
  const open = await startGateway({ host: external!, heartbeatInterval: 0, pingInterval: 0 });
  try {
    const r = await api(open, 'GET', '/api/sessions');
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ error: expect.stringContaining('loopback') });
    expect((await api(open, 'POST', '/api/publish', { channel: 'a', data: 1 })).status).toBe(403);
    expect((await api(open, 'GET', '/healthz')).status).toBe(200);
  } finally {
    await open.close();
  }
  expect((await api(gw, 'GET', '/api/sessions')).status).toBe(200);
});
