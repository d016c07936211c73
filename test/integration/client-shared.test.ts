import WebSocket from 'ws';
import { SharedWsgateClient, WorkerHub, type VisibilitySource } from '../../src/client/index.js';
import type { PortLike } from '../../src/client/tab-protocol.js';
import type { Gateway } from '../../src/index.js';
import { startGateway } from '../support/gateway.js';

// The shared mode's two halves in Node: the worker's hub (one real WebSocket to a real gateway) and
// tabs talking to it over real MessagePorts, as a SharedWorker's ports would carry them.

let gw: Gateway;
let hub: WorkerHub;
const tabs: SharedWsgateClient[] = [];

/** A page visibility the test flips. */
class FakeVisibility implements VisibilitySource {
  hidden = false;
  private readonly fns = new Set<() => void>();
  isHidden(): boolean {
    return this.hidden;
  }
  onChange(fn: () => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  set(hidden: boolean): void {
    this.hidden = hidden;
    for (const fn of this.fns) fn();
  }
}

function tab(visibility: VisibilitySource | null = null): SharedWsgateClient {
  const t = new SharedWsgateClient({ url: gw.url('/api/ws'), visibility, network: null, pauseWhenHidden: true }, { port: attachPort(), locks: null });
  tabs.push(t);
  return t;
}

function until(pred: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (pred()) resolve();
      else if (Date.now() > deadline) reject(new Error(`${what}: not met in time`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

const range = (n: number, from = 1): number[] => Array.from({ length: n }, (_, i) => i + from);
async function publish(ch: string, values: number[]): Promise<void> {
  for (const v of values) await gw.publish(ch, v);
}
const connectedSessions = (): number => gw.sessions().filter((s) => s.isConnected).length;

beforeEach(async () => {
  gw = await startGateway({ pingInterval: 0.5, pingTimeout: 0.5, heartbeatInterval: 1 });
  hub = new WorkerHub({ WebSocket, locks: null, ringSize: 50, client: { backoff: { minDelay: 50, maxDelay: 200 } } });
});
afterEach(async () => {
  for (const t of tabs.splice(0)) t.close();
  hub.close();
  await gw.close();
});

describe('the shared mode (WorkerHub + tab clients over MessagePorts) against a real gateway', () => {
  it('carries every tab on one connection; a tab that closes releases its channels, the others keep receiving', async () => {
    const all = [tab(), tab(), tab()];
    const got = all.map(() => [] as number[]);
    all.forEach((t, i) => t.subscribe('news', (m) => got[i]!.push(m.data as number)));
    const own = all[0]!.subscribe('only-first');
    await until(() => all.every((t) => t.subscription('news')?.state === 'subscribed') && own.state === 'subscribed', 10_000, 'subscribed');
    expect(connectedSessions()).toBe(1);
    expect(new Set(all.map((t) => t.sessionId)).size).toBe(1);
    await publish('news', range(10));
    await until(() => got.every((g) => g.length === 10), 10_000, 'ten each');
    const session = gw.sessions()[0]!;
    expect([...session.subscriptions].sort()).toEqual(['news', 'only-first']);

    all[0]!.close();
    await until(() => !session.subscriptions.has('only-first'), 5_000, 'only-first released');
    expect(session.subscriptions.has('news')).toBe(true); // still held by the other two
    all[1]!.close();
    await publish('news', range(5, 11));
    await until(() => got[2]!.length === 15, 10_000, 'the last tab');
    expect(got[2]).toEqual(range(15));
    expect(got[0]).toEqual(range(10));
    expect(connectedSessions()).toBe(1);
  });

  it('pauses a hidden tab alone and gives it what it missed, in order, when visible again', async () => {
    const vis = new FakeVisibility();
    const hidden = tab(vis);
    const visible = tab();
    const a: number[] = [];
    const b: number[] = [];
    const subA = hidden.subscribe('logs', (m) => a.push(m.data as number));
    visible.subscribe('logs', (m) => b.push(m.data as number));
    await until(() => subA.state === 'subscribed' && visible.subscription('logs')?.state === 'subscribed');
    await publish('logs', range(5));
    await until(() => a.length === 5 && b.length === 5);
    vis.set(true);
    expect(subA.state).toBe('paused');
    await publish('logs', range(20, 6));
    await until(() => b.length === 25, 10_000, 'the visible tab keeps going');
    expect(a).toEqual(range(5));
    vis.set(false);
    await until(() => a.length === 25, 10_000, 'catch-up');
    await publish('logs', [26]);
    await until(() => a.length === 26 && b.length === 26);
    expect(a).toEqual(range(26));
    expect(b).toEqual(range(26));
  });

  it('unsubscribes on the server while every tab has the channel paused, and recovers from history after', async () => {
    const t1 = tab();
    const t2 = tab();
    const g1: number[] = [];
    const s1 = t1.subscribe('c', (m) => g1.push(m.data as number));
    const s2 = t2.subscribe('c');
    await until(() => s1.state === 'subscribed' && s2.state === 'subscribed');
    await publish('c', range(3));
    await until(() => g1.length === 3);
    s1.pause();
    s2.pause();
    const session = gw.sessions()[0]!;
    await until(() => !session.subscriptions.has('c'), 5_000, 'server unsubscribe');
    await publish('c', range(7, 4));
    s1.resume();
    await until(() => g1.length === 10, 10_000, 'recovered');
    expect(g1).toEqual(range(10));
    expect(session.subscriptions.has('c')).toBe(true);
  });

  it('resumes for every tab after the socket drops, losing and duplicating nothing', async () => {
    const all = [tab(), tab(), tab()];
    const got = all.map(() => [] as number[]);
    all.forEach((t, i) => t.subscribe('ticks', (m) => got[i]!.push(m.data as number)));
    let resumedTabs = 0;
    for (const t of all) t.once('resumed', () => resumedTabs++);
    await until(() => all.every((t) => t.subscription('ticks')?.state === 'subscribed'));
    for (let n = 1; n <= 60; n++) {
      await gw.publish('ticks', n);
      if (n === 20) expect(gw.dropConnection(all[0]!.sessionId!)).toBe(true);
    }
    await until(() => got.every((g) => g.length >= 60), 15_000, 'sixty each');
    await new Promise((r) => setTimeout(r, 200)); // a duplicate would arrive now
    for (const g of got) expect(g).toEqual(range(60));
    expect(resumedTabs).toBe(3);
    expect(all[2]!.stats.resumes).toBe(1);
  });

  it('acknowledges a send from any tab, and rejects a failed subscribe in the tab that made it', async () => {
    const t1 = tab();
    const t2 = tab();
    await until(() => t1.state === 'connected' && t2.state === 'connected');
    await expect(t2.publish('room', { hi: 1 })).resolves.toMatchObject({ duplicate: false });
    // A tab that comes later learns the connection's system/init from its first snapshot.
    const late = tab();
    await until(() => late.init?.session_id === t1.sessionId && late.state === 'connected', 5_000, 'the late tab to know init');
    const bad = t1.subscribe('bad channel name');
    const err = await new Promise((resolve) => bad.on('error', resolve));
    expect(err).toMatchObject({ code: 'bad_channel' });
    expect(bad.state).toBe('failed');
  });

  it('acks the gateway no further than a tab processed, so a reload of a lagging tab can still resume', async () => {
    // A tab that receives but has not said what it processed yet (a busy page): a raw port.
    const port = attachPort() as unknown as MessagePort;
    const seqs: number[] = [];
    port.onmessage = (ev: MessageEvent<{ t: string; snap: { seq: number } }>) => void (ev.data.t === 'msg' && seqs.push(ev.data.snap.seq));
    port.postMessage({ t: 'hello', tab: 'lagging', options: { url: gw.url('/api/ws') } });
    port.postMessage({ t: 'sub', channel: 'busy' });
    await until(() => gw.sessions().some((s) => s.subscriptions.has('busy')), 10_000, 'subscribed');
    await publish('busy', range(60)); // past ackEvery (50)
    await until(() => seqs.length === 60, 10_000, 'all posted');
    await new Promise((r) => setTimeout(r, 1300)); // past ackDelay (1 s)
    const session = gw.sessions()[0]!;
    expect(session.buffer.length).toBeGreaterThanOrEqual(60); // nothing acked: the tab processed none
    port.postMessage({ t: 'done', seq: seqs[59] });
    await until(() => session.buffer.length === 0, 5_000, 'acked once the tab processed them');
    port.close();
  });

  // A tab saves its snapshot's seq for a reload. Frames it is posted as events (a unicast), and frames it
  // is posted nothing for (another tab's channel), must not be acked before the tab said it handled them:
  // otherwise its reload resumes below what the gateway dropped, and the session ends with `gap`.
  it('acks events and other tabs\' frames no further than every tab has handled, so any tab can reload', async () => {
    const port = attachPort() as unknown as MessagePort;
    let seen = 0; // the highest snapshot seq the raw tab was posted
    port.onmessage = (ev: MessageEvent<{ snap: { seq: number } }>) => void (seen = Math.max(seen, ev.data.snap.seq));
    port.postMessage({ t: 'hello', tab: 'raw', options: { url: gw.url('/api/ws') } });
    await until(() => connectedSessions() === 1, 10_000, 'connected');
    const session = gw.sessions()[0]!;
    // Another tab on a channel the raw tab never asked for: it processes each message and says so.
    const other = tab();
    const got: number[] = [];
    other.subscribe('elsewhere', (m) => got.push(m.data as number));
    await until(() => other.subscription('elsewhere')?.state === 'subscribed', 10_000, 'subscribed');
    await publish('elsewhere', range(60)); // past ackEvery (50)
    for (const n of range(10)) await gw.sendTo(session.id, 'app/note', n); // events, posted to both tabs
    await until(() => got.length === 60 && seen === session.seq, 10_000, 'all handled by the other tab, the raw tab told the seq');
    await new Promise((r) => setTimeout(r, 1300)); // past ackDelay (1 s)
    // The raw tab said nothing: it may reload and resume from the seq it had before all of these.
    expect(session.buffer.length).toBeGreaterThanOrEqual(70);
    port.postMessage({ t: 'done', seq: seen });
    await until(() => session.buffer.length === 0, 5_000, 'acked once the raw tab handled them');
    port.close();
  });

  it('answers a tab that joins since a position from the ring: recovered when it can, missed when it cannot', async () => {
    const t1 = tab();
    const s1 = t1.subscribe('r');
    await until(() => s1.state === 'subscribed');
    await publish('r', range(80));
    await until(() => s1.position?.offset === 80);
    const epoch = s1.position!.epoch;
    // Within the ring (50 messages): recovered.
    const late = new SharedWsgateClient({ url: gw.url('/api/ws'), visibility: null, network: null, positions: { r: { offset: 70, epoch } } }, { port: attachPort(), locks: null });
    tabs.push(late);
    const got: number[] = [];
    const subLate = late.subscribe('r', (m) => got.push(m.data as number));
    const confirmed = await new Promise<{ recovered: boolean }>((resolve) => subLate.once('subscribed', resolve));
    expect(confirmed.recovered).toBe(true);
    await until(() => got.length === 10);
    expect(got).toEqual(range(10, 71));
    // Older than the ring: recovered:false, with the count.
    const old = new SharedWsgateClient({ url: gw.url('/api/ws'), visibility: null, network: null, positions: { r: { offset: 5, epoch } } }, { port: attachPort(), locks: null });
    tabs.push(old);
    const missed = await new Promise<{ missed?: number }>((resolve) => old.subscribe('r').once('missed', resolve));
    expect(missed.missed).toBe(75);
  });
});

/** A fresh MessageChannel: one end to the hub (as `onconnect` would hand it), the other for a tab. */
function attachPort(): PortLike {
  const { port1, port2 } = new MessageChannel();
  hub.attach(port2 as unknown as PortLike);
  return port1 as unknown as PortLike;
}
