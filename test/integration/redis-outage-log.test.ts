/**
 * What the real `wsgate` command logs through a Redis outage: clients that drop or leave while Redis is away are
 * expected failures — one warning, no stack, nothing at error level — and Redis hears of them when it is back.
 */
import { jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { api, until } from '../support/http-api.js';
import { startRedis, type RedisHandle } from '../support/redis.js';
import { TestClient } from '../support/ws-client.js';
import { startWsgate, type WsgateProcess } from '../support/wsgate-process.js';

jest.setTimeout(60_000);

let redis: RedisHandle;
let p: WsgateProcess | undefined;
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of clients) c.kill();
  p?.kill();
  await redis.stop();
});

test('clients dropping and leaving during an outage: one warning without a stack, no error; Redis is told when it is back', async () => {
  p = await startWsgate(['--redis', redis.url, '--legacy', 'false', '--session-ttl', '60']);
  const gw = p;
  const connect = async (resumable: boolean): Promise<{ c: TestClient; id: string }> => {
    const c = new TestClient(`ws://127.0.0.1:${gw.port}/api/ws`);
    clients.push(c);
    const init = await c.hello({ room: 'out', resumable });
    return { c, id: init.session_id as string };
  };
  const dropping = await Promise.all([1, 2, 3].map(() => connect(true)));
  const leaving = await connect(false);
  const staying = await connect(true);
  const before = gw.logs.length;

  // Redis comes back with what it held before the outage (a snapshot, as with persistence): the sessions all connected.
  const admin = new Redis(redis.url);
  await admin.save();
  admin.disconnect();
  await redis.kill();
  await until(async () => (await api(gw.base, 'GET', '/readyz')).status === 503, 5000, 'readyz 503');
  for (const { c } of dropping) c.kill(); // no close frame: the session stays resumable
  leaving.c.close(1000); // not resumable: the session ends
  await Promise.all([...dropping, leaving].map(({ c }) => c.closed));
  staying.c.send('send/broadcast', { subject: 's', body: 1 }, 'b1'); // cannot be numbered meanwhile
  // The HTTP API answers 503 with the reason, as /readyz does: the backend retries later.
  const send = await api(gw.base, 'POST', `/api/sessions/${staying.id}/send`, { event: 'app/x', payload: 1 });
  const publish = await api(gw.base, 'POST', '/api/publish', { channel: 'c', data: 1 });
  for (const r of [send, publish]) {
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ error: 'the gateway cannot reach Redis; try again later' });
  }
  await new Promise((r) => setTimeout(r, 500));

  const during = gw.logs.slice(before);
  expect(during.filter((l) => (l.level as number) >= 50)).toEqual([]);
  const warnings = during.filter((l) => (l.level as number) === 40);
  expect(warnings.map((l) => l.msg)).toEqual(['Redis unreachable: what it missed is caught up when it is back']);
  expect(JSON.stringify(warnings)).not.toMatch(/"stack"|\n\s+at /);

  await redis.start();
  await until(async () => (await api(gw.base, 'GET', '/readyz')).status === 200, 10_000, 'readyz 200');
  // Redis hears what it missed: the dropped sessions are disconnected, the one that left is ended, the open one stays.
  const listed = await until(async () => {
    const r = (await api(gw.base, 'GET', '/api/sessions?room=out')).body as { sessions: { id: string; is_connected: boolean }[] };
    return r.sessions.length === 4 ? r.sessions : undefined;
  }, 5000, 'sessions back in Redis');
  const state = Object.fromEntries(listed!.map((s) => [s.id, s.is_connected]));
  expect(state).toEqual({ ...Object.fromEntries(dropping.map(({ id }) => [id, false])), [staying.id]: true });
  expect(staying.c.ws.readyState).toBe(1);
});
