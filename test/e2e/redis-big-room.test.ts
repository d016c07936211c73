import { jest } from '@jest/globals';
import { until } from '../support/http-api.js';
import { startRedis, type RedisHandle } from '../support/redis.js';
import { TestClient, sleep } from '../support/ws-client.js';
import { startWsgate, type WsgateProcess } from '../support/wsgate-process.js';

// Big-room presence (docs/protocol.md §4.6) across two real `wsgate` processes on one real redis-server.
jest.setTimeout(90_000);

type Info = { id: string; is_connected: boolean };
type Init = { session_id: string; sessions: Info[]; room_size?: number; presence_limit?: number };
type Counts = { room: string; count: number; connected: number };

let redis: RedisHandle;
let procs: WsgateProcess[] = [];
let clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(() => {
  for (const c of clients) c.kill();
  for (const p of procs) p.kill();
  clients = [];
  procs = [];
});

/** Two processes sharing Redis, presence limit 5 (each test uses rooms of its own: earlier tests' sessions stay). */
async function pair(): Promise<[WsgateProcess, WsgateProcess]> {
  const args = ['--redis', redis.url, '--legacy', 'false', '--presence-limit', '5', '--session-ttl', '60'];
  procs = [await startWsgate(args), await startWsgate(args)];
  return procs as [WsgateProcess, WsgateProcess];
}

/** `n` clients into `room`, one after the other (a known joining order), alternating between the processes. */
async function fill(ps: WsgateProcess[], room: string, n: number): Promise<{ client: TestClient; init: Init; proc: number }[]> {
  const out: { client: TestClient; init: Init; proc: number }[] = [];
  for (let i = 0; i < n; i++) {
    const client = new TestClient(`ws://127.0.0.1:${ps[i % ps.length]!.port}/api/ws`);
    clients.push(client);
    out.push({ client, init: (await client.hello({ room })) as unknown as Init, proc: i % ps.length });
  }
  return out;
}

const lastCounts = (c: TestClient): Counts | undefined => c.all('room/presence').at(-1)?.payload as Counts | undefined;

/** A heartbeat with an id, answered: everything the gateway sent `c` before it has arrived. */
async function settled(c: TestClient, id: string): Promise<void> {
  c.send('client/heartbeat', undefined, id);
  await c.next((f) => f.event === 'system/ack' && (f.payload as { id?: string }).id === id, 5000);
}

test('a room within the limit behaves as in one process: per-member events with seq, the full list in joining order', async () => {
  const ps = await pair();
  const members = await fill(ps, 'small', 4);
  expect(members[3]!.init.sessions.map((s) => s.id)).toEqual(members.map((m) => m.init.session_id));
  expect(members[3]!.init.room_size).toBeUndefined();
  const first = members[0]!.client;
  await until(() => first.all('session/joined').length === 3, 5000, 'three joins');
  expect(first.all('session/joined').map((f) => (f.payload as Info).id)).toEqual(members.slice(1).map((m) => m.init.session_id));
  members[1]!.client.ws.close(1000);
  const left = await first.next('session/left', 5000);
  expect(left.payload).toEqual({ id: members[1]!.init.session_id, reason: 'closed' });
  expect(left.seq).toBeGreaterThan(0);
  await sleep(1200); // two presence ticks: nothing coalesced in a small room
  await settled(first, 'quiet');
  expect(first.all('room/presence')).toEqual([]);
});

test('12 clients over two processes, limit 5: bounded system/init, counts on both processes, every member exactly once across room/list pages', async () => {
  const ps = await pair();
  const members = await fill(ps, 'big', 12);
  const ids = members.map((m) => m.init.session_id);
  members.forEach(({ init }, i) => {
    expect(init.sessions.length).toBeLessThanOrEqual(5);
    if (i < 5) {
      expect(init.sessions.map((s) => s.id)).toEqual(ids.slice(0, i + 1));
      expect(init.room_size).toBeUndefined();
    } else {
      expect(init).toMatchObject({ room_size: i + 1, presence_limit: 5 });
      expect(init.sessions[0]!.id).toBe(init.session_id);
    }
  });
  for (const { client } of members) {
    await until(() => lastCounts(client)?.count === 12, 10_000, 'the counts of a full room');
    expect(lastCounts(client)).toEqual({ room: 'big', count: 12, connected: 12 });
    expect(client.all('room/presence').every((f) => f.seq === undefined)).toBe(true);
  }
  // The first member heard the joins that kept the room within the limit, one by one, and none after.
  expect(members[0]!.client.all('session/joined').map((f) => (f.payload as Info).id)).toEqual(ids.slice(1, 5));
  for (const m of members.slice(1)) expect(m.client.all('session/joined').length).toBeLessThanOrEqual(3);

  const asker = members[11]!.client; // on the second process
  const pages: string[] = [];
  for (const offset of [0, 5, 10]) {
    asker.send('room/list', { offset, limit: 50 }, `p${offset}`);
    const page = (await asker.next('room/page', 5000)).payload as { offset: number; total: number; sessions: Info[] };
    expect(page).toMatchObject({ offset, total: 12 });
    expect(page.sessions.length).toBe(Math.min(5, 12 - offset)); // capped at the limit
    pages.push(...page.sessions.map((s) => s.id));
  }
  expect(pages).toEqual(ids);
});

test('kill -9 of one process: the other process\'s members hear the counts with its sessions disconnected, within the liveness window', async () => {
  const ps = await pair();
  const members = await fill(ps, 'doomed', 12);
  const survivors = members.filter((m) => m.proc === 1);
  await until(() => lastCounts(survivors[0]!.client)?.count === 12, 10_000, 'a full room');
  const t0 = Date.now();
  ps[0].child.kill('SIGKILL');
  await ps[0].exited;
  for (const { client } of survivors) {
    await until(() => lastCounts(client)?.connected === 6, 30_000, 'the dead process\'s sessions disconnected');
    expect(lastCounts(client)).toEqual({ room: 'doomed', count: 12, connected: 6 });
  }
  expect(Date.now() - t0).toBeLessThan(30_000);
  // They are still members (resumable): a page lists all 12, the dead process's as disconnected.
  const asker = survivors[0]!.client;
  asker.send('room/list', { offset: 0, limit: 5 }, 'p');
  const page = (await asker.next('room/page', 5000)).payload as { total: number; sessions: Info[] };
  expect(page.total).toBe(12);
  expect(page.sessions.map((s) => s.is_connected)).toEqual([false, true, false, true, false]);
});
