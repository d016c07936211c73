import { WsgateClient } from '../../src/client/client.js';
import { keepForReload, loadReloadState } from '../../src/client/reload-store.js';
import type { WsgateClientOptions } from '../../src/client/types.js';
import { FakeSocket, FakeVisibility, init, ManualClock } from './client-fakes.js';

let clock: ManualClock;
const clients: WsgateClient[] = [];

function make(over: Partial<WsgateClientOptions> = {}): WsgateClient {
  const c = new WsgateClient({ url: 'ws://gw.test/api/ws', WebSocket: FakeSocket, clock, random: () => 0.999, visibility: null, network: null, ...over });
  clients.push(c);
  return c;
}

function accept(over: Record<string, unknown> = {}): FakeSocket {
  const s = FakeSocket.last;
  s.open();
  s.receive(init(over));
  return s;
}

/** A `sessionStorage` stand-in on globalThis (Node has none). */
class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem(k: string): string | null {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.items.set(k, v);
  }
}

beforeEach(() => {
  clock = new ManualClock(1_000_000);
  FakeSocket.reset();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  delete (globalThis as { sessionStorage?: unknown }).sessionStorage;
});

describe('a subscription made while the page is hidden', () => {
  it('starts paused, sends nothing, and subscribes once the page is visible', () => {
    const vis = new FakeVisibility();
    vis.set(true);
    const c = make({ visibility: vis, pauseWhenHidden: true });
    const sub = c.subscribe('logs');
    const s = accept();
    expect(sub.state).toBe('paused');
    expect(s.of('channel/subscribe')).toHaveLength(0);
    expect(s.of('channel/unsubscribe')).toHaveLength(0);
    vis.set(false);
    expect(sub.state).toBe('subscribing');
    expect(s.of('channel/subscribe')[0]!.payload).toEqual({ channel: 'logs' });
  });

  it('with a restored position, stops what the previous page left subscribed and recovers since it when visible', () => {
    const vis = new FakeVisibility();
    vis.set(true);
    const c = make({ visibility: vis, pauseWhenHidden: true, positions: { logs: { offset: 7, epoch: 'e1' } } });
    const sub = c.subscribe('logs');
    const s = accept();
    expect(sub.state).toBe('paused');
    expect(s.of('channel/unsubscribe')[0]!.payload).toEqual({ channel: 'logs' });
    vis.set(false);
    expect(s.of('channel/subscribe')[0]!.payload).toEqual({ channel: 'logs', since: { offset: 7, epoch: 'e1' } });
  });
});

describe('resuming a session a previous page had (resume, positions)', () => {
  it('resumes on the first hello, drops what the old page already showed, and reports no hole when the replay caught up', () => {
    const c = make({ resume: { sessionId: 's1', resumeToken: 't1', lastSeq: 40 }, positions: { logs: { offset: 10, epoch: 'e1' } } });
    const got: number[] = [];
    const sub = c.subscribe('logs', (m) => got.push(m.offset));
    let missed = 0;
    sub.on('missed', () => missed++);
    const s = FakeSocket.last;
    s.open();
    expect(s.sent[0]!.payload).toEqual({ resume: { session_id: 's1', resume_token: 't1', last_seq: 40 } });
    s.receive(init({ resumed: true, replayed: 3 }));
    // The replay: one the old page had shown (10), then two it had not.
    for (const [seq, offset] of [[41, 10], [42, 11], [43, 12]] as const) s.receive({ event: 'channel/message', seq, payload: { channel: 'logs', offset, epoch: 'e1', data: offset } });
    // The session was still subscribed: the server confirms without replay, at the head.
    s.receive({ event: 'channel/subscribed', seq: 44, payload: { channel: 'logs', offset: 12, epoch: 'e1', recovered: false } });
    expect(got).toEqual([11, 12]);
    expect(missed).toBe(0);
    expect(sub.state).toBe('subscribed');
    expect(c.resumeState).toEqual({ sessionId: 's1', resumeToken: 't1', lastSeq: 44 });
  });
});

