import { CloseCode, CloseReason } from '../protocol/codes.js';
import { decodeFrame, encodeFrame } from '../protocol/codec.js';
import { ClientEvent, ServerEvent, type ChannelMessagePayload, type DisconnectPayload, type ErrorPayload, type Frame, type InitPayload, type StreamPosition, type SubscribedPayload } from '../protocol/events.js';
import { DEFAULT_BACKOFF, reconnectDecision, type BackoffOptions } from './backoff.js';
import { systemClock, Timer, type Clock } from '../time/clock.js';
import { Emitter } from './emitter.js';
import { browserVisibility, helloPayload, randomId, watchPage, WS_OPEN, type WebSocketLike } from './environment.js';
import { Liveness } from './liveness.js';
import { TransportPicker, type TransportName } from './transport-picker.js';
import { RequestQueue, WsgateError, type SendResult } from './requests.js';
import { subscribeIn, type Subscription, type ChannelMessage, type SubscriptionHost } from './subscription.js';
import type { ClientEvents, ClientStats, ConnectionState, ResumeState, WsgateClientOptions } from './types.js';

const localClose = (code: number): { code: number; reason: string } => ({ code, reason: CloseReason[code] ?? '' });
/** Sockets the client gives up on itself (reported in `disconnected`). No system/init in time is its side of the hello timeout: 4101 hello_timeout. */
const LOCAL_CLOSE = { watchdog: localClose(CloseCode.HeartbeatTimeout), connectTimeout: localClose(CloseCode.HelloTimeout) };

/**
 * The wsgate v3 client for browsers and Node: hello and resume, batched acks, duplicate drop by
 * `seq`, reconnect with full-jitter backoff by close-code class, the application heartbeat with a
 * wall-clock watchdog, acknowledged `send()`s and resumable channel subscriptions. See docs/client.md.
 */
export class WsgateClient extends Emitter<ClientEvents> implements SubscriptionHost {
  private readonly transports: TransportPicker;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly backoff: BackoffOptions;
  private readonly liveness: Liveness;
  private readonly requests = new RequestQueue(randomId);
  private readonly subs = new Map<string, Subscription>();
  private readonly reconnectTimer: Timer;
  private readonly connectTimer: Timer;
  private readonly ackTimer: Timer;
  private readonly cleanups: Array<() => void> = [];
  private ready = false;
  private _state: ConnectionState = 'idle';
  private attempt = 0;
  private session: { id: string; token: string } | undefined;
  private lastSeq = 0;
  /** Acks go no further than this while a page that saved its state for a reload goes away. */
  private ackHold: number | undefined;
  private ackedSeq = 0;
  private serverDisconnect: DisconnectPayload | undefined;
  private _init: InitPayload | undefined;
  private isHidden: () => boolean = () => false;
  /** `'tab'`: this page's own WebSocket (see `createClient` for the shared mode). */
  readonly mode = 'tab' as const;
  /** Counters for a status display. */
  readonly stats: ClientStats = { heartbeatsSent: 0, heartbeatsReceived: 0, messagesReceived: 0, duplicatesDropped: 0, reconnects: 0, resumes: 0 };

  constructor(private readonly opts: WsgateClientOptions = {}) {
    super();
    this.transports = TransportPicker.from(opts);
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.liveness = new Liveness(this.clock, { sendHeartbeat: () => this.sendHeartbeat(), onDead: () => this.abandon(LOCAL_CLOSE.watchdog) }, opts.watchdogFactor ?? 1.5);
    this.reconnectTimer = new Timer(this.clock, () => this.open());
    this.connectTimer = new Timer(this.clock, () => this.abandon(LOCAL_CLOSE.connectTimeout));
    this.ackTimer = new Timer(this.clock, () => this.flushAck());
    // Start from a session a previous page had: the first hello resumes it.
    if (opts.resume) [this.session, this.lastSeq, this.ackedSeq] = [{ id: opts.resume.sessionId, token: opts.resume.resumeToken }, opts.resume.lastSeq, opts.resume.lastSeq];
    this.watchEnvironment();
    // Announce the first transitions once `new` has returned, so a listener attached right after it sees `connecting`.
    this.holdUntilNextTick();
    if (opts.autoConnect !== false) this.connect();
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this._state;
  }

  /** `'ws'`, or `'sse'` after WebSocket failed `sse.after` attempts in a row (see docs/client.md). */
  get transport(): TransportName {
    return this.transports.name;
  }

  /** The current session id (kept across resumes), once `system/init` arrived. */
  get sessionId(): string | undefined {
    return this.session?.id;
  }

