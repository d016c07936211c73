import type { ChannelMessagePayload, StreamPosition, SubscribedPayload } from '../protocol/events.js';
import { ChannelMux, type MuxTab } from './channel-mux.js';
import { systemClock, Timer } from '../time/clock.js';
import { WsgateClient } from './client.js';
import type { WebSocketConstructor } from './environment.js';
import { WsgateError } from './requests.js';
import type { ErrorData, ForwardedEvent, LocksLike, PortLike, Snapshot, TabMessage, WorkerMessage } from './tab-protocol.js';
import type { ClientEvents, ResumeState, WsgateClientOptions } from './types.js';

/** Options of {@link WorkerHub}. */
export interface WorkerHubOptions {
  /** WebSocket class (the worker's global by default; `ws`'s in Node tests). */
  WebSocket?: WebSocketConstructor;
  /** Web Locks, to notice a tab that closed without saying so. Default `navigator.locks` when present. */
  locks?: LocksLike | null;
  /** Messages kept per channel to answer a tab that joins or resumes `since` a position. Default 1000. */
  ringSize?: number;
  /** How long a channel no tab holds keeps its position (a reloading tab comes back `since` it). Default 60 000 ms. */
  lingerMs?: number;
  /** Extra client options (tests: clock, debug). */
  client?: Partial<WsgateClientOptions>;
}

const FORWARDED: ReadonlyArray<keyof ClientEvents> = ['state', 'connecting', 'connected', 'resumed', 'session-lost', 'disconnected', 'failed', 'message', 'error', 'heartbeat'];

function errorData(err: unknown): ErrorData {
  if (err instanceof WsgateError) return err.event === undefined ? { code: err.code, message: err.message } : { code: err.code, message: err.message, event: err.event };
  return { code: 'internal', message: String(err) };
}

/** One connected tab, as the hub sees it. */
class TabLink implements MuxTab {
  readonly channels = new Set<string>();
  /** The worker's seq when it last posted this tab anything, and the seq the tab said it processed up to. */
  posted = 0;
  done = 0;
  constructor(
    readonly id: string,
    private readonly port: PortLike,
    private readonly snap: () => Snapshot,
  ) {}

  post(msg: WorkerMessage extends infer M ? (M extends unknown ? Omit<M, 'snap'> : never) : never): void {
    const snap = this.snap();
    this.posted = snap.seq;
    try {
      this.port.postMessage({ ...msg, snap });
    } catch {
      /* a port whose tab is gone: the lock or bye removes it */
    }
  }
  subscribed(channel: string, payload: SubscribedPayload): void {
    this.post({ t: 'subscribed', channel, payload });
  }
  message(channel: string, payload: ChannelMessagePayload): void {
    this.post({ t: 'msg', channel, payload });
  }
  failed(channel: string, err: WsgateError): void {
    this.channels.delete(channel);
    this.post({ t: 'suberr', channel, error: errorData(err) });
  }
  resync(channel: string): void {
    this.post({ t: 'resync', channel });
  }
  close(): void {
    this.port.onmessage = null;
    this.port.close();
  }
}

/**
 * The SharedWorker side of the shared mode: one `WsgateClient` (one WebSocket) for every tab of
 * the origin that connects a port. Each tab's subscriptions are multiplexed through a
 * {@link ChannelMux} per channel; a tab that closes (its Web Lock is released, or it says `bye`)
 * lets go of its channels. Events of the client are forwarded to every tab.
 */
export class WorkerHub {
  private client: WsgateClient | undefined;
  private readonly tabs = new Map<string, TabLink>();
  private readonly muxes = new Map<string, ChannelMux>();
  /** The session the last tab left behind (the socket was closed 1001, so it stays resumable). */
  private suspended: ResumeState | undefined;

  constructor(private readonly opts: WorkerHubOptions = {}) {}

  /** A new port from a tab (`onconnect`). */
  attach(port: PortLike): void {
    let tab: TabLink | undefined;
    port.onmessage = (ev) => {
      const msg = ev.data as TabMessage;
      if (!msg || typeof msg !== 'object') return;
      if (msg.t === 'hello') tab = this.hello(port, msg);
      else if (tab && this.tabs.get(tab.id) === tab) this.handle(tab, msg);
    };
  }

  /** Close the shared connection (1000: ends the session) and every tab's port. */
  close(): void {
    this.client?.close();
    for (const tab of [...this.tabs.values()]) this.drop(tab);
  }

  /** Tabs connected now. */
  get tabCount(): number {
    return this.tabs.size;
  }

  private hello(port: PortLike, msg: Extract<TabMessage, { t: 'hello' }>): TabLink {
    const client = this.ensureClient(msg);
    const tab = new TabLink(msg.tab, port, () => this.snapshot());
    this.tabs.set(tab.id, tab);
    tab.post(client.init ? { t: 'snap', init: client.init } : { t: 'snap' });
    const locks = this.opts.locks === undefined ? (globalThis as { navigator?: { locks?: LocksLike } }).navigator?.locks : this.opts.locks;
    // The tab holds this lock for its whole life: we get it only once the tab is gone.
    locks?.request(`wsgate-tab:${tab.id}`, async () => this.drop(tab)).catch(() => undefined);
    if (client.state === 'disconnected') client.connect();
    return tab;
  }

