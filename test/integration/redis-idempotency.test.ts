import { jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { IdempotencyPending } from '../../src/http/idempotency.js';
import { RedisIdempotency } from '../../src/redis/redis-idempotency.js';
import { api } from '../support/http-api.js';
import { startRedis, type RedisHandle } from '../support/redis.js';
import { TestClient, sleep } from '../support/ws-client.js';
import { startWsgate, type WsgateProcess } from '../support/wsgate-process.js';

// POST /api/publish idempotency keys with --redis: kept in Redis, so a retry that reaches another process of the
// gateway (a load balancer's retry) finds the first result and publishes nothing.
jest.setTimeout(60_000);

let redis: RedisHandle;
let conn: Redis;
const procs: WsgateProcess[] = [];
let client: TestClient | undefined;

beforeAll(async () => {
  redis = await startRedis();
  conn = new Redis(redis.url);
});
afterAll(async () => {
  client?.kill();
  for (const p of procs) p.kill();
  conn.disconnect();
  await redis.stop();
});

test('two real processes: a retry of a publish on the other one answers the first result and publishes nothing; the key with other data is 422', async () => {
  for (let i = 0; i < 2; i++) procs.push(await startWsgate(['--redis', redis.url, '--legacy', 'false']));
  const [g1, g2] = procs.map((p) => p.base) as [string, string];
  client = new TestClient(`ws://127.0.0.1:${procs[1]!.port}/api/ws`);
  await client.hello();
  client.send('channel/subscribe', { channel: 'orders' });
  await client.next('channel/subscribed');

  const body = { channel: 'orders', data: { id: 42 }, idempotency_key: 'order-42' };
  const first = await api(g1, 'POST', '/api/publish', body);
  expect(first.status).toBe(200);
  const retry = await api(g2, 'POST', '/api/publish', body);
  expect(retry.status).toBe(200);
  expect(retry.body).toEqual(first.body);
  expect(retry.headers.get('idempotent-replayed')).toBe('true');
  expect((await api(g2, 'POST', '/api/publish', { ...body, data: { id: 43 } })).status).toBe(422);

  // Two at once on the two processes: one publish, both answered with it.
  const both = await Promise.all([g1, g2].map((g) => api(g, 'POST', '/api/publish', { channel: 'orders', data: 'x', idempotency_key: 'race' })));
  expect(both.map((r) => r.status)).toEqual([200, 200]);
  expect(both[1]!.body).toEqual(both[0]!.body);
  expect(both.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(1);

  await sleep(200);
  expect(client.all('channel/message').map((f) => (f.payload as { data: unknown }).data)).toEqual([{ id: 42 }, 'x']);
});

test('a failed first call frees the key for a retry elsewhere; a repeat waits for a first call still running; keys are bounded', async () => {
  const prefix = `b${Date.now()}:`;
  const [p1, p2] = [new RedisIdempotency<number>(conn, { prefix, max: 3 }), new RedisIdempotency<number>(conn, { prefix, max: 3, waitMs: 300 })];
  await expect(p1.run('k', 'fp', () => Promise.reject(new Error('broker down')))).rejects.toThrow('broker down');
  expect(await p2.run('k', 'fp', async () => 1)).toEqual({ value: 1, replayed: false });
  expect(await p1.run('k', 'fp', async () => 2)).toEqual({ value: 1, replayed: true });

  // A first call that takes 150 ms: the repeat on the other process waits and gets its result.
  const slow = p1.run('slow', 'fp', async () => (await sleep(150), 7));
  await sleep(20);
  expect(await p2.run('slow', 'fp', async () => 8)).toEqual({ value: 7, replayed: true });
  await slow;
  // One that outlasts the repeat's wait: the repeat is told to retry, it does not run the call a second time.
  const stuck = p1.run('stuck', 'fp', async () => (await sleep(600), 9));
  await sleep(20);
  await expect(p2.run('stuck', 'fp', async () => 10)).rejects.toBeInstanceOf(IdempotencyPending);
  await stuck;

  // At most 3 keys: 'k' and 'slow' were dropped for 'stuck', 'a', 'b'; 'k' runs again.
  for (const key of ['a', 'b']) await p1.run(key, 'fp', async () => 0);
  expect(await conn.zcard(`${prefix}i`)).toBe(3);
  expect(await p2.run('k', 'fp', async () => 3)).toEqual({ value: 3, replayed: false });
  expect(await conn.exists(`${prefix}i:slow`)).toBe(0);
});
