import { ProcessBus, type BusHandler } from '../../src/redis/process-bus.js';
import { Outbox } from '../../src/redis/outbox.js';
import { RedisSessionStore } from '../../src/redis/session-store.js';
import { ReplayBuffer } from '../../src/session/replay-buffer.js';
import { SinkQueue } from '../../src/redis/sink-queue.js';
import { startRedis, type RedisHandle } from '../support/redis.js';

// Each "process" is a session store plus its bus with its own process id, sharing one Redis and prefix,
// exactly what two gateway processes hold; what a process writes to its sockets is recorded per session.
interface Proc {
  store: RedisSessionStore;
  bus: ProcessBus;
  /** session id → frames written, in order. */
  out: Map<string, { seq: number; event: string; payload: unknown }[]>;
  outboxes: Map<string, Outbox>;
  moved: string[];
  ended: [string, string][];
}

let redis: RedisHandle;
let prefix: string;
const procs: Proc[] = [];

async function proc(name: string, sessionTtl = 30, bufferMaxBytes?: number): Promise<Proc> {
  const store = new RedisSessionStore({ url: redis.url, prefix, proc: name, bufferMaxMessages: 100, bufferMaxBytes, dedupWindow: 3, sessionTtl });
  const bus = new ProcessBus(store, undefined, { livenessTtlMs: 300, reapIntervalMs: 100, sweepIntervalMs: 100 });
  const p: Proc = { store, bus, out: new Map(), outboxes: new Map(), moved: [], ended: [] };
  const handler: BusHandler = {
    frame: (id, seq, text) => outbox(p, id).push(seq, text),
    moved: (id) => p.moved.push(id),
    ended: (id, reason) => p.ended.push([id, reason]),
    resync: () => undefined,
    roomChanged: () => undefined,
  };
  await store.ready();
  await bus.start(handler);
  procs.push(p);
  return p;
}

function outbox(p: Proc, id: string, next = 1): Outbox {
  let box = p.outboxes.get(id);
  if (!box) {
    p.outboxes.set(id, (box = new Outbox(next, (seq, frame) => {
      const f = JSON.parse(typeof frame === 'string' ? frame : frame.text(seq)) as { seq: number; event: string; payload: unknown };
      expect(f.seq).toBe(seq);
      if (!p.out.has(id)) p.out.set(id, []);
      p.out.get(id)!.push(f);
    })));
  }
  return box;
}

const events = (p: Proc, id: string) => (p.out.get(id) ?? []).map((f) => [f.seq, f.event, f.payload]);

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A process that dies like kill -9: its timers and connections stop, nothing is cleaned up in Redis. */
async function crash(p: Proc): Promise<void> {
  await p.bus.stop();
  p.store.redis.disconnect();
}

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(() => {
  prefix = `s${Date.now()}-${Math.random()}:`;
});
afterEach(async () => {
  for (const p of procs.splice(0)) {
    await p.bus.stop();
    await p.store.close();
  }
});

test('presence, unicast and room broadcast reach sessions on the other process, each with its own seq', async () => {
  const [p1, p2] = [await proc('one'), await proc('two')];
  const roster1 = await p1.store.create('a', 'tok-a', 'lobby', { name: 'Ann' }, true);
  expect(roster1).toEqual({ size: 1, list: [{ id: 'a', profile: { name: 'Ann' }, is_connected: true }] });
  const roster2 = await p2.store.create('b', 'tok-b', 'lobby', { name: 'Bob' }, true);
  expect(roster2.list).toEqual([
    { id: 'a', profile: { name: 'Ann' }, is_connected: true },
    { id: 'b', profile: { name: 'Bob' }, is_connected: true },
  ]);
  expect(await p2.store.deliver(['a'], 'send/unicast', { sender: 'b', receiver: 'a', subject: 's', body: 1 })).toBe(1);
  expect(await p2.store.deliver(['nobody'], 'send/unicast', {})).toBe(0);
  expect(await p1.store.toRoom('lobby', 'a', 'send/broadcast', { sender: 'a', subject: 'hi', body: 2 })).toBe(1);
  await until('frames on both processes', () => (p1.out.get('a')?.length ?? 0) >= 2 && (p2.out.get('b')?.length ?? 0) >= 1);
  expect(events(p1, 'a')).toEqual([
    [1, 'session/joined', { id: 'b', profile: { name: 'Bob' } }],
    [2, 'send/unicast', { sender: 'b', receiver: 'a', subject: 's', body: 1 }],
  ]);
  expect(events(p2, 'b')).toEqual([[1, 'send/broadcast', { sender: 'a', subject: 'hi', body: 2 }]]);
});