  /** The last `system/init` (ping_interval, heartbeat_interval, sessions of the room…). */
  get init(): InitPayload | undefined {
    return this._init;
  }

  /** The highest `seq` received. */
  get seq(): number {
    return this.lastSeq;
  }

  /** What a later page needs to resume this session (see the `reload` option of `createClient`), once there is one. */
  get resumeState(): ResumeState | undefined {
    return this.session ? { sessionId: this.session.id, resumeToken: this.session.token, lastSeq: this.lastSeq } : undefined;
  }

  /**
   * @internal The `reload` option saved `resumeState` at pagehide: ack nothing past it from now on,
   * or a frame that arrives while the page unloads would be acked, trimmed by the gateway, and the
   * next page's resume from the saved seq answered `gap`. `false` (the page came back from the
   * back/forward cache) acks normally again.
   */
  holdAcks(hold: boolean): void {
    this.ackHold = hold ? this.lastSeq : undefined;
    if (!hold) this.scheduleAck();
  }

  /** Every live subscription. */
  subscriptions(): Subscription[] {
    return [...this.subs.values()];
  }

  /** Connect (or reconnect now, skipping a pending backoff). No effect while connecting or connected, or after `close()`. */
  connect(): void {
    if (this._state === 'connecting' || this._state === 'connected' || this._state === 'closed') return;
    this.open();
  }

  /** Close with 1000 (ends the session on the server) and stop for good; pending sends are rejected with `closed`. */
  close(code = 1000, reason = 'normal'): void {
    this.release();
    if (this._state === 'closed') return;
    const sock = this.detach();
    try {
      sock?.close(code, reason);
    } catch {
      /* a socket still connecting may refuse a close code; it is dropped either way */
    }
    for (const off of this.cleanups.splice(0)) off();
    this.reconnectTimer.cancel();
    this.end('closed', sock ? { code, reason, willReconnect: false, local: true } : undefined);
    this.requests.rejectAll('closed', 'the client was closed');
  }

  /**
   * Send an application event (or any client event) with an `id`; resolves on `system/ack`, rejects
   * on `system/error`. Queued while disconnected and re-sent after a resume until acknowledged.
   */
  send(event: string, payload?: unknown, options: { timeout?: number } = {}): Promise<SendResult> {
    if (typeof event !== 'string' || event.length === 0) return Promise.reject(new TypeError('event must be a non-empty string'));
    if (this._state === 'closed' || this._state === 'failed') return Promise.reject(new WsgateError('closed', `the client is ${this._state}`, event));
    return this.request(event, payload, false, options.timeout ?? this.opts.sendTimeout ?? 0);
  }

  /** Publish to a channel (`channel/publish`; the gateway must allow client publishing). */
  publish(channel: string, data: unknown): Promise<SendResult> {
    return this.send(ClientEvent.Publish, { channel, data });
  }

  /**
   * Subscribe to `channel`; `handler` gets each message once, in order, across reconnects.
   * Subscribing to a channel you already have adds the handler to the existing subscription.
   */
  subscribe(channel: string, handler?: (message: ChannelMessage) => void, options: { pauseWhenHidden?: boolean; since?: StreamPosition } = {}): Subscription {
    return subscribeIn(this.subs, this, this.opts, this.isHidden(), channel, handler, options);
  }

  /** The subscription to `channel`, if any. */
  subscription(channel: string): Subscription | undefined {
    return this.subs.get(channel);
  }

  /** @internal SubscriptionHost. */
  requestSubscribe(sub: Subscription, since: StreamPosition | undefined): void {
    const payload = since ? { channel: sub.channel, since } : { channel: sub.channel };
    this.request(ClientEvent.Subscribe, payload, true, 0).catch((err: unknown) => {
      if (err instanceof WsgateError && !['session_lost', 'closed', 'timeout'].includes(err.code) && this.subs.get(sub.channel) === sub) sub.handleError(err);
    });
  }

  /** @internal SubscriptionHost. */
  requestUnsubscribe(sub: Subscription): void {
    this.request(ClientEvent.Unsubscribe, { channel: sub.channel }, true, 0).catch(() => undefined);
  }

  /** @internal SubscriptionHost. */
  forget(sub: Subscription): void {
    if (this.subs.get(sub.channel) === sub) this.subs.delete(sub.channel);
  }

  private request(event: string, payload: unknown, internal: boolean, timeout: number): Promise<SendResult> {
    const { id, promise } = this.requests.add(event, payload, internal);
    if (this.ready && this.write({ event, id, payload })) this.requests.markWritten(id);
    return timeout > 0 ? this.requests.expire(id, promise, timeout, this.clock) : promise;
  }

