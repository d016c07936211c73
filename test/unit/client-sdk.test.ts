import { jest } from '@jest/globals';
import { WsgateClient } from '../../src/client/client.js';
import type { WsgateClientOptions } from '../../src/client/types.js';
import { FakeNetwork, FakeSocket, FakeVisibility, init, ManualClock } from './client-fakes.js';

let clock: ManualClock;
const clients: WsgateClient[] = [];

function make(over: Partial<WsgateClientOptions> = {}): WsgateClient {
  const c = new WsgateClient({ url: 'ws://gw.test/api/ws', WebSocket: FakeSocket, clock, random: () => 0.999, visibility: null, network: null, ...over });
  clients.push(c);
  return c;
}

/** Open the last socket and answer its hello with `system/init`. */
function accept(over: Record<string, unknown> = {}): FakeSocket {
  const s = FakeSocket.last;
  s.open();
  s.receive(init(over));
  return s;
}

/** The reconnect delay announced by the next `disconnected` event, after dropping the socket. */
function dropAndWait(c: WsgateClient, s: FakeSocket, code = 1006): number {
  let delay = -1;
  const off = c.on('disconnected', (e) => (delay = e.delay ?? -1));
  s.drop(code);
  off();
  clock.advance(Math.max(delay, 0));
  return delay;
}