describe('the reload store (sessionStorage)', () => {
  it('saves the session and positions on connect, and loads them back; refuses a malformed value', () => {
    const store = new MemoryStorage();
    (globalThis as { sessionStorage?: unknown }).sessionStorage = store;
    const c = make();
    const sub = c.subscribe('logs');
    const stop = keepForReload(c, 'k');
    const s = accept();
    s.receive({ event: 'channel/subscribed', seq: 1, payload: { channel: 'logs', offset: 5, epoch: 'e1', recovered: false } });
    expect(sub.position).toEqual({ offset: 5, epoch: 'e1' });
    // Saved at `connected` (before the subscribe confirmed): the session, and no position yet.
    expect(loadReloadState('k')).toEqual({ resume: { sessionId: 's1', resumeToken: 't1', lastSeq: 0 }, positions: {} });
    s.drop();
    clock.advance(60_000);
    accept({ resumed: true });
    expect(loadReloadState('k')).toEqual({ resume: { sessionId: 's1', resumeToken: 't1', lastSeq: 1 }, positions: { logs: { offset: 5, epoch: 'e1' } } });
    stop();
    store.setItem('k', '{"resume":{"sessionId":1}}');
    expect(loadReloadState('k')).toBeUndefined();
    store.setItem('k', 'not json');
    expect(loadReloadState('k')).toBeUndefined();
  });
});

describe('the reload store at pagehide', () => {
  /** `addEventListener`/`dispatchEvent` on globalThis, as a page has them. */
  function pageEvents(): { fire(type: string, init?: { persisted?: boolean }): void; restore(): void } {
    const g = globalThis as unknown as Record<string, unknown>;
    const target = new EventTarget();
    g.addEventListener = target.addEventListener.bind(target);
    g.removeEventListener = target.removeEventListener.bind(target);
    return {
      fire: (type, init = {}) => target.dispatchEvent(Object.assign(new Event(type), init)),
      restore: () => {
        delete g.addEventListener;
        delete g.removeEventListener;
      },
    };
  }
  const msg = (seq: number) => ({ event: 'send/broadcast', seq, payload: { from: 'x', data: seq } });

  it('a reconnect of the page going away saves nothing past pagehide: the next page resumes from what was saved then', () => {
    (globalThis as { sessionStorage?: unknown }).sessionStorage = new MemoryStorage();
    const page = pageEvents();
    try {
      const c = make();
      const got: number[] = [];
      c.subscribe('logs', (m) => got.push(m.offset));
      const stop = keepForReload(c, 'k');
      const s = accept();
      s.receive({ event: 'channel/subscribed', seq: 1, payload: { channel: 'logs', offset: 0, epoch: 'e1', recovered: false } });
      const chan = (seq: number) => ({ event: 'channel/message', seq, payload: { channel: 'logs', offset: seq - 1, epoch: 'e1', data: seq } });
      for (let seq = 2; seq <= 10; seq++) s.receive(chan(seq));
      page.fire('pagehide');
      const saved = loadReloadState('k');
      expect(saved).toEqual({ resume: { sessionId: 's1', resumeToken: 't1', lastSeq: 10 }, positions: { logs: { offset: 9, epoch: 'e1' } } });
      // The page lives on a moment while the next loads: more frames, its socket drops, it reconnects and resumes.
      for (let seq = 11; seq <= 30; seq++) s.receive(chan(seq));
      s.drop();
      clock.advance(60_000);
      accept({ resumed: true });
      expect(got.at(-1)).toBe(29); // processed here, on a page nobody sees any more
      expect(loadReloadState('k')).toEqual(saved);
      // Restored from the back/forward cache, it is the page again: the next connect saves.
      page.fire('pageshow', { persisted: true });
      FakeSocket.last.drop();
      clock.advance(60_000);
      accept({ resumed: true });
      expect(loadReloadState('k')!.resume.lastSeq).toBe(30);
      stop();
    } finally {
      page.restore();
    }
  });

  it('acks nothing past the saved seq while the page unloads (the next page resumes without a gap), and acks again when the page comes back', () => {
    (globalThis as { sessionStorage?: unknown }).sessionStorage = new MemoryStorage();
    const page = pageEvents();
    try {
      const c = make({ ackEvery: 50 });
      const stop = keepForReload(c, 'k');
      const s = accept();
      for (let seq = 1; seq <= 10; seq++) s.receive(msg(seq));
      page.fire('pagehide');
      expect(loadReloadState('k')!.resume.lastSeq).toBe(10);
      // Frames still arriving while the page goes away: enough for an ack, and its timer too.
      for (let seq = 11; seq <= 80; seq++) s.receive(msg(seq));
      clock.advance(5_000);
      const acked = () => s.of('client/ack').map((f) => (f.payload as { seq: number }).seq);
      expect(Math.max(0, ...acked())).toBeLessThanOrEqual(10);
      // Back from the back/forward cache: the page goes on, and acks what it processed.
      page.fire('pageshow', { persisted: true });
      clock.advance(5_000);
      expect(Math.max(...acked())).toBe(80);
      stop();
    } finally {
      page.restore();
    }
  });
});