  private open(): void {
    this.reconnectTimer.cancel();
    if (this._state === 'closed') return;
    this.detach();
    this.serverDisconnect = undefined;
    this.setState('connecting');
    this.emit('connecting', { attempt: this.attempt, url: this.transports.target });
    try {
      this.transports.open({ open: () => this.sendHello(), message: (data) => this.onFrame(data), close: (code, reason) => this.onClosed(code, reason, false) });
    } catch (err) {
      // A bad URL or a blocked port: retrying cannot help, so give up at once and say why.
      this.debug('WebSocket constructor threw', { err: String(err) });
      this.giveUp(1006, `cannot open ${this.transports.target}: ${err instanceof Error ? err.message : String(err)}`, true);
      return;
    }
    this.connectTimer.arm(this.opts.connectTimeout ?? 10_000);
  }

  private sendHello(): void {
    this.release();
    this.write({ event: ClientEvent.Hello, payload: helloPayload(this.opts, this.session, this.lastSeq) });
  }

  private onFrame(data: unknown): void {
    this.release();
    if (typeof data !== 'string') return; // the gateway sends text frames only
    const decoded = decodeFrame(data);
    if (!decoded.ok) return;
    const frame = decoded.frame;
    this.liveness.received();
    if (typeof frame.seq === 'number') {
      if (frame.seq <= this.lastSeq) {
        this.stats.duplicatesDropped++;
        return;
      }
      this.lastSeq = frame.seq;
      this.scheduleAck();
    }
    this.stats.messagesReceived++;
    this.dispatch(frame);
  }

  private dispatch(frame: Frame): void {
    const p = frame.payload as Record<string, unknown> | undefined;
    switch (frame.event) {
      case ServerEvent.Init:
        return this.onInit(frame.payload as InitPayload);
      case ServerEvent.Heartbeat:
        this.stats.heartbeatsReceived++;
        return this.emit('heartbeat', { direction: 'received', count: this.stats.heartbeatsReceived });
      case ServerEvent.Ack:
        if (p && typeof p.id === 'string') this.requests.ack(p.id, p.duplicate === true);
        return;
      case ServerEvent.Error: {
        const err = frame.payload as ErrorPayload;
        if (!(typeof err?.id === 'string' && this.requests.error(err.id, err))) this.emit('error', new WsgateError(err?.code ?? 'internal', err?.message ?? '', err?.event));
        return;
      }
      case ServerEvent.Disconnect:
        this.serverDisconnect = frame.payload as DisconnectPayload;
        return;
      case ServerEvent.Subscribed:
        this.subs.get(String(p?.channel))?.handleSubscribed(frame.payload as SubscribedPayload);
        return;
      case ServerEvent.Message:
        this.subs.get(String(p?.channel))?.handleMessage(frame.payload as ChannelMessagePayload);
        return;
      case ServerEvent.Unsubscribed:
        return;
      default:
        this.emit('message', frame);
    }
  }

  private onInit(init: InitPayload): void {
    this.connectTimer.cancel();
    this.transports.succeeded();
    const previous = this.session;
    this.session = { id: init.session_id, token: init.resume_token };
    this._init = init;
    this.attempt = 0; // reset on success
    this.ready = true;
    const lost = previous !== undefined && !init.resumed;
    if (!init.resumed) {
      // A fresh session numbers from 1 again; acks and dedup restart with it.
      this.lastSeq = 0;
      this.ackedSeq = 0;
      if (lost) this.requests.sessionLost(init.resume_error ?? 'unknown');
    } else this.stats.resumes++;
    this.liveness.start((init.heartbeat_interval ?? 0) * 1000);
    this.setState('connected');
    for (const r of this.requests.drain()) this.write({ event: r.event, id: r.id, payload: r.payload });
    if (lost) for (const sub of this.subs.values()) sub.resubscribe();
    const ev: ClientEvents['connected'] = { sessionId: init.session_id, resumed: init.resumed, replayed: init.replayed ?? 0, init };
    if (init.resume_error) ev.resumeError = init.resume_error;
    this.emit('connected', ev);
    if (init.resumed) this.emit('resumed', { sessionId: init.session_id, replayed: init.replayed ?? 0 });
    if (lost) this.emit('session-lost', { previousSessionId: previous.id, reason: init.resume_error ?? 'unknown' });
  }

  private scheduleAck(): void {
    if (this.lastSeq - this.ackedSeq >= (this.opts.ackEvery ?? 50)) this.flushAck();
    else if (!this.ackTimer.armed) this.ackTimer.arm(this.opts.ackDelay ?? 1000);
  }

