import type { ChannelMessagePayload, StreamPosition, SubscribedPayload } from '../protocol/events.js';
import { Emitter } from './emitter.js';
import type { WsgateError } from './requests.js';

/** One `channel/message` as handed to a subscription's listeners. */
export type ChannelMessage = ChannelMessagePayload;

/** `subscribing` → `subscribed`; `paused` while unsubscribed on purpose; `unsubscribed` and `failed` are final. */
export type SubscriptionState = 'subscribing' | 'subscribed' | 'paused' | 'unsubscribed' | 'failed';

/** A resubscribe with `since` could not recover everything: the stream has a hole. */
export interface MissedEvent {
  channel: string;
  recovered: false;
  /** The last position this subscription had seen. */
  since: StreamPosition;
  /** The stream's position now; delivery continues from here. */
  offset: number;
  epoch: string;
  /** How many messages cannot be replayed, when the server knows (same epoch). */
  missed?: number;
}

/** Events of one subscription. */
export interface SubscriptionEvents {
  message: ChannelMessage;
  /** The server confirmed a (re)subscribe; `recovered` tells whether every missed message follows. */
  subscribed: SubscribedPayload & { since?: StreamPosition };
  /** A (re)subscribe with `since` could not recover: the clear `recovered:false` event. */
  missed: MissedEvent;
  state: SubscriptionState;
  error: WsgateError;
}

/** What a subscription needs from its client. */
export interface SubscriptionHost {
  requestSubscribe(sub: Subscription, since: StreamPosition | undefined): void;
  requestUnsubscribe(sub: Subscription): void;
  forget(sub: Subscription): void;
}

/**
 * One channel subscription. Tracks the last `{offset, epoch}` it delivered, so every resubscribe —
 * after a lost session, or `resume()` after `pause()` — asks for `since` that position, and drops
 * any message at or below it (replays can overlap).
 */
export class Subscription extends Emitter<SubscriptionEvents> {
  private _state: SubscriptionState = 'subscribing';
  private _position: StreamPosition | undefined;
  private userPaused = false;
  private hiddenPaused = false;
  private sinceSent: StreamPosition | undefined;

  constructor(
    /** The channel name. */
    readonly channel: string,
    private readonly host: SubscriptionHost,
    /** Pause while the page is hidden (when the client watches visibility). */
    readonly pauseWhenHidden: boolean,
    /** A position already delivered (restored after a page reload): the first subscribe asks `since` it. */
    initial?: StreamPosition,
  ) {
    super();
    if (initial) this._position = { offset: initial.offset, epoch: initial.epoch };
  }

  get state(): SubscriptionState {
    return this._state;
  }

  /** The last position delivered to listeners (undefined before the first message or confirmation). */
  get position(): StreamPosition | undefined {
    return this._position ? { ...this._position } : undefined;
  }

  /** True while paused by `pause()` or by a hidden page. */
  get paused(): boolean {
    return this.userPaused || this.hiddenPaused;
  }

  /** Stop the stream (unsubscribe on the server) but remember the position. */
  pause(): void {
    this.setPaused(true, this.hiddenPaused);
  }

  /** Subscribe again `since` the last position: the missed messages follow in order, or a `missed` event says they cannot. */
  resume(): void {
    this.setPaused(false, this.hiddenPaused);
  }

  /** Unsubscribe for good. */
  unsubscribe(): void {
    if (this._state === 'unsubscribed' || this._state === 'failed') return;
    const wasActive = !this.paused;
    this.setState('unsubscribed');
    if (wasActive) this.host.requestUnsubscribe(this);
    this.host.forget(this);
  }

  /** @internal Page visibility changed. */
  setHidden(hidden: boolean): void {
    if (this.pauseWhenHidden) this.setPaused(this.userPaused, hidden);
  }

  /** @internal The client needs this subscription on a new session (the old one was lost). */
  resubscribe(): void {
    if (this._state === 'unsubscribed' || this._state === 'failed' || this.paused) return;
    this.subscribeNow();
  }

