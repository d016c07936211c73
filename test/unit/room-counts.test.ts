import { pino } from 'pino';
import { SharedRoomPresence } from '../../src/redis/room-counts.js';
import { Session, type SessionLink } from '../../src/session/session.js';
import { ManualClock } from '../support/manual-clock.js';

// The per-process side of big-room presence over Redis: when the counts are read and who hears them.
// The Redis side (notes once per tick, counts) is covered by test/e2e/redis-big-room.test.ts.
const TICK = 500;
let clock: ManualClock;
let counts: { count: number; connected: number };
let reads: string[][];
let presence: SharedRoomPresence;

beforeEach(() => {
  clock = new ManualClock(0);
  counts = { count: 200, connected: 150 };
  reads = [];
  presence = new SharedRoomPresence(clock, TICK, async (rooms) => (reads.push(rooms), rooms.map(() => counts)), pino({ level: 'silent' }));
});

/** A session of `room` whose link records what it was sent; `connected: false` has no link. */
function member(room: string, connected = true): { session: Session; got: string[] } {
  const got: string[] = [];
  const session = new Session(`s${Math.random()}`, 't', room, {}, true, { bufferMaxMessages: 10, bufferMaxBytes: 1 << 20, dedupWindow: 4 }, 0);
  const link: SessionLink = { sendText: (t) => got.push(t), sendStream: () => undefined, close: () => undefined, terminate: () => undefined };
  session.link = connected ? link : undefined;
  if (!connected) session.state = 'disconnected';
  presence.add(session);
  return { session, got };
}

/** Let the read's promise settle. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

test('a note is answered a full tick later with one read and one room/presence to each connected member here', async () => {
  const a = member('big');
  const b = member('big');
  const away = member('big', false);
  presence.noticed('big');
  clock.advance(TICK - 1);
  await settle();
  expect(reads).toEqual([]); // changes inside the tick publish no note: reading earlier could miss them
  clock.advance(1);
  await settle();
  expect(reads).toEqual([['big']]);
  const frame = '{"event":"room/presence","payload":{"room":"big","count":200,"connected":150}}';
  expect(a.got).toEqual([frame]);
  expect(b.got).toEqual([frame]);
  expect(away.got).toEqual([]);
  expect(presence.size('big')).toBe(200);
});

test('a note while a read is pending earns one more read a tick later; the same counts are not sent twice', async () => {
  const a = member('big');
  presence.noticed('big');
  clock.advance(200);
  presence.noticed('big');
  presence.noticed('big');
  clock.advance(300);
  await settle();
  expect(reads).toHaveLength(1);
  clock.advance(TICK);
  await settle();
  expect(reads).toHaveLength(2);
  expect(a.got).toHaveLength(1); // unchanged counts: nothing new to say
  counts = { count: 201, connected: 151 };
  presence.noticed('big');
  clock.advance(TICK);
  await settle();
  expect(reads).toHaveLength(3);
  expect(a.got).toHaveLength(2);
  clock.advance(10 * TICK);
  await settle();
  expect(reads).toHaveLength(3); // quiet: no note, no read
});

test('a room with no member here is never read; the last member leaving cancels a pending read', async () => {
  presence.noticed('elsewhere');
  const a = member('big');
  presence.noticed('big');
  presence.remove(a.session);
  clock.advance(2 * TICK);
  await settle();
  expect(reads).toEqual([]);
  expect(presence.size('big')).toBe(0);
});

test('after a lost subscriber connection every room here is read again', async () => {
  const a = member('one');
  const b = member('two');
  presence.noticedAll();
  clock.advance(TICK);
  await settle();
  expect(reads.flat().sort()).toEqual(['one', 'two']);
  expect(a.got).toHaveLength(1);
  expect(b.got).toHaveLength(1);
});
