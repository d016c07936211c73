import { Redis } from 'ioredis';
import type { ChannelMessage } from '../../src/broker/broker.js';
import { RedisBroker } from '../../src/broker/redis-broker.js';
import type { Gateway } from '../../src/index.js';
import { ClientPool, startGateway } from '../support/gateway.js';
import { until } from '../support/http-api.js';
import { startRedis, type RedisHandle } from '../support/redis.js';

// Two brokers on one real redis-server stand for two gateway processes.
let redis: RedisHandle;
const open: RedisBroker[] = [];
const broker = async (historySize = 100, historyTtl = 300): Promise<RedisBroker> => {
  const b = new RedisBroker({ url: redis.url, prefix: `t${open.length}-${Date.now()}:`, historySize, historyTtl });
  open.push(b);
  await b.ready();
  return b;
};
/** Two brokers sharing one key prefix: two processes of one gateway. */
const pair = async (historySize = 100): Promise<[RedisBroker, RedisBroker]> => {
  const prefix = `p${Date.now()}-${Math.random()}:`;
  const make = () => new RedisBroker({ url: redis.url, prefix, historySize, historyTtl: 300 });
  const a = make();
  const b = make();
  open.push(a, b);
  await Promise.all([a.ready(), b.ready()]);
  return [a, b];
};
const collect = (): { got: ChannelMessage[]; listener: (m: ChannelMessage) => void; next(n: number): Promise<ChannelMessage[]> } => {
  const got: ChannelMessage[] = [];
  let wake: (() => void) | undefined;
  return {
    got,
    listener: (m) => {
      got.push(m);
      wake?.();
    },
    async next(n) {
      const deadline = Date.now() + 5000;
      while (got.length < n && Date.now() < deadline) await new Promise<void>((r) => ((wake = r), setTimeout(r, 100)));
      return got;
    },
  };
};

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
});

test('a message published by one process reaches the listeners of the other, with the same offset and epoch', async () => {
  const [a, b] = await pair();
  const seen = collect();
  await b.subscribe('news', seen.listener);
  const pos1 = await a.publish('news', { n: 1 });
  const pos2 = await a.publish('news', { n: 2 });
  expect(pos2).toEqual({ offset: 2, epoch: pos1.epoch });
  expect(await seen.next(2)).toEqual([
    { channel: 'news', offset: 1, epoch: pos1.epoch, data: { n: 1 } },
    { channel: 'news', offset: 2, epoch: pos1.epoch, data: { n: 2 } },
  ]);
  await b.unsubscribe('news', seen.listener);
  await a.publish('news', { n: 3 });
  await b.publish('other', 'x'); // a later message on the same connection: n:3 would have arrived before it
  expect(seen.got).toHaveLength(2);
});

test('recovery on the other process returns exactly the messages after the position, in order', async () => {
  const [a, b] = await pair();
  const first = await a.publish('feed', 'm1');
  for (let i = 2; i <= 5; i++) await a.publish('feed', `m${i}`);
  const rec = await b.recover('feed', { offset: 2, epoch: first.epoch });
  expect(rec).toEqual({
    position: { offset: 5, epoch: first.epoch },
    recovered: true,
    messages: [3, 4, 5].map((n) => ({ channel: 'feed', offset: n, epoch: first.epoch, data: `m${n}` })),
  });
  expect(await b.recover('feed', { offset: 5, epoch: first.epoch })).toMatchObject({ recovered: true, messages: [] });
  expect(await b.recover('feed')).toEqual({ position: { offset: 5, epoch: first.epoch }, recovered: false, messages: [] });
  expect(await b.recover('feed', { offset: 9, epoch: first.epoch })).toMatchObject({ recovered: false, missed: 0 });
  expect(await b.recover('feed', { offset: 2, epoch: 'other' })).toMatchObject({ recovered: false, messages: [] });
});

test('history is capped: a position older than the cap is not recovered and the miss is counted', async () => {
  const b = await broker(3);
  const { epoch } = await b.publish('capped', 1);
  for (let i = 2; i <= 6; i++) await b.publish('capped', i);
  expect(await b.recover('capped', { offset: 1, epoch })).toEqual({ position: { offset: 6, epoch }, recovered: false, messages: [], missed: 5 });
  expect((await b.recover('capped', { offset: 3, epoch })).messages.map((m) => m.data)).toEqual([4, 5, 6]);
});

test('a subscriber on a quiet channel gets a position whose epoch the first publish keeps', async () => {
  const [a, b] = await pair();
  const { position } = await b.recover('quiet');
  expect(position.offset).toBe(0);
  expect((await a.publish('quiet', 'hi')).epoch).toBe(position.epoch);
  expect((await b.recover('quiet', position)).messages.map((m) => m.data)).toEqual(['hi']);
});