  /**
   * @internal First subscribe. Made while the page is hidden (and pausing when hidden), it starts
   * paused instead; a restored position may still be subscribed from the previous page, so that is
   * stopped too, and becoming visible recovers `since` it.
   */
  start(hidden = false): void {
    if (!(hidden && this.pauseWhenHidden)) return this.subscribeNow();
    this.hiddenPaused = true;
    this.setState('paused');
    if (this._position) this.host.requestUnsubscribe(this);
  }

  /** @internal `channel/subscribed`. */
  handleSubscribed(p: SubscribedPayload): void {
    if (this._state !== 'subscribing') return; // paused or gone meanwhile: the confirmation is stale
    const since = this.sinceSent;
    this.sinceSent = undefined;
    // When recovered, the missed messages follow and advance the position themselves. A session
    // resume may already have replayed up to the confirmed offset: then nothing is missing.
    const pos = this._position;
    const caughtUp = !p.recovered && since !== undefined && pos !== undefined && pos.epoch === p.epoch && pos.offset >= p.offset;
    if (caughtUp) p = { ...p, recovered: true };
    if (!p.recovered) this._position = { offset: p.offset, epoch: p.epoch };
    this.setState('subscribed');
    this.emit('subscribed', since ? { ...p, since } : { ...p });
    if (since && !p.recovered) {
      const ev: MissedEvent = { channel: this.channel, recovered: false, since, offset: p.offset, epoch: p.epoch };
      if (p.missed !== undefined) ev.missed = p.missed;
      this.emit('missed', ev);
    }
  }

  /** @internal `channel/message`. */
  handleMessage(p: ChannelMessagePayload): void {
    if (this._state !== 'subscribed' && this._state !== 'subscribing') return;
    const pos = this._position;
    if (pos && pos.epoch === p.epoch && p.offset <= pos.offset) return; // an overlapping replay
    this._position = { offset: p.offset, epoch: p.epoch };
    this.emit('message', p);
  }

  /** @internal The server refused the subscribe (bad_channel, forbidden, too_many_subscriptions…). */
  handleError(err: WsgateError): void {
    this.setState('failed');
    this.emit('error', err);
    this.host.forget(this);
  }

  private subscribeNow(): void {
    this.sinceSent = this._position ? { ...this._position } : undefined;
    this.setState('subscribing');
    this.host.requestSubscribe(this, this.sinceSent);
  }

  private setPaused(user: boolean, hidden: boolean): void {
    if (this._state === 'unsubscribed' || this._state === 'failed') return;
    const before = this.paused;
    this.userPaused = user;
    this.hiddenPaused = hidden;
    if (before === this.paused) return;
    if (this.paused) {
      this.sinceSent = undefined;
      this.setState('paused');
      this.host.requestUnsubscribe(this);
    } else {
      this.subscribeNow();
    }
  }

  private setState(next: SubscriptionState): void {
    if (next === this._state) return;
    this._state = next;
    this.emit('state', next);
  }
}

/** Options of `subscribe` on either client (per-tab or shared). */
export interface SubscribeOptions {
  pauseWhenHidden?: boolean;
  since?: StreamPosition;
}

/**
 * `subscribe` of both clients: the channel's subscription in `subs`, made and started on first use (with the
 * client's defaults), and `handler` added to it. Subscribing twice adds a handler to the same subscription.
 */
export function subscribeIn(
  subs: Map<string, Subscription>,
  host: SubscriptionHost,
  defaults: { pauseWhenHidden?: boolean; positions?: Record<string, StreamPosition> },
  hidden: boolean,
  channel: string,
  handler: ((message: ChannelMessage) => void) | undefined,
  options: SubscribeOptions,
): Subscription {
  let sub = subs.get(channel);
  if (!sub) {
    sub = new Subscription(channel, host, options.pauseWhenHidden ?? defaults.pauseWhenHidden ?? false, options.since ?? defaults.positions?.[channel]);
    subs.set(channel, sub);
    sub.start(hidden);
  }
  if (handler) sub.on('message', handler);
  return sub;
}
