import { Redis } from 'ioredis';
import { api, metric, until } from '../support/http-api.js';
import { startRedis, type RedisHandle } from '../support/redis.js';
import { hogPublish, recoverFromStart, stillPublishing } from '../support/history-hog.js';
import { TestClient } from '../support/ws-client.js';
import { startWsgate, type WsgateProcess } from '../support/wsgate-process.js';

// Over Redis the history lives in Redis: one connection publishing big messages to made-up channels made Redis hold
// its send rate × history_ttl (~2.6 MB/s from one client) until maxmemory refused every write, sessions' too. The
// real `wsgate` on a real redis-server with a small --max-history-bytes: what Redis holds in channel history stays
// under it, the newest history is still there, the oldest is deleted.
let redis: RedisHandle;
let r: Redis;
let gw: WsgateProcess;
const clients: TestClient[] = [];
const client = async (): Promise<TestClient> => {
  const c = new TestClient(`ws://127.0.0.1:${gw.port}/api/ws`);
  clients.push(c);
  await c.hello();
  return c;
};

/** The hog's history streams in Redis and the bytes Redis says they take. */
async function hogStreams(): Promise<{ keys: number; bytes: number }> {
  let bytes = 0;
  let keys = 0;
  let cursor = '0';
  do {
    const [next, found] = await r.scan(cursor, 'MATCH', 'wsgate:ch:{hog.*}:s', 'COUNT', 1000);
    cursor = next;
    for (const k of found) {
      keys++;
      bytes += (await r.memory('USAGE', k)) ?? 0;
    }
  } while (cursor !== '0');
  return { keys, bytes };
}

beforeAll(async () => {
  redis = await startRedis();
  r = new Redis(redis.url);
  gw = await startWsgate(['--redis', redis.url, '--legacy', 'false', '--max-history-bytes', '2000000', '--max-payload', '65536']);
}, 30_000);
afterAll(async () => {
  for (const c of clients) c.kill();
  gw?.kill();
  r?.disconnect();
  await redis?.stop();
});

test('300 messages of 50 kB to 300 made-up channels under a 2 MB budget: Redis holds ≤ 2 MB of their history, the newest recover, the oldest are gone', async () => {
  const hog = await client();
  await hogPublish(hog, 300, 50_000, 20_000);

  // Without the budget: 300 streams, ~15 MB. The deletes go out after the publishes: wait until they are done.
  let held = { keys: 0, bytes: 0 };
  await until(async () => (held = await hogStreams()).keys <= 40, 10_000, 'the oldest streams deleted');
  expect(held.keys).toBeGreaterThanOrEqual(25);
  expect(held.bytes).toBeLessThanOrEqual(2_000_000);
  const scraped = (await api(gw.base, 'GET', '/metrics')).body as string;
  expect(metric(scraped, 'wsgate_channel_history_bytes')).toBeLessThanOrEqual(2_000_000);
  expect(metric(scraped, 'wsgate_channel_history_dropped_total')).toBeGreaterThanOrEqual(260);

  // The newest channel's message is still there: a subscriber recovering from offset 0 of its epoch gets it.
  const newest = await recoverFromStart(await client(), await client(), 'hog.299');
  expect(newest.position.offset).toBe(1);
  expect(newest.answer.recovered).toBe(true);
  expect(newest.first).toHaveLength(50_000);
  // The oldest's history was deleted for the budget: a recovery from before it is told it cannot be done.
  expect((await recoverFromStart(await client(), await client(), 'hog.0')).answer).toMatchObject({ recovered: false, missed: 1 });
  await stillPublishing(hog); // the publisher was never cut off
});
