import { WsgateClient } from '../../src/client/client.js';
import type { EventSourceConstructor, EventSourceLike, FetchLike } from '../../src/client/sse-socket.js';
import { frameSeq } from '../../src/sse/sse-wire.js';
import { FakeSocket, init, ManualClock } from './client-fakes.js';

let clock: ManualClock;
const clients: WsgateClient[] = [];
const posts: string[] = [];
const sources: FakeEventSource[] = [];

/** An EventSource the test opens and feeds. */
class FakeEventSource implements EventSourceLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    sources.push(this);
  }
  addEventListener(): void {}
  close(): void {
    this.closed = true;
  }
}

/** A gateway's /api/sse that hands out tickets and takes frames. */
const fakeFetch: FetchLike = async (url, init) => {
  posts.push(`${init.method} ${url} ${init.body}`);
  return { ok: true, status: 200, json: async () => ({ ticket: 't', key: 'k' }) };
};

function make(): WsgateClient {
  const c = new WsgateClient({
    url: 'wss://gw.test/api/ws',
    WebSocket: FakeSocket,
    clock,
    random: () => 0.5,
    visibility: null,
    network: null,
    sse: { after: 3, EventSource: FakeEventSource as unknown as EventSourceConstructor, fetch: fakeFetch },
  });
  clients.push(c);
  return c;
}

/** End `s` and advance exactly the announced reconnect delay (not into the next attempt's connect timeout). */
function dropAndWait(c: WsgateClient, s: FakeSocket): void {
  let delay = 0;
  const off = c.on('disconnected', (e) => (delay = e.delay ?? 0));
  s.drop(1006);
  off();
  clock.advance(delay);
}

/** Let the SSE socket's fetch/json promises run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

beforeEach(() => {
  clock = new ManualClock(1_000_000);
  FakeSocket.reset();
  posts.length = 0;
  sources.length = 0;
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe('the fallback between WebSocket and SSE', () => {
  it('switches to SSE after three WebSocket attempts that never got system/init, and the hello goes by POST', async () => {
    const c = make();
    for (let i = 0; i < 3; i++) {
      expect(c.transport).toBe('ws');
      dropAndWait(c, FakeSocket.last); // an upgrade refused: the socket never opens
    }
    expect(FakeSocket.instances).toHaveLength(3);
    expect(c.transport).toBe('sse');
    await settle();
    expect(posts[0]).toBe('POST https://gw.test/api/sse ');
    expect(sources[0]!.url).toBe('https://gw.test/api/sse/stream?ticket=t');
    sources[0]!.onopen?.({});
    await settle();
    expect(posts[1]).toMatch(/^POST https:\/\/gw.test\/api\/sse\/send \{"event":"client\/hello"/);
    sources[0]!.onmessage?.({ data: JSON.stringify(init()) });
    expect(c.state).toBe('connected');
    expect(c.sessionId).toBe('s1');
  });

  it('does not count a WebSocket that reached system/init, however it ends', () => {
    const c = make();
    for (let i = 0; i < 5; i++) {
      const s = FakeSocket.last;
      s.open();
      s.receive(init());
      dropAndWait(c, s);
    }
    expect(c.transport).toBe('ws');
    expect(FakeSocket.instances).toHaveLength(6);
  });
});

describe('frameSeq (the SSE event id of an encoded frame)', () => {
  it('reads the top-level seq, not one inside the event name or the payload', () => {
    expect(frameSeq('{"event":"channel/message","seq":42,"payload":{"seq":7}}')).toBe(42);
    expect(frameSeq(JSON.stringify({ event: 'a","seq":9,"x":"', seq: 5 }))).toBe(5);
    expect(frameSeq('{"event":"system/heartbeat"}')).toBeUndefined();
    expect(frameSeq(JSON.stringify({ event: 'x\\","seq":3' }))).toBeUndefined();
  });
});