test('channel names nobody listens to leave Redis after their TTL; a quiet channel a process listens to keeps its epoch', async () => {
  // metaTtl 2 s: the broker renews its listened channels every 0.67 s (Redis TTLs run on the real clock).
  const prefix = `m${Date.now()}:`;
  const b = new RedisBroker({ url: redis.url, prefix, historySize: 10, historyTtl: 1, metaTtl: 2 });
  open.push(b);
  await b.ready();
  const admin = new Redis(redis.url);
  try {
    const exists = async (channel: string): Promise<boolean> => (await admin.exists(`${prefix}ch:{${channel}}:m`)) === 1;
    const listener = (): void => undefined;
    await b.subscribe('kept', listener);
    const kept = (await b.recover('kept')).position;
    // Made-up names: a subscribe's position and a publish, then nobody listens (as a hostile client leaves them).
    for (let i = 0; i < 20; i++) await b.recover(`made-up-${i}`);
    await b.publish('made-up-0', 'x');
    expect(await exists('made-up-0')).toBe(true);
    await until(async () => (await admin.keys(`${prefix}ch:{made-up-*`)).length === 0, 8000, 'made-up channels gone from Redis');
    // Three TTLs have passed for the quiet channel too: it is still there, with the epoch its subscribers were given.
    expect(await exists('kept')).toBe(true);
    expect((await b.recover('kept')).position).toEqual(kept);
    // Once nobody listens it goes the same way.
    await b.unsubscribe('kept', listener);
    await until(async () => !(await exists('kept')), 8000, 'kept channel gone once unsubscribed');
  } finally {
    admin.disconnect();
  }
}, 30_000);

test('when Redis loses the history (restart without persistence) the epoch changes and live delivery resumes', async () => {
  const [a, b] = await pair();
  const seen = collect();
  await b.subscribe('live', seen.listener);
  const before = await a.publish('live', 'before');
  await seen.next(1);
  await redis.restart();
  await Promise.all([a.ready(), b.ready()]);
  const rec = await b.recover('live', before);
  expect(rec.recovered).toBe(false);
  expect(rec.position.epoch).not.toBe(before.epoch);
  // ioredis re-subscribed the subscriber connection: new publishes arrive under the new epoch.
  let after: Awaited<ReturnType<RedisBroker['publish']>> | undefined;
  for (let i = 0; i < 50 && seen.got.length < 2; i++) {
    after = await a.publish('live', 'after');
    await seen.next(2);
  }
  expect(seen.got[1]).toMatchObject({ data: 'after', epoch: rec.position.epoch });
  expect(after!.epoch).toBe(rec.position.epoch);
});

test('publish during an outage fails at once instead of queueing', async () => {
  const b = await broker();
  await redis.kill();
  try {
    const t0 = Date.now();
    await expect(b.publish('x', 1)).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(1000);
  } finally {
    await redis.start();
  }
});

describe('two gateways sharing a RedisBroker each', () => {
  const pool = new ClientPool();
  let gws: Gateway[] = [];
  afterEach(async () => {
    pool.killAll();
    await Promise.all(gws.map((g) => g.close()));
    gws = [];
  });

  test('a client publishes on one gateway, a subscriber on the other gets it; recovery there replays what it missed', async () => {
    const [ba, bb] = await pair();
    gws = [await startGateway({ broker: ba }), await startGateway({ broker: bb })];
    const { client: sub } = await pool.connect(gws[1]!);
    const { client: pub } = await pool.connect(gws[0]!);
    sub.send('channel/subscribe', { channel: 'room.feed' });
    const subscribed = (await sub.next('channel/subscribed')).payload as { offset: number; epoch: string };
    pub.send('channel/publish', { channel: 'room.feed', data: 'hello' }, 'p1');
    await pub.next('system/ack');
    expect((await sub.next('channel/message')).payload).toEqual({ channel: 'room.feed', offset: 1, epoch: subscribed.epoch, data: 'hello' });
    await gws[0]!.publish('room.feed', 'two');
    await gws[0]!.publish('room.feed', 'three');
    const { client: late } = await pool.connect(gws[1]!);
    late.send('channel/subscribe', { channel: 'room.feed', since: { offset: 1, epoch: subscribed.epoch } });
    expect((await late.next('channel/subscribed')).payload).toMatchObject({ recovered: true, offset: 3 });
    expect([(await late.next('channel/message')).payload, (await late.next('channel/message')).payload]).toMatchObject([{ data: 'two' }, { data: 'three' }]);
  });
});

test('AUTH from the URL: the right password connects, a wrong one fails the start', async () => {
  const secured = await startRedis({ password: 's3cret' });
  try {
    const ok = new RedisBroker({ url: secured.url, historySize: 10, historyTtl: 60 });
    open.push(ok);
    await ok.ready(5000);
    expect((await ok.publish('auth', 1)).offset).toBe(1);
    const wrong = new RedisBroker({ url: secured.url.replace('s3cret', 'wrong'), historySize: 10, historyTtl: 60 });
    open.push(wrong);
    await expect(wrong.ready(1500)).rejects.toThrow(/the user\/password in the URL were refused/);
  } finally {
    await Promise.all(open.splice(0).map((b) => b.close()));
    await secured.stop();
  }
});
