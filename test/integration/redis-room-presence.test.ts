import { Redis } from 'ioredis';
import { RedisSessionStore } from '../../src/redis/session-store.js';
import { startRedis, type RedisHandle } from '../support/redis.js';

// The session scripts' side of big rooms (docs/protocol.md §4.6 over Redis), against a real redis-server:
// what a join writes, what it reads back, and how often a big room's change is announced.
let redis: RedisHandle;
let stores: RedisSessionStore[] = [];
let listener: Redis | undefined;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  await listener?.quit();
  listener = undefined;
});

async function store(proc: string, prefix: string, presenceLimit: number): Promise<RedisSessionStore> {
  const s = new RedisSessionStore({ url: redis.url, prefix, proc, bufferMaxMessages: 100, dedupWindow: 8, sessionTtl: 30, presenceLimit, presenceTickMs: 500 });
  stores.push(s);
  await s.ready();
  return s;
}

/** Every note published on the `rooms` channel of `prefix`. */
async function notes(prefix: string): Promise<string[]> {
  const got: string[] = [];
  listener = new Redis(redis.url);
  listener.on('message', (_ch: string, room: string) => got.push(room));
  await listener.subscribe(`${prefix}rooms`);
  return got;
}

test('joins past the limit: the joiner\'s list is cut to the limit, its own entry first, and the room is noted once per tick', async () => {
  const prefix = `rp${Date.now()}:`;
  const [s1, s2] = [await store('one', prefix, 3), await store('two', prefix, 3)];
  const heard = await notes(prefix);
  const snaps = [];
  for (let i = 0; i < 8; i++) snaps.push(await (i % 2 ? s2 : s1).create(`m${i}`, `t${i}`, 'big', { n: i }, true));
  // Within the limit: everyone, joining order, as before.
  expect(snaps[2]!).toEqual({ size: 3, list: [0, 1, 2].map((n) => ({ id: `m${n}`, profile: { n }, is_connected: true })) });
  // Past it: the size, and limit entries with the joiner first, then the earliest members.
  expect(snaps[6]!.size).toBe(7);
  expect(snaps[6]!.list.map((s) => s.id)).toEqual(['m6', 'm0', 'm1']);
  // Five joins past the limit within a few ms: one note (the tick key), not five, and no per-member frames.
  await new Promise((r) => setTimeout(r, 100));
  expect(heard).toEqual(['big']);
  expect(await s1.redis.llen(`${prefix}s:m0:q`)).toBe(2); // session/joined of m1 and m2 only
  // After the tick the next change is noted again.
  await new Promise((r) => setTimeout(r, 500));
  await s2.disconnect('m7');
  await new Promise((r) => setTimeout(r, 100));
  expect(heard).toEqual(['big', 'big']);
  expect(await s1.counts(['big', 'nobody'])).toEqual([{ count: 8, connected: 7 }, { count: 0, connected: 0 }]);
});

test('pages follow the joining order across processes and list every member once; a leaver leaves the order', async () => {
  const prefix = `pg${Date.now()}:`;
  const [s1, s2] = [await store('one', prefix, 2), await store('two', prefix, 2)];
  for (let i = 0; i < 7; i++) await (i % 2 ? s2 : s1).create(`m${i}`, `t${i}`, 'r', {}, true);
  await s1.end('m3', 'closed');
  const seen: string[] = [];
  for (let offset = 0; offset < 8; offset += 2) {
    const page = await s2.page('r', offset, 2);
    expect(page.size).toBe(6);
    seen.push(...page.list.map((s) => s.id));
  }
  expect(seen).toEqual(['m0', 'm1', 'm2', 'm4', 'm5', 'm6']);
  expect(await s1.page('r', Number.MAX_SAFE_INTEGER, 2)).toEqual({ size: 6, list: [] });
});