test('kill -9 of a process: the room sees its sessions disconnected, and one resumes on the other process with seq continuing and every message once', async () => {
  const [p1, p2] = [await proc('one'), await proc('two')];
  await p1.store.create('a', 'tok-a', 'r', {}, true);
  await p2.store.create('b', 'tok-b', 'r', {}, true);
  for (let i = 1; i <= 3; i++) await p2.store.deliver(['a'], 'app/n', i);
  // a's stream: 1 session/joined (b), 2-4 app/n 1..3
  await until('a got 4', () => (p1.out.get('a')?.length ?? 0) === 4);
  const lastSeen = 3; // the client of `a` saw seq 3 before its process died (seq 4 was in flight)
  await crash(p1);
  // Accepted while `a` has no process: buffered in Redis.
  for (let i = 4; i <= 5; i++) await p2.store.deliver(['a'], 'app/n', i);
  await until('room told a disconnected', () => events(p2, 'b').some(([, e, pl]) => e === 'session/state' && (pl as { is_connected: boolean }).is_connected === false), 3000);
  expect((await p2.store.get('a'))).toMatchObject({ is_connected: false, owner: '' });

  const claim = await p2.store.claim('a', 'tok-a', lastSeen);
  expect(claim).toMatchObject({ ok: true, session: { seq: 6, room: 'r', previousOwner: '' } });
  const box = outbox(p2, 'a', lastSeen + 1);
  for (const f of await p2.store.frames('a', lastSeen + 1, 6)) box.push(f.seq, f.text);
  await p2.store.deliver(['a'], 'app/n', 6);
  await until('a resumed and live on two', () => (p2.out.get('a')?.length ?? 0) === 4);
  expect(events(p2, 'a')).toEqual([
    [4, 'app/n', 3],
    [5, 'app/n', 4],
    [6, 'app/n', 5],
    [7, 'app/n', 6],
  ]);
  expect(events(p2, 'b').filter(([, e]) => e === 'session/state').map(([, , pl]) => pl)).toEqual([
    { id: 'a', is_connected: false },
    { id: 'a', is_connected: true },
  ]);
});

test('a dead process with many sessions is reaped in chunks: every session disconnected, Redis free for others in between', async () => {
  const [p1, p2] = [await proc('one'), await proc('two')];
  const ids = Array.from({ length: 450 }, (_, i) => `m${i}`);
  for (const id of ids) await p1.store.create(id, `tok-${id}`, `room-${id}`, {}, true);
  await p2.store.create('watcher', 'tok-w', 'room-m0', {}, true);
  let scripts = 0;
  const reap = p2.store.redis.wsReap.bind(p2.store.redis);
  // Scripts that reaped (not the ones that found the process still alive, before its liveness key ran out).
  p2.store.redis.wsReap = (...args: (string | number)[]) => reap(...args).then((r: unknown) => ((Array.isArray(r) ? r[0] : r) !== -1 && scripts++, r));
  await crash(p1);
  await until('all of one\'s sessions disconnected', async () => (await p2.store.list()).filter((s) => s.owner === '' && !s.is_connected).length === 450, 5000);
  // 450 sessions at 200 a script: three scripts for the dead process, and it is gone from the process list.
  expect(scripts).toBeGreaterThanOrEqual(3);
  expect(await p2.store.redis.smembers(`${prefix}procs`)).toEqual(['two']);
  // Its room still heard it, once.
  await until('room told', () => events(p2, 'watcher').some(([, e]) => e === 'session/state'), 3000);
  expect(events(p2, 'watcher').filter(([, e]) => e === 'session/state')).toHaveLength(1);
});

test('takeover across processes: the old owner is told the session moved; a wrong token or an acked-away seq is refused', async () => {
  const [p1, p2] = [await proc('one'), await proc('two')];
  await p1.store.create('a', 'tok-a', 'r', {}, true);
  for (let i = 1; i <= 3; i++) await p1.store.deliver(['a'], 'app/n', i);
  expect(await p2.store.claim('a', 'wrong', 0)).toEqual({ ok: false, error: 'bad_token' });
  await p1.store.ack('a', 2);
  expect(await p2.store.claim('a', 'tok-a', 1)).toEqual({ ok: false, error: 'gap' });
  expect(await p2.store.claim('a', 'tok-a', 9)).toEqual({ ok: false, error: 'gap' });
  expect(await p2.store.claim('nope', 'x', 0)).toEqual({ ok: false, error: 'unknown_session' });
  expect(await p2.store.claim('a', 'tok-a', 2)).toMatchObject({ ok: true, session: { previousOwner: 'one' } });
  await until('one told', () => p1.moved.includes('a'));
  // A late disconnect from the old owner changes nothing.
  expect(await p1.store.disconnect('a')).toBe(false);
  expect(await p1.store.get('a')).toMatchObject({ is_connected: true, owner: 'two' });
});

