import { ClientEvent, type StreamPosition } from '../protocol/events.js';
import { Emitter } from './emitter.js';
import { browserNetwork, browserVisibility, randomId } from './environment.js';
import { WsgateError, type SendResult } from './requests.js';
import { subscribeIn, type Subscription, type ChannelMessage, type SubscriptionHost } from './subscription.js';
import { SHARED_OPTION_KEYS, type ErrorData, type LocksLike, type PortLike, type SharedOptions, type Snapshot, type TabMessage, type WorkerMessage } from './tab-protocol.js';
import type { TransportName } from './transport-picker.js';
import type { ClientEvents, ClientStats, ConnectionState, ResumeState, WsgateClientOptions } from './types.js';

function toError(e: ErrorData): WsgateError {
  return new WsgateError(e.code, e.message, e.event);
}

/** Options of a tab's handle on the shared connection: the client options plus the port and locks. */
export interface SharedClientInit {
  /** The port of the SharedWorker (`new SharedWorker(...).port`), or one end of a MessageChannel in tests. */
  port: PortLike;
  /** Web Locks (default `navigator.locks`): held for the tab's life so the worker notices when it closes. */
  locks?: LocksLike | null;
}

/**
 * One tab's handle on the connection a SharedWorker shares between every tab of the origin
 * (`createClient` picks it where SharedWorker exists). The same surface as `WsgateClient`: state,
 * events and stats mirror the worker's client; subscriptions are this tab's own — their pause,
 * hidden-tab pause and position are per tab — and `close()` releases only this tab.
 */
export class SharedWsgateClient extends Emitter<ClientEvents> implements SubscriptionHost {
  private port: PortLike;
  /** The SharedWorker could not start: a hub in this tab carries this tab's own connection. */
  private local = false;
  private readonly hello: TabMessage;
  private readonly tabId = randomId() + randomId();
  private readonly subs = new Map<string, Subscription>();
  private readonly pending = new Map<number, { msg: TabMessage; resolve(r: SendResult): void; reject(e: WsgateError): void }>();
  private readonly cleanups: Array<() => void> = [];
  private rid = 0;
  private snap: Snapshot = { state: 'idle', transport: 'ws', sessionId: undefined, resumeToken: undefined, seq: 0, stats: { heartbeatsSent: 0, heartbeatsReceived: 0, messagesReceived: 0, duplicatesDropped: 0, reconnects: 0, resumes: 0 } };
  private closed = false;
  private ackHeld = false;
  /** The seq this tab last told the worker it processed (`done`). */
  private reported = 0;
  private _init: ClientEvents['connected']['init'] | undefined;
  /** Messages made before the hello went out (it waits for the tab's lock): the worker needs the hello first. */
  private beforeHello: TabMessage[] | undefined = [];
  private isHidden: () => boolean = () => false;

  constructor(
    private readonly opts: WsgateClientOptions,
    init: SharedClientInit,
  ) {
    super();
    this.port = init.port;
    this.port.onmessage = (ev) => this.onWorker(ev.data as WorkerMessage);
    const options: SharedOptions = {};
    for (const k of SHARED_OPTION_KEYS) if (opts[k] !== undefined) (options as Record<string, unknown>)[k] = opts[k];
    if (opts.sse !== undefined) options.sse = opts.sse && { ...(opts.sse.url ? { url: opts.sse.url } : {}), ...(opts.sse.after ? { after: opts.sse.after } : {}) };
    const hello: TabMessage = { t: 'hello', tab: this.tabId, options, ...(opts.resume ? { resume: opts.resume } : {}) };
    this.hello = hello;
    const locks = init.locks === undefined ? (globalThis as { navigator?: { locks?: LocksLike } }).navigator?.locks : init.locks;
    if (locks) {
      // Say hello only once the lock is held: the worker's request for it must queue behind ours.
      locks.request(`wsgate-tab:${this.tabId}`, () => new Promise<void>((release) => {
        if (this.closed) return release();
        this.sayHello(hello);
        this.cleanups.push(release);
      })).catch(() => this.sayHello(hello));
    } else this.sayHello(hello);
    this.watchEnvironment();
  }