beforeEach(() => {
  clock = new ManualClock(1_000_000);
  FakeSocket.reset();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe('hello, resume and duplicate drop', () => {
  it('sends hello first, then resumes with last_seq after a drop and drops replayed duplicates', () => {
    const c = make({ token: 'tok', profile: { name: 'ann' } });
    const got: number[] = [];
    c.on('message', (f) => got.push((f.payload as { n: number }).n));
    const s1 = accept();
    expect(s1.sent[0]).toEqual({ event: 'client/hello', payload: { token: 'tok', profile: { name: 'ann' } } });
    for (const n of [1, 2, 3]) s1.receive({ event: 'app/tick', seq: n, payload: { n } });
    dropAndWait(c, s1);
    const s2 = FakeSocket.last;
    expect(s2).not.toBe(s1);
    s2.open();
    expect(s2.sent[0]).toEqual({
      event: 'client/hello',
      payload: { token: 'tok', profile: { name: 'ann' }, resume: { session_id: 's1', resume_token: 't1', last_seq: 3 } },
    });
    const resumed = jest.fn();
    c.on('resumed', resumed);
    s2.receive(init({ resumed: true, replayed: 2 }));
    for (const n of [2, 3, 4, 5]) s2.receive({ event: 'app/tick', seq: n, payload: { n } });
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(c.stats.duplicatesDropped).toBe(2);
    expect(resumed).toHaveBeenCalledWith({ sessionId: 's1', replayed: 2 });
  });

  it('acks cumulatively every 50 messages and otherwise after 1 s', () => {
    make();
    const s = accept();
    for (let n = 1; n <= 120; n++) s.receive({ event: 'app/x', seq: n });
    expect(s.of('client/ack').map((f) => f.payload)).toEqual([{ seq: 50 }, { seq: 100 }]);
    clock.advance(999);
    expect(s.of('client/ack')).toHaveLength(2);
    clock.advance(1);
    expect(s.of('client/ack').map((f) => f.payload)).toEqual([{ seq: 50 }, { seq: 100 }, { seq: 120 }]);
  });
});

describe('reconnect policy', () => {
  it('backs off exponentially while attempts fail and resets after a working connection', () => {
    const c = make();
    accept();
    const delays = [];
    for (let i = 0; i < 4; i++) delays.push(dropAndWait(c, FakeSocket.last));
    expect(delays).toEqual([499, 999, 1998, 3996]);
    accept();
    expect(dropAndWait(c, FakeSocket.last)).toBe(499);
  });

  it.each([1000, 1008, 4001, 4002, 4003])('stops after a %i close and rejects pending sends', async (code) => {
    const c = make();
    const s = accept();
    const failed = jest.fn();
    c.on('failed', failed);
    const p = c.send('app/op', {});
    s.drop(code);
    await expect(p).rejects.toMatchObject({ code: 'closed' });
    clock.advance(120_000);
    expect(FakeSocket.instances).toHaveLength(1);
    expect(c.state).toBe('failed');
    expect(failed).toHaveBeenCalledWith(expect.objectContaining({ code }));
  });

  it('reports the code of system/disconnect when the socket then ends abnormally', () => {
    const c = make();
    const s = accept();
    s.receive({ event: 'system/disconnect', payload: { code: 4003, reason: 'kicked', message: 'bye' } });
    s.drop(1006);
    expect(c.state).toBe('failed');
  });

  it('reconnects within the jitter window after a 1012 drain', () => {
    const c = make();
    accept();
    for (let i = 0; i < 3; i++) dropAndWait(c, FakeSocket.last);
    expect(dropAndWait(c, FakeSocket.last, 1012)).toBeLessThan(1000);
  });

  it('retries at once when the network comes back', () => {
    const net = new FakeNetwork();
    const c = make({ network: net });
    accept();
    for (let i = 0; i < 6; i++) dropAndWait(c, FakeSocket.last);
    FakeSocket.last.drop(1006); // the next wait is ~32 s
    const before = FakeSocket.instances.length;
    net.online();
    expect(FakeSocket.instances.length).toBe(before + 1);
    expect(c.state).toBe('connecting');
  });

  it('gives up on an attempt that gets no system/init within connectTimeout, as close 4101 hello_timeout', () => {
    const c = make({ connectTimeout: 5000 });
    FakeSocket.last.open(); // the server accepts the socket but never answers the hello
    const ev = jest.fn();
    c.on('disconnected', ev);
    clock.advance(5000);
    expect(ev).toHaveBeenCalledWith(expect.objectContaining({ code: 4101, reason: 'hello_timeout', local: true, willReconnect: true }));
    clock.advance(1000);
    expect(FakeSocket.instances).toHaveLength(2);
  });
});

describe('send() with id and system/ack', () => {
  it('resolves on system/ack and rejects on system/error for that id', async () => {
    const c = make();
    const s = accept();
    const ok = c.send('app/op', { a: 1 });
    const bad = c.send('app/op', { a: 2 });
    const [f1, f2] = s.of('app/op');
    expect(f1).toMatchObject({ payload: { a: 1 }, id: expect.any(String) });
    s.receive({ event: 'system/ack', seq: 1, payload: { id: f1!.id } });
    s.receive({ event: 'system/error', seq: 2, payload: { code: 'forbidden', message: 'no', event: 'app/op', id: f2!.id } });
    await expect(ok).resolves.toEqual({ id: f1!.id, duplicate: false });
    await expect(bad).rejects.toMatchObject({ code: 'forbidden', event: 'app/op' });
  });

  it('queues while disconnected and re-sends an unacked message with the same id after a resume', async () => {
    const c = make();
    const s1 = accept();
    const p = c.send('app/op', { a: 1 });
    const id = s1.of('app/op')[0]!.id;
    dropAndWait(c, s1);
    const queued = c.send('app/later', {});
    const s2 = accept({ resumed: true, replayed: 0 });
    expect(s2.of('app/op')).toEqual([{ event: 'app/op', id, payload: { a: 1 } }]);
    expect(s2.of('app/later')).toHaveLength(1);
    s2.receive({ event: 'system/ack', seq: 1, payload: { id, duplicate: true } });
    s2.receive({ event: 'system/ack', seq: 2, payload: { id: s2.of('app/later')[0]!.id } });
    await expect(p).resolves.toEqual({ id, duplicate: true });
    await expect(queued).resolves.toMatchObject({ duplicate: false });
  });

  it('does not re-send into a fresh session what the lost one may have applied', async () => {
    const c = make();
    const s1 = accept();
    const written = c.send('app/op', {});
    dropAndWait(c, s1);
    const unwritten = c.send('app/op2', {});
    const lost = jest.fn();
    c.on('session-lost', lost);
    const s2 = accept({ session_id: 's2', resume_token: 't2', resumed: false, resume_error: 'expired' });
    await expect(written).rejects.toMatchObject({ code: 'session_lost' });
    expect(s2.of('app/op')).toHaveLength(0);
    expect(s2.of('app/op2')).toHaveLength(1);
    expect(lost).toHaveBeenCalledWith({ previousSessionId: 's1', reason: 'expired' });
    s2.receive({ event: 'system/ack', seq: 1, payload: { id: s2.of('app/op2')[0]!.id } });
    await expect(unwritten).resolves.toBeDefined();
  });

  it('rejects with timeout when no ack comes in time', async () => {
    const c = make();
    accept();
    const p = c.send('app/op', {}, { timeout: 2000 });
    clock.advance(2000);
    await expect(p).rejects.toMatchObject({ code: 'timeout' });
  });
});

describe('channels', () => {
  const msg = (seq: number, offset: number, epoch = 'e1') => ({ event: 'channel/message', seq, payload: { channel: 'logs', offset, epoch, data: `m${offset}` } });

  it('resubscribes with since after a lost session and drops overlapping replays', () => {
    const c = make();
    const got: string[] = [];
    c.subscribe('logs', (m) => got.push(String(m.data)));
    const s1 = accept();
    expect(s1.of('channel/subscribe')[0]!.payload).toEqual({ channel: 'logs' });
    s1.receive({ event: 'channel/subscribed', seq: 1, payload: { channel: 'logs', offset: 7, epoch: 'e1', recovered: false } });
    s1.receive(msg(2, 8));
    s1.receive(msg(3, 9));
    dropAndWait(c, s1);
    const s2 = accept({ session_id: 's2', resume_token: 't2', resume_error: 'gap' });
    expect(s2.of('channel/subscribe')[0]!.payload).toEqual({ channel: 'logs', since: { offset: 9, epoch: 'e1' } });
    s2.receive({ event: 'channel/subscribed', seq: 1, payload: { channel: 'logs', offset: 11, epoch: 'e1', recovered: true } });
    for (const [seq, off] of [[2, 9], [3, 10], [4, 11], [5, 12]]) s2.receive(msg(seq!, off!));
    expect(got).toEqual(['m8', 'm9', 'm10', 'm11', 'm12']);
  });

  it('pause() unsubscribes and resume() recovers what was missed, in order', () => {
    const c = make();
    const got: string[] = [];
    const sub = c.subscribe('logs', (m) => got.push(String(m.data)));
    const s = accept();
    s.receive({ event: 'channel/subscribed', seq: 1, payload: { channel: 'logs', offset: 0, epoch: 'e1', recovered: false } });
    s.receive(msg(2, 1));
    sub.pause();
    expect(s.of('channel/unsubscribe')[0]!.payload).toEqual({ channel: 'logs' });
    s.receive(msg(3, 2)); // in flight when we paused: ignored now, recovered later
    sub.resume();
    expect(s.of('channel/subscribe')[1]!.payload).toEqual({ channel: 'logs', since: { offset: 1, epoch: 'e1' } });
    s.receive({ event: 'channel/subscribed', seq: 4, payload: { channel: 'logs', offset: 4, epoch: 'e1', recovered: true } });
    for (const [seq, off] of [[5, 2], [6, 3], [7, 4]]) s.receive(msg(seq!, off!));
    expect(got).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(sub.state).toBe('subscribed');
  });

  it('emits a clear recovered:false event when history no longer covers the pause', () => {
    const c = make();
    const sub = c.subscribe('logs');
    const s = accept();
    s.receive({ event: 'channel/subscribed', seq: 1, payload: { channel: 'logs', offset: 5, epoch: 'e1', recovered: false } });
    sub.pause();
    sub.resume();
    const missed = jest.fn();
    sub.on('missed', missed);
    s.receive({ event: 'channel/subscribed', seq: 2, payload: { channel: 'logs', offset: 400, epoch: 'e1', recovered: false, missed: 295 } });
    expect(missed).toHaveBeenCalledWith({ channel: 'logs', recovered: false, since: { offset: 5, epoch: 'e1' }, offset: 400, epoch: 'e1', missed: 295 });
    expect(sub.position).toEqual({ offset: 400, epoch: 'e1' });
  });

  it('pauses while the page is hidden and recovers when it is visible (pauseWhenHidden)', () => {
    const vis = new FakeVisibility();
    const c = make({ visibility: vis, pauseWhenHidden: true });
    const sub = c.subscribe('logs');
    const s = accept();
    s.receive({ event: 'channel/subscribed', seq: 1, payload: { channel: 'logs', offset: 3, epoch: 'e1', recovered: false } });
    vis.set(true);
    expect(sub.state).toBe('paused');
    expect(s.of('channel/unsubscribe')).toHaveLength(1);
    vis.set(false);
    expect(s.of('channel/subscribe')[1]!.payload).toEqual({ channel: 'logs', since: { offset: 3, epoch: 'e1' } });
  });

  it('keeps a user pause when the page becomes visible again', () => {
    const vis = new FakeVisibility();
    const c = make({ visibility: vis, pauseWhenHidden: true });
    const sub = c.subscribe('logs');
    accept();
    sub.pause();
    vis.set(true);
    vis.set(false);
    expect(sub.state).toBe('paused');
  });

  it('reports a refused subscribe on the subscription', async () => {
    const c = make();
    const sub = c.subscribe('bad name');
    const s = accept();
    const err = new Promise((r) => sub.on('error', r));
    s.receive({ event: 'system/error', seq: 1, payload: { code: 'bad_channel', message: 'no', event: 'channel/subscribe', id: s.of('channel/subscribe')[0]!.id } });
    await expect(err).resolves.toMatchObject({ code: 'bad_channel' });
    expect(sub.state).toBe('failed');
  });
});

describe('a URL the WebSocket constructor refuses', () => {
  it('fails at once with the reason instead of retrying forever', async () => {
    let attempts = 0;
    class Refusing extends FakeSocket {
      constructor(url: string) {
        attempts++;
        super(url);
        throw new SyntaxError(`The URL '${url}' is invalid.`);
      }
    }
    const c = make({ url: 'htp://nowhere', WebSocket: Refusing as unknown as typeof FakeSocket });
    clock.advance(60_000);
    expect(c.state).toBe('failed');
    expect(attempts).toBe(1);
    await expect(c.send('app/x', {})).rejects.toThrow('failed');
  });
});

describe('event order (docs/client.md)', () => {
  /** Every client event as one readable line, in the order listeners see them. */
  function record(c: WsgateClient): string[] {
    const seen: string[] = [];
    c.on('state', ({ state, previous }) => seen.push(`state ${previous}→${state}`));
    c.on('connecting', ({ attempt }) => seen.push(`connecting ${attempt}`));
    c.on('connected', () => seen.push('connected'));
    c.on('disconnected', ({ code, willReconnect }) => seen.push(`disconnected ${code} ${willReconnect ? 'retry' : 'final'} (state ${c.state})`));
    c.on('failed', ({ code }) => seen.push(`failed ${code}`));
    return seen;
  }

  it('a listener attached right after `new` sees `connecting`', async () => {
    const c = make();
    const seen = record(c);
    expect(FakeSocket.instances).toHaveLength(1); // the socket itself is opened at once
    await Promise.resolve();
    expect(seen).toEqual(['state idle→connecting', 'connecting 0']);
    accept();
    expect(seen.slice(2)).toEqual(['state connecting→connected', 'connected']);
  });

  it('the held events come out before anything the socket does, even without waiting a tick', () => {
    const c = make();
    const seen = record(c);
    accept();
    expect(seen).toEqual(['state idle→connecting', 'connecting 0', 'state connecting→connected', 'connected']);
  });

  it('a kick: `disconnected` with the code, then the state `failed`, then `failed`', async () => {
    const c = make();
    await Promise.resolve();
    const s = accept();
    const seen = record(c);
    s.receive({ event: 'system/disconnect', payload: { code: 4003, reason: 'kicked', message: 'bye' } });
    s.drop(4003, 'kicked');
    expect(seen).toEqual(['disconnected 4003 final (state failed)', 'state connected→failed', 'failed 4003']);
  });

  it('close(): `disconnected` with the code, then the state `closed`', async () => {
    const c = make();
    await Promise.resolve();
    accept();
    const seen = record(c);
    c.close();
    expect(seen).toEqual(['disconnected 1000 final (state closed)', 'state connected→closed']);
  });

  it('a transient close keeps the old order: state `disconnected`, then the event with the retry', async () => {
    const c = make();
    await Promise.resolve();
    const s = accept();
    const seen = record(c);
    s.drop(1006);
    expect(seen).toEqual(['state connected→disconnected', 'disconnected 1006 retry (state disconnected)']);
  });
});