test('a disconnected session expires after session_ttl: the room hears it left, a late resume hears expired', async () => {
  const [p1, p2] = [await proc('one', 0.3), await proc('two', 0.3)];
  await p1.store.create('a', 'tok-a', 'r', {}, true);
  await p2.store.create('b', 'tok-b', 'r', {}, true);
  expect(await p1.store.disconnect('a')).toBe(true);
  await until('left', () => events(p2, 'b').some(([, e]) => e === 'session/left'));
  expect(events(p2, 'b').map(([, e, pl]) => [e, pl])).toEqual([
    ['session/state', { id: 'a', is_connected: false }],
    ['session/left', { id: 'a', reason: 'expired' }],
  ]);
  expect(await p2.store.claim('a', 'tok-a', 0)).toEqual({ ok: false, error: 'expired' });
  expect(await p2.store.page('r', 0, 10)).toEqual({ size: 1, list: [{ id: 'b', profile: {}, is_connected: true }] });
});

test('ending a session from another process tells its owner; the API sees every session of every process', async () => {
  const [p1, p2] = [await proc('one'), await proc('two')];
  await p1.store.create('a', 'tok-a', 'r', {}, true);
  await p2.store.create('b', 'tok-b', 'r', {}, false);
  expect((await p2.store.list()).map((s) => [s.id, s.owner]).sort()).toEqual([['a', 'one'], ['b', 'two']]);
  expect(await p2.store.end('a', 'kicked')).toBe(true);
  expect(await p2.store.end('a', 'kicked')).toBe(false);
  await until('one told', () => p1.ended.length === 1);
  expect(p1.ended).toEqual([['a', 'kicked']]);
  await until('b told', () => events(p2, 'b').some(([, e]) => e === 'session/left'));
  expect((await p2.store.list()).map((s) => s.id)).toEqual(['b']);
});

test('dedup window and channel delivery are idempotent across processes', async () => {
  const [p1, p2] = [await proc('one'), await proc('two')];
  await p1.store.create('a', 'tok-a', 'r', {}, true);
  expect(await p1.store.dedup('a', 'm1')).toBe(true);
  expect(await p2.store.dedup('a', 'm1')).toBe(false);
  await p2.store.forget('a', 'm1');
  expect(await p2.store.dedup('a', 'm1')).toBe(true);
  for (const id of ['m2', 'm3', 'm4']) await p1.store.dedup('a', id);
  expect(await p1.store.dedup('a', 'm1')).toBe(true); // window of 3: m1 was evicted
  await p1.store.subscribed('a', 'news', { offset: 0, epoch: 'E' });
  const m = { channel: 'news', offset: 1, epoch: 'E', data: 'x' };
  expect(await p1.store.channelDeliver(['a'], m)).toBe(1);
  expect(await p2.store.channelDeliver(['a'], m)).toBe(0);
  expect(await p2.store.channelDeliver(['a'], { ...m, offset: 1, epoch: 'F' })).toBe(1);
  await p1.store.unsubscribed('a', 'news');
  expect(await p2.store.channelDeliver(['a'], { ...m, offset: 2 })).toBe(0);
});

test('the replay buffer in Redis is capped by bytes as in memory: the same frames dropped, the same bytes counted, gap past them', async () => {
  const cap = 2048;
  const [p1, p2] = [await proc('one', 30, cap), await proc('two', 30, cap)];
  await p1.store.create('a', 'tok-a', 'r', {}, true);
  const mirror = new ReplayBuffer(100, cap);
  const same = async (): Promise<void> => {
    const held = await p2.store.get('a');
    expect([held?.buffered, held?.bufferedBytes]).toEqual([mirror.length, mirror.size]);
    const frames = await p2.store.frames('a', 1, 1000);
    expect(frames).toEqual(mirror.from(1, 1000));
  };
  // ASCII, Latin-1 (one byte per character in V8, two in UTF-8) and wider text (two bytes per character in V8).
  const bodies = ['x'.repeat(300), 'é'.repeat(400), '€'.repeat(250), 'ok', 'y'.repeat(900), 'z'.repeat(5000)];
  for (const [i, body] of bodies.entries()) {
    const { seq } = await (i % 2 ? p1 : p2).store.deliverSeq(['a'], 'app/n', body);
    mirror.push(seq, (await p1.store.frames('a', seq, seq))[0]!.text);
    await same();
  }
  // The last frame alone is over the cap: kept (the newest always is), everything before it dropped.
  expect(mirror.length).toBe(1);
  expect(await p2.store.claim('a', 'tok-a', 4)).toEqual({ ok: false, error: 'gap' });
  for (const body of ['a', 'b', 'c']) {
    const { seq } = await p1.store.deliverSeq(['a'], 'app/n', body);
    mirror.push(seq, (await p1.store.frames('a', seq, seq))[0]!.text);
  }
  await same();
  await p1.store.ack('a', 7);
  mirror.ack(7);
  await same();
  expect(await p2.store.claim('a', 'tok-a', 7)).toMatchObject({ ok: true, session: { seq: 9 } });
  // An ack of everything held: nothing left, no bytes counted.
  await p2.store.ack('a', 9);
  mirror.ack(9);
  expect(mirror.size).toBe(0);
  await same();
});

