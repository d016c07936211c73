import WebSocket from 'ws';
import { followRoomSize, listRoomMembers, WsgateClient } from '../../src/client/index.js';
import type { Gateway } from '../../src/index.js';
import { mountLegacyAdapter } from '../../legacy-adapter/index.js';
import { v2Join, wsBase } from '../support/conformance-drivers.js';
import { ClientPool, startGateway } from '../support/gateway.js';
import { ManualClock } from '../support/manual-clock.js';
import type { TestClient } from '../support/ws-client.js';

// Real sockets; the presence tick runs on a ManualClock, so each test decides when the counts go out.
let gw: Gateway;
let clock: ManualClock;
const pool = new ClientPool();

async function start(presenceLimit: number): Promise<void> {
  clock = new ManualClock(1_000_000);
  gw = await startGateway({ clock, pingInterval: 0, heartbeatInterval: 0, presenceLimit });
}

afterEach(async () => {
  pool.killAll();
  await gw.close();
});

type Info = { id: string };
type Init = { session_id: string; sessions: Info[]; room_size?: number; presence_limit?: number };

async function join(room = 'big'): Promise<{ client: TestClient; init: Init }> {
  const { client, init } = await pool.connect(gw, { room });
  return { client, init: init as unknown as Init };
}

/** A heartbeat with an id, answered: everything sent to `c` before it has arrived. */
async function settled(c: TestClient, id: string): Promise<void> {
  c.send('client/heartbeat', undefined, id);
  await c.next((f) => f.event === 'system/ack' && (f.payload as { id?: string }).id === id);
}

test('up to presence_limit members a room behaves as before: one session/joined per join, the full list in system/init', async () => {
  await start(3);
  const first = await join();
  const second = await join();
  const third = await join();
  expect(third.init.sessions).toHaveLength(3);
  expect(third.init.room_size).toBeUndefined();
  await settled(first.client, 'a');
  expect(first.client.all('session/joined').map((f) => (f.payload as Info).id)).toEqual([second.init.session_id, third.init.session_id]);
  clock.advance(10_000);
  await settled(first.client, 'b');
  expect(first.client.all('room/presence')).toEqual([]);
});

test('past the limit, joins and leaves are coalesced into one room/presence per tick; system/init is cut, own entry first', async () => {
  await start(3);
  const members = [await join(), await join(), await join()];
  const late = [await join(), await join()];
  for (const m of late) {
    expect(m.init.room_size).toBeGreaterThan(3);
    expect(m.init.presence_limit).toBe(3);
    expect(m.init.sessions).toHaveLength(3);
    expect(m.init.sessions[0]!.id).toBe(m.init.session_id);
  }
  late[1]!.client.ws.close(1000); // a leave, inside the same tick
  await late[1]!.client.closed;
  await settled(members[0]!.client, 'before-tick');
  expect(members[0]!.client.all('room/presence')).toEqual([]);
  clock.advance(500);
  const counts = await members[0]!.client.next('room/presence');
  expect(counts.payload).toEqual({ room: 'big', count: 4, connected: 4 });
  expect(counts.seq).toBeUndefined(); // transient: never replayed, never acked
  await settled(members[0]!.client, 'after-tick');
  // The 4th and 5th joins and the leave made no per-member frames: one count instead.
  expect(members[0]!.client.all('session/joined')).toHaveLength(2);
  expect(members[0]!.client.all('session/left')).toEqual([]);
  expect(members[0]!.client.all('room/presence')).toHaveLength(1);
  // A quiet tick sends nothing.
  clock.advance(500);
  await settled(members[0]!.client, 'quiet');
  expect(members[0]!.client.all('room/presence')).toHaveLength(1);
});

test('room/list pages through a big room in joining order, at most presence_limit per page', async () => {
  await start(2);
  const all = [await join(), await join(), await join(), await join()];
  const asker = all[3]!.client;
  asker.send('room/list', { offset: 1, limit: 50 }, 'p1');
  const page = await asker.next('room/page');
  expect(page.payload).toEqual({ room: 'big', offset: 1, total: 4, sessions: [all[1]!.init.session_id, all[2]!.init.session_id].map((id) => expect.objectContaining({ id })) });
  asker.send('room/list', { offset: -1 }, 'bad');
  const err = await asker.next('system/error');
  expect(err.payload).toMatchObject({ code: 'bad_message', id: 'bad' });
});

test('the SDK follows a big room by its counts and pages its member list', async () => {
  await start(2);
  const sdk = new WsgateClient({ url: gw.url('/api/ws'), WebSocket, room: 'big', autoConnect: false });
  const sizes: number[] = [];
  followRoomSize(sdk, (n) => sizes.push(n));
  try {
    const others = [await join(), await join()];
    sdk.connect();
    await new Promise<void>((resolve) => sdk.once('connected', () => resolve()));
    expect(sizes).toEqual([3]); // from system/init's room_size: the list itself was cut to 2
    await join();
    clock.advance(500);
    await others[0]!.client.next('room/presence');
    const page = await listRoomMembers(sdk, 0);
    expect(page.total).toBe(4);
    expect(page.sessions.map((s) => s.id)).toEqual(others.map((o) => o.init.session_id));
    expect(sizes).toEqual([3, 4]);
  } finally {
    sdk.close();
  }
});

test('a v2 client in a big room gets a member/list cut to the limit and never an event v2 does not have', async () => {
  await start(2);
  mountLegacyAdapter(gw);
  const v3 = [await join('main'), await join('main')];
  const v2 = await v2Join(wsBase(gw), 'old');
  pool.track(v2.client);
  expect(v2.members.length).toBeLessThanOrEqual(2);
  expect(v2.members[0]!.id).toBe(v2.id);
  await join('main');
  clock.advance(500);
  await v3[0]!.client.next('room/presence');
  // Sent after the counts on the same path: once it is in, the counts would be too.
  v3[0]!.client.send('send/broadcast', { subject: 'chat/message', body: { text: 'after the tick' } });
  await v2.client.next('chat/message');
  expect(v2.client.frames.map((f) => f.event).filter((e) => e.startsWith('room/'))).toEqual([]);
});
