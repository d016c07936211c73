import type { ChannelMessagePayload, StreamPosition, SubscribedPayload } from '../protocol/events.js';
import type { WsgateError } from './requests.js';
import type { Subscription } from './subscription.js';

/** What the mux says to one tab about its channel. */
export interface MuxTab {
  readonly id: string;
  subscribed(channel: string, payload: SubscribedPayload): void;
  message(channel: string, payload: ChannelMessagePayload): void;
  failed(channel: string, err: WsgateError): void;
  resync(channel: string): void;
}

interface Member {
  tab: MuxTab;
  /** Wants messages now (not paused). */
  active: boolean;
  /** Has had its `subscribed` answer for the current activation. */
  served: boolean;
  since: StreamPosition | undefined;
}

/**
 * One channel of the shared connection, fanned out to the tabs that hold it. The worker keeps one
 * server subscription per channel (its own `Subscription`, which recovers `since` its position
 * after a pause or a lost session) while at least one tab is active, and a ring of the latest
 * messages: a tab that joins or resumes `since` a position is answered from the ring, exactly as
 * the server would (`recovered`, or `recovered:false` with `missed`). Tabs drop overlaps by offset.
 */
export class ChannelMux {
  private readonly members = new Map<string, Member>();
  private ring: ChannelMessagePayload[] = [];
  /** The ring holds every message after this position, without a hole. */
  private base: StreamPosition | undefined;
  /** The newest position known on the stream. */
  private head: StreamPosition | undefined;

  constructor(
    readonly channel: string,
    private readonly sub: Subscription,
    private readonly ringSize: number,
    /** The last tab let go (the server subscription is paused, the position kept), or the channel failed. */
    private readonly onEmpty: () => void,
  ) {
    // The server subscription asks `since` its starting position: what follows is continuous from it.
    const start = sub.position;
    if (start) this.base = start;
    sub.on('subscribed', (p) => this.onSubscribed(p));
    sub.on('message', (m) => this.onMessage(m));
    sub.on('error', (err) => this.onError(err));
  }

  /** A tab subscribes (or resumes) `since` its position. */
  join(tab: MuxTab, since: StreamPosition | undefined): void {
    this.members.set(tab.id, { tab, active: true, served: false, since });
    if (this.sub.paused) this.sub.resume();
    else if (this.sub.state === 'subscribed') this.serveWaiting();
  }

  /** A tab paused: stop forwarding to it; the server subscription pauses when no tab is active. */
  pause(tabId: string): void {
    const m = this.members.get(tabId);
    if (m) m.active = m.served = false;
    if (![...this.members.values()].some((x) => x.active) && !this.sub.paused) this.sub.pause();
  }

  /**
   * A tab let the channel go (unsubscribed, or the tab closed). The last one pauses the server
   * subscription at once but keeps the position: a tab that reloads comes back `since` where it
   * was, and the worker recovers from the server's history. `dispose()` ends it for good.
   */
  leave(tabId: string): void {
    this.members.delete(tabId);
    this.pause(tabId);
    if (this.members.size === 0) this.onEmpty();
  }

  /** The server refused the channel: the mux is dead. */
  get failed(): boolean {
    return this.sub.state === 'failed';
  }

  /** No tab holds the channel. */
  get empty(): boolean {
    return this.members.size === 0;
  }

  /** Unsubscribe for good (the hub gave up waiting for a tab to come back). */
  dispose(): void {
    this.sub.unsubscribe();
  }

  private onSubscribed(p: SubscribedPayload & { since?: StreamPosition }): void {
    const at = { offset: p.offset, epoch: p.epoch };
    if (p.recovered && !this.base) this.base = p.since;
    if (!p.recovered) {
      // A hole, or a first subscribe. A session resume may have replayed messages before this
      // confirmation: they are continuous from the first one, so keep them.
      const first = this.ring[0];
      const keep = p.since === undefined && first !== undefined && first.epoch === p.epoch;
      if (!keep) this.ring = [];
      this.base = keep ? { offset: first.offset - 1, epoch: first.epoch } : at;
      if (p.since !== undefined) for (const m of this.members.values()) if (m.served) m.tab.resync(this.channel);
    }
    if (!this.head || this.head.epoch !== at.epoch || this.head.offset < at.offset) this.head = at;
    this.serveWaiting();
  }

  private onMessage(msg: ChannelMessagePayload): void {
    this.ring.push(msg);
    if (this.ring.length > this.ringSize) {
      const dropped = this.ring.shift()!;
      this.base = { offset: dropped.offset, epoch: dropped.epoch };
    }
    if (!this.head || this.head.epoch !== msg.epoch || msg.offset > this.head.offset) this.head = { offset: msg.offset, epoch: msg.epoch };
    for (const m of this.members.values()) if (m.served) m.tab.message(this.channel, msg);
  }

  private onError(err: WsgateError): void {
    for (const m of this.members.values()) m.tab.failed(this.channel, err);
    this.members.clear();
    this.onEmpty();
  }

  /** Answer every active tab still waiting, from the ring. */
  private serveWaiting(): void {
    const head = this.head;
    if (!head) return;
    for (const m of this.members.values()) {
      if (!m.active || m.served) continue;
      m.served = true;
      const since = m.since;
      const base = this.base;
      if (since === undefined) {
        m.tab.subscribed(this.channel, { channel: this.channel, ...head, recovered: false });
      } else if (base && since.epoch === base.epoch && since.offset >= base.offset && since.offset <= head.offset) {
        m.tab.subscribed(this.channel, { channel: this.channel, ...head, recovered: true });
        for (const msg of this.ring) if (msg.offset > since.offset) m.tab.message(this.channel, msg);
      } else {
        const missed = since.epoch === head.epoch ? Math.max(0, head.offset - since.offset) : undefined;
        m.tab.subscribed(this.channel, { channel: this.channel, ...head, recovered: false, ...(missed !== undefined ? { missed } : {}) });
      }
    }
  }
}