  private ensureClient(msg: Extract<TabMessage, { t: 'hello' }>): WsgateClient {
    if (this.client && this.client.state !== 'closed' && this.client.state !== 'failed') return this.client;
    const options: WsgateClientOptions = { ...msg.options, ...this.opts.client, visibility: null, network: null };
    if (this.opts.WebSocket) options.WebSocket = this.opts.WebSocket;
    options.ackLimit = () => this.processed();
    // The last tab reloaded: resume the session it had, from what it processed (its own `lastSeq`).
    const resume = this.client?.state === 'failed' ? undefined : (msg.resume ?? this.suspended);
    if (resume) options.resume = resume;
    this.suspended = undefined;
    const client = new WsgateClient(options);
    this.client = client;
    this.muxes.clear();
    for (const name of FORWARDED) {
      client.on(name, (value: unknown) => {
        const event = (name === 'error' ? { name, value: errorData(value) } : { name, value }) as ForwardedEvent;
        for (const tab of this.tabs.values()) tab.post({ t: 'event', event });
      });
    }
    return client;
  }

  private handle(tab: TabLink, msg: TabMessage): void {
    const client = this.client!;
    switch (msg.t) {
      case 'sub': {
        tab.channels.add(msg.channel);
        return this.mux(client, msg.channel, msg.since).join(tab, msg.since);
      }
      case 'unsub':
        return this.muxes.get(msg.channel)?.pause(tab.id);
      case 'forget':
        tab.channels.delete(msg.channel);
        return this.muxes.get(msg.channel)?.leave(tab.id);
      case 'send':
        client.send(msg.event, msg.payload, msg.timeout === undefined ? {} : { timeout: msg.timeout }).then(
          (result) => tab.post({ t: 'sent', rid: msg.rid, result }),
          (err: unknown) => tab.post({ t: 'notsent', rid: msg.rid, error: errorData(err) }),
        );
        return;
      case 'wake':
        return client.connect();
      case 'bye':
        return this.drop(tab);
      case 'done':
        tab.done = Math.max(tab.done, msg.seq);
        return;
    }
  }

  /** The channel's mux; a new one subscribes `since` the first tab's position (a reloaded tab's, say). */
  private mux(client: WsgateClient, channel: string, since: StreamPosition | undefined): ChannelMux {
    let mux = this.muxes.get(channel);
    if (!mux) {
      const sub = client.subscription(channel) ?? client.subscribe(channel, undefined, since ? { since } : {});
      const created: ChannelMux = new ChannelMux(channel, sub, this.opts.ringSize ?? 1000, () => this.linger(created));
      mux = created;
      this.muxes.set(channel, mux);
    }
    return mux;
  }

  /** Forget an empty channel after `lingerMs`, unless a tab took it again (or it failed: at once). */
  private linger(mux: ChannelMux): void {
    const forget = (): void => {
      if (this.muxes.get(mux.channel) !== mux || !mux.empty) return;
      this.muxes.delete(mux.channel);
      mux.dispose();
    };
    if (mux.failed) return forget();
    const timer = new Timer(this.opts.client?.clock ?? systemClock, forget);
    timer.arm(this.opts.lingerMs ?? 60_000);
  }

  /**
   * The seq every tab has processed: the least `done` of the tabs that have not said they handled the worker's
   * latest seq (no limit when all have). A tab saves its snapshot's seq for a reload and resumes from it; acking
   * past it would let the gateway drop frames that resume needs, and the resume would be a `gap`, which ends the
   * session. That holds for frames a tab never sees too (another tab's channel, an event posted while it was
   * busy): a tab that was posted nothing since such a frame is sent a bare snapshot (after the frame's own posts,
   * so its seq never runs ahead of a message still on its way), and its `done` lets the next ack go further.
   */
  private processed(): number {
    const seq = this.client?.seq ?? 0;
    let least = Infinity;
    let untold = false;
    for (const tab of this.tabs.values()) {
      if (tab.done >= seq) continue;
      least = Math.min(least, tab.done);
      if (tab.posted < seq) untold = true;
    }
    // Called before the newest frame is dispatched (the ack is scheduled first): tell the tabs once its posts are out.
    if (untold) queueMicrotask(() => this.tellSeq());
    return least;
  }

  /** Post a bare snapshot to each tab that was posted nothing since the worker's latest frame. */
  private tellSeq(): void {
    const seq = this.client?.seq ?? 0;
    for (const tab of this.tabs.values()) if (tab.posted < seq) tab.post({ t: 'snap' });
  }

  /** A tab is gone: release its channels. */
  private drop(tab: TabLink): void {
    if (this.tabs.get(tab.id) !== tab) return;
    this.tabs.delete(tab.id);
    for (const ch of tab.channels) this.muxes.get(ch)?.leave(tab.id);
    tab.close();
    if (this.tabs.size === 0) this.suspend();
  }

  /**
   * No tab is left. The browser ends this worker soon, but until then its socket would go on
   * receiving and acknowledging messages no tab will see — and a reloading tab resumes from what
   * it processed. So close now with 1001, which keeps the session resumable.
   */
  private suspend(): void {
    const client = this.client;
    if (!client || client.state === 'closed' || client.state === 'failed') return;
    this.suspended = client.resumeState;
    client.close(1001, 'going_away');
  }

  private snapshot(): Snapshot {
    const c = this.client;
    return {
      state: c?.state ?? 'idle',
      transport: c?.transport ?? 'ws',
      sessionId: c?.sessionId,
      resumeToken: c?.resumeState?.resumeToken,
      seq: c?.seq ?? 0,
      stats: c ? { ...c.stats } : { heartbeatsSent: 0, heartbeatsReceived: 0, messagesReceived: 0, duplicatesDropped: 0, reconnects: 0, resumes: 0 },
    };
  }
}