  /** `'shared'`: one WebSocket in a SharedWorker for every tab; `'tab'` when the worker could not start. */
  get mode(): 'shared' | 'tab' {
    return this.local ? 'tab' : 'shared';
  }
  get state(): ConnectionState {
    return this.closed ? 'closed' : this.snap.state;
  }
  get sessionId(): string | undefined {
    return this.snap.sessionId;
  }
  /** The shared connection's transport: `'ws'`, or `'sse'` after the fallback. */
  get transport(): TransportName {
    return this.snap.transport;
  }
  get init(): ClientEvents['connected']['init'] | undefined {
    return this._init;
  }
  get seq(): number {
    return this.snap.seq;
  }
  get stats(): ClientStats {
    return this.snap.stats;
  }
  /** What a later page needs to resume the shared session (`lastSeq`: the last one this tab processed). */
  get resumeState(): ResumeState | undefined {
    const { sessionId, resumeToken, seq } = this.snap;
    return sessionId && resumeToken ? { sessionId, resumeToken, lastSeq: seq } : undefined;
  }

  /** @internal As `WsgateClient.holdAcks`: while held, this tab tells the worker of nothing more it processed. */
  holdAcks(hold: boolean): void {
    this.ackHeld = hold;
    if (!hold) this.report();
  }

  /** Tell the worker this tab has handled everything up to its snapshot's seq (it acks the gateway no further). */
  private report(): void {
    if (this.ackHeld || this.snap.seq <= this.reported) return;
    this.reported = this.snap.seq;
    this.post({ t: 'done', seq: this.reported });
  }

  /** Reconnect now if the shared connection waits for a retry. */
  connect(): void {
    this.post({ t: 'wake' });
  }

  /**
   * @internal The SharedWorker could not start (its script missing or failing): carry on over `port`,
   * to a hub in this tab — this tab's own connection. What the dead worker never answered is asked again.
   */
  rehome(port: PortLike, reason: string): void {
    if (this.closed || this.local) return;
    this.local = true;
    this.opts.debug?.(reason);
    this.port.onmessage = null;
    this.port = port;
    port.onmessage = (ev) => this.onWorker(ev.data as WorkerMessage);
    if (this.beforeHello) return; // the hello has not gone out yet: it will go to the new port
    port.postMessage(this.hello);
    for (const sub of this.subs.values()) {
      if (sub.state === 'subscribing') port.postMessage(sub.position ? { t: 'sub', channel: sub.channel, since: sub.position } : { t: 'sub', channel: sub.channel });
    }
    for (const p of this.pending.values()) port.postMessage(p.msg);
  }

  /** Release this tab (its channels and pending sends); the shared connection stays for the other tabs. */
  close(): void {
    if (this.closed) return;
    this.post({ t: 'bye' });
    this.closed = true;
    for (const off of this.cleanups.splice(0)) off();
    this.port.onmessage = null;
    this.port.close();
    for (const p of this.pending.values()) p.reject(new WsgateError('closed', 'the client was closed'));
    this.pending.clear();
    this.emit('state', { state: 'closed', previous: this.snap.state });
  }

  /** As `WsgateClient.send`: resolves on the server's `system/ack`. */
  send(event: string, payload?: unknown, options: { timeout?: number } = {}): Promise<SendResult> {
    if (typeof event !== 'string' || event.length === 0) return Promise.reject(new TypeError('event must be a non-empty string'));
    if (this.closed) return Promise.reject(new WsgateError('closed', 'the client is closed', event));
    const rid = ++this.rid;
    const timeout = options.timeout ?? this.opts.sendTimeout;
    return new Promise<SendResult>((resolve, reject) => {
      const msg: TabMessage = { t: 'send', rid, event, payload, ...(timeout ? { timeout } : {}) };
      this.pending.set(rid, { msg, resolve, reject });
      this.post(msg);
    });
  }