test('several sessions acked in one call: each buffer drops what its own seq covers, and only that', async () => {
  const [p1] = [await proc('one')];
  for (const id of ['a', 'b', 'c']) await p1.store.create(id, `tok-${id}`, `room-${id}`, {}, true);
  for (let n = 1; n <= 4; n++) await p1.store.deliver(['a', 'b', 'c'], 'app/n', n);
  await p1.store.ackMany([['a', 1], ['b', 4], ['c', 0]]);
  const held = await Promise.all(['a', 'b', 'c'].map(async (id) => (await p1.store.get(id))!.buffered));
  expect(held).toEqual([3, 0, 4]);
  expect((await p1.store.frames('a', 1, 4)).map((f) => f.seq)).toEqual([2, 3, 4]);
});

test('frames held for a disconnected session expire with it, also in a replay list emptied by acks and made again', async () => {
  const [p1] = [await proc('one', 30)];
  await p1.store.create('a', 'tok-a', 'r', {}, true);
  await p1.store.deliver(['a'], 'app/n', 1);
  const q = `${prefix}s:a:q`;
  // Connected: nothing of the session expires.
  expect([await p1.store.redis.pttl(`${prefix}s:a`), await p1.store.redis.pttl(q)]).toEqual([-1, -1]);
  await p1.store.ack('a', 1);
  expect(await p1.store.redis.exists(q)).toBe(0);
  expect(await p1.store.disconnect('a')).toBe(true);
  await p1.store.deliver(['a'], 'app/n', 2);
  const [session, list] = [await p1.store.redis.pttl(`${prefix}s:a`), await p1.store.redis.pttl(q)];
  expect(list).toBeGreaterThan(30_000);
  expect(Math.abs(session - list)).toBeLessThan(1000);
  // Resumed: connected again, nothing expires.
  expect(await p1.store.claim('a', 'tok-a', 1)).toMatchObject({ ok: true, session: { seq: 2 } });
  await p1.store.deliver(['a'], 'app/n', 3);
  expect(await p1.store.redis.pttl(q)).toBe(-1);
});

test('interleaved channel messages to several sessions go to Redis once per message, consecutive ones in one script, each session in order', async () => {
  const [p1] = [await proc('one')];
  const calls: string[][][] = [];
  const deliver = p1.store.channelDeliverMany.bind(p1.store);
  p1.store.channelDeliverMany = (batch) => (calls.push(batch.map((b) => [...b.ids])), deliver(batch));
  const failed: unknown[] = [];
  const queue = new SinkQueue(p1.store, (err) => failed.push(err));
  for (const id of ['a', 'b', 'c']) {
    await p1.store.create(id, `tok-${id}`, `room-${id}`, {}, true);
    await p1.store.subscribed(id, 'news', { offset: 0, epoch: 'E' });
  }
  const json = (offset: number) => JSON.stringify({ channel: 'news', offset, epoch: 'E', data: offset });
  // As ChannelHub hands out a burst: subscriber by subscriber, each its messages in order; c joins late, and
  // b gets a message of its own in between, which its later channel messages must not overtake.
  for (const id of ['a', 'b']) for (const offset of [1, 2, 3]) {
    queue.push(id, 'channel/message', json(offset), undefined);
    if (id === 'b' && offset === 1) queue.push('b', 'app/own', '"b only"', undefined);
  }
  for (const offset of [2, 3]) queue.push('c', 'channel/message', json(offset), undefined);
  queue.flush();
  await until('all frames', () => (p1.out.get('a')?.length ?? 0) === 3 && (p1.out.get('b')?.length ?? 0) === 4 && (p1.out.get('c')?.length ?? 0) === 2);
  // b's messages after its own one cannot join a's; c's join the latest of each message. Consecutive ones: one script.
  expect(calls).toEqual([[['a', 'b'], ['a'], ['a']], [['b', 'c'], ['b', 'c']]]);
  expect(failed).toEqual([]);
  const offsets = (id: string) => events(p1, id).map(([seq, e, pl]) => [seq, e === 'channel/message' ? (pl as { offset: number }).offset : pl]);
  expect(offsets('a')).toEqual([[1, 1], [2, 2], [3, 3]]);
  expect(offsets('b')).toEqual([[1, 1], [2, 'b only'], [3, 2], [4, 3]]);
  expect(offsets('c')).toEqual([[1, 2], [2, 3]]);
});