  private flushAck(): void {
    this.ackTimer.cancel();
    if (!this.ready) return;
    const upTo = Math.min(this.lastSeq, this.opts.ackLimit?.() ?? Infinity, this.ackHold ?? Infinity);
    if (upTo < this.lastSeq) this.ackTimer.arm(this.opts.ackDelay ?? 1000); // held back: try again later
    if (upTo > this.ackedSeq && this.write({ event: ClientEvent.Ack, payload: { seq: upTo } })) this.ackedSeq = upTo;
  }

  private sendHeartbeat(): void {
    if (this.write({ event: ClientEvent.Heartbeat })) {
      this.stats.heartbeatsSent++;
      this.emit('heartbeat', { direction: 'sent', count: this.stats.heartbeatsSent });
    }
  }

  private write(frame: Frame): boolean {
    if (!this.transports.write(encodeFrame(frame))) return false;
    this.liveness.sent();
    return true;
  }

  /** Give up on the current socket without waiting for its close handshake (a dead peer never answers). */
  private abandon(why: { code: number; reason: string }): void {
    const sock = this.detach();
    if (!sock) return;
    this.debug('abandoning socket', why);
    try {
      if (sock.readyState === WS_OPEN) sock.close(why.code, why.reason);
      else sock.close();
    } catch {
      /* already closing */
    }
    this.onClosed(why.code, why.reason, true);
  }

  /** Stop listening to the current socket and every per-connection timer; returns the socket. */
  private detach(): WebSocketLike | undefined {
    this.ready = false;
    this.liveness.stop();
    this.connectTimer.cancel();
    this.ackTimer.cancel();
    return this.transports.detach();
  }

  /** The one funnel after any socket end: decide between stop and reconnect. */
  private onClosed(wireCode: number, wireReason: string, local: boolean): void {
    this.release();
    this.detach();
    if (this._state === 'closed' || this._state === 'failed') return;
    // A socket terminated right after system/disconnect reports 1006: the disconnect says what was meant.
    const sd = this.serverDisconnect;
    const code = !local && sd && (wireCode === 1006 || wireCode === 1005) ? sd.code : wireCode;
    const reason = (!local && sd && code === sd.code ? sd.reason : wireReason) || CloseReason[code] || '';
    if (this.transports.ended()) this.debug(`switching transport to ${this.transports.name}`);
    const decision = reconnectDecision(code, this.attempt, this.backoff, this.random);
    this.debug('closed', { code, reason, decision: decision.action, kind: decision.kind });
    if (decision.action === 'stop') return this.giveUp(code, reason, local);
    this.attempt++;
    this.stats.reconnects++;
    this.setState('disconnected');
    this.emit('disconnected', { code, reason, willReconnect: true, delay: decision.delay, local });
    this.reconnectTimer.arm(decision.delay);
  }

  /** Stop for good: `failed`, and every pending request rejected. */
  private giveUp(code: number, reason: string, local: boolean): void {
    this.end('failed', { code, reason, willReconnect: false, local });
    this.emit('failed', { code, reason });
    this.requests.rejectAll('closed', `connection closed with ${code} ${reason}: not reconnecting`);
  }

  private watchEnvironment(): void {
    const vis = this.opts.visibility === undefined ? browserVisibility() : this.opts.visibility;
    this.isHidden = () => vis?.isHidden() ?? false;
    const onVisibility = (hidden: boolean): void => {
      for (const sub of [...this.subs.values()]) sub.setHidden(hidden);
      if (!hidden) this.wake();
    };
    this.cleanups.push(...watchPage(this.opts, onVisibility, () => this.wake()));
  }

  /** The page became visible or the network came back: retry at once, and catch a watchdog that throttled timers delayed. */
  private wake(): void {
    if (this._state === 'disconnected') this.open();
    else if (this._state === 'connected') this.liveness.check();
  }

  /** Enter `next` and announce it; `previous` when `_state` was already set ahead of the announcement (see `end`). */
  private setState(next: ConnectionState, previous = this._state): void {
    if (previous === next) return;
    this._state = next;
    this.debug(`state ${previous} → ${next}`);
    this.emit('state', { state: next, previous });
  }

  /** A final state: already set inside the `disconnected` listener (nothing reconnects from there), announced after it. */
  private end(final: 'failed' | 'closed', disconnected: ClientEvents['disconnected'] | undefined): void {
    const previous = this._state;
    this._state = final;
    if (disconnected) this.emit('disconnected', disconnected);
    this.setState(final, previous);
  }

  private debug(message: string, data?: Record<string, unknown>): void {
    this.opts.debug?.(message, data);
  }
}