  /** Publish to a channel (`channel/publish`). */
  publish(channel: string, data: unknown): Promise<SendResult> {
    return this.send(ClientEvent.Publish, { channel, data });
  }

  /** As `WsgateClient.subscribe`; the subscription is this tab's own. */
  subscribe(channel: string, handler?: (message: ChannelMessage) => void, options: { pauseWhenHidden?: boolean; since?: StreamPosition } = {}): Subscription {
    return subscribeIn(this.subs, this, this.opts, this.isHidden(), channel, handler, options);
  }

  /** The subscription to `channel`, if any. */
  subscription(channel: string): Subscription | undefined {
    return this.subs.get(channel);
  }

  /** Every live subscription of this tab. */
  subscriptions(): Subscription[] {
    return [...this.subs.values()];
  }

  /** @internal SubscriptionHost. */
  requestSubscribe(sub: Subscription, since: StreamPosition | undefined): void {
    this.post(since ? { t: 'sub', channel: sub.channel, since } : { t: 'sub', channel: sub.channel });
  }
  /** @internal SubscriptionHost. */
  requestUnsubscribe(sub: Subscription): void {
    this.post({ t: 'unsub', channel: sub.channel });
  }
  /** @internal SubscriptionHost. */
  forget(sub: Subscription): void {
    if (this.subs.get(sub.channel) !== sub) return;
    this.subs.delete(sub.channel);
    this.post({ t: 'forget', channel: sub.channel });
  }

  private post(msg: TabMessage): void {
    if (this.closed) return;
    if (this.beforeHello) this.beforeHello.push(msg);
    else this.port.postMessage(msg);
  }

  private sayHello(hello: TabMessage): void {
    const queued = this.beforeHello;
    if (!queued || this.closed) return;
    this.beforeHello = undefined;
    this.port.postMessage(hello);
    for (const msg of queued) this.port.postMessage(msg);
  }

  private onWorker(msg: WorkerMessage): void {
    if (!msg || typeof msg !== 'object' || !msg.snap) return;
    this.snap = msg.snap;
    try {
      this.route(msg);
    } finally {
      // Whatever the message was (a channel message, an event, a bare snapshot), this tab has handled every frame
      // up to its seq: a reload of this tab resumes from there, so the worker may ack the gateway that far.
      this.report();
    }
  }

  private route(msg: WorkerMessage): void {
    switch (msg.t) {
      case 'snap':
        if (msg.init) this._init = msg.init;
        return;
      case 'event':
        if (msg.event.name === 'connected') this._init = msg.event.value.init;
        if (msg.event.name === 'error') this.emit('error', toError(msg.event.value));
        else this.emit(msg.event.name, msg.event.value as never);
        return;
      case 'subscribed':
        return this.subs.get(msg.channel)?.handleSubscribed(msg.payload);
      case 'msg':
        return this.subs.get(msg.channel)?.handleMessage(msg.payload);
      case 'suberr':
        return this.subs.get(msg.channel)?.handleError(toError(msg.error));
      case 'resync':
        return this.subs.get(msg.channel)?.resubscribe();
      case 'sent':
      case 'notsent': {
        const p = this.pending.get(msg.rid);
        this.pending.delete(msg.rid);
        if (msg.t === 'sent') p?.resolve(msg.result);
        else p?.reject(toError(msg.error));
        return;
      }
    }
  }

  private watchEnvironment(): void {
    const vis = this.opts.visibility === undefined ? browserVisibility() : this.opts.visibility;
    if (vis) {
      this.isHidden = () => vis.isHidden();
      this.cleanups.push(
        vis.onChange(() => {
          const hidden = vis.isHidden();
          for (const sub of [...this.subs.values()]) sub.setHidden(hidden);
          if (!hidden) this.connect();
        }),
      );
    }
    const net = this.opts.network === undefined ? browserNetwork() : this.opts.network;
    if (net) this.cleanups.push(net.onOnline(() => this.connect()));
  }
}