test('one script of messages on two channels: each session gets those of its own channels, once each, in order', async () => {
  const [p1, p2] = [await proc('one'), await proc('two')];
  await p1.store.create('a', 'tok-a', 'r', {}, true);
  await p2.store.create('b', 'tok-b', 'r2', {}, true); // rooms of their own: no presence frames
  for (const id of ['a', 'b']) outbox(id === 'a' ? p1 : p2, id);
  await p1.store.subscribed('a', 'news', { offset: 0, epoch: 'E' });
  await p1.store.subscribed('a', 'sports', { offset: 0, epoch: 'E' });
  await p1.store.subscribed('b', 'news', { offset: 1, epoch: 'E' }); // b has news 1 already
  const item = (channel: string, offset: number) => ({ ids: ['a', 'b'], channel, offset, epoch: 'E', json: JSON.stringify({ channel, offset, epoch: 'E', data: `${channel} ${offset}` }) });
  // news 1 twice in one batch (a second hand-out of the same message), sports 1 that b is not on, then news 2.
  expect(await p1.store.channelDeliverMany([item('news', 1), item('sports', 1), item('news', 1), item('news', 2)])).toBe(2);
  await until('all frames', () => (p1.out.get('a')?.length ?? 0) === 3 && (p2.out.get('b')?.length ?? 0) === 1);
  const data = (p: Proc, id: string) => events(p, id).map(([seq, , pl]) => [seq, (pl as { data: string }).data]);
  expect(data(p1, 'a')).toEqual([[1, 'news 1'], [2, 'sports 1'], [3, 'news 2']]);
  expect(data(p2, 'b')).toEqual([[1, 'news 2']]);
  // The positions moved with the frames: the same messages again deliver nothing.
  expect(await p2.store.channelDeliverMany([item('sports', 1), item('news', 2)])).toBe(0);
  expect(await p1.store.frames('a', 1, 3)).toHaveLength(3);
  // Each message goes to its own sessions when they differ from the message before's (the same ones are sent once).
  const to = (ids: string[], offset: number) => ({ ...item('news', offset), ids });
  await p1.store.channelDeliverMany([to(['a', 'b'], 3), to(['a'], 4), to(['a'], 5), to(['b'], 6), to(['b'], 7), to(['a', 'b'], 8)]);
  await until('the second batch', () => (p1.out.get('a')?.length ?? 0) === 7 && (p2.out.get('b')?.length ?? 0) === 5);
  expect(data(p1, 'a').slice(3)).toEqual([[4, 'news 3'], [5, 'news 4'], [6, 'news 5'], [7, 'news 8']]);
  expect(data(p2, 'b')).toEqual([[1, 'news 2'], [2, 'news 3'], [3, 'news 6'], [4, 'news 7'], [5, 'news 8']]);
});

test('a session Redis lost is put back even when its channel subscription reached Redis before the restore', async () => {
  const [p1] = [await proc('one')];
  await p1.store.create('a', 'tok-a', 'r', {}, true);
  await p1.store.redis.del(`${prefix}s:a`); // lost (a restart without persistence)
  await p1.store.subscribing('a', 'news', 'E'); // the channel position lives in the session hash: it makes one
  const held = { id: 'a', resumeToken: 'tok-a', room: 'r', profile: {}, resumable: true, seq: 5, isConnected: true, subscriptions: ['news'] };
  expect(await p1.store.restore(held)).toBe(true);
  expect(await p1.store.restore(held)).toBe(false);
  expect(await p1.store.get('a')).toMatchObject({ seq: 5, owner: 'one', is_connected: true, subscriptions: ['news'] });
  expect(await p1.store.channelDeliver(['a'], { channel: 'news', offset: 1, epoch: 'E', data: 'x' })).toBe(1);
});
