import type { Broker, BrokerListener, ChannelMessage } from '../broker/broker.js';
import { ErrorCode } from '../protocol/codes.js';
import { EncodedPayload } from '../protocol/codec.js';
import { ProtocolError } from '../protocol/errors.js';
import { ServerEvent, type StreamPosition } from '../protocol/events.js';
import type { Session } from '../session/session.js';

/** Per-session state of one subscription while its recovery is in flight. */
interface Pending {
  queue: ChannelMessage[];
}

/** One publish being delivered: the subscribers it goes to (fixed when it arrived) and how far it got. */
interface FanoutJob {
  channel: string;
  payload: EncodedPayload;
  targets: Session[];
  next: number;
}

/** How a big fan-out is cut up: at most `chunk` sessions or `sliceMs` of work before other work gets a turn. */
export interface FanoutSlicing {
  chunk: number;
  sliceMs: number;
}

/** 5 ms slices keep the loop's longest block well under 10 ms with socket writes included. */
const DEFAULT_SLICING: FanoutSlicing = { chunk: 2048, sliceMs: 5 };

/**
 * Which sessions of this process subscribe to which channel, and the ordering rule of a
 * subscribe with recovery: `channel/subscribed`, then the recovered messages, then live ones —
 * none lost in between, none twice. One broker listener per channel per process.
 *
 * A publish to many subscribers is delivered in slices (`FanoutSlicing`), yielding to the event loop between them,
 * so pings, heartbeats and other clients are not held up behind it; publishes are delivered one after the other, so
 * each subscriber still sees a channel's messages in order.
 */
export class ChannelHub {
  private readonly subscribers = new Map<string, Set<Session>>();
  private readonly listeners = new Map<string, BrokerListener>();
  /** channel → session → messages that arrived while its recovery was being read. */
  private readonly pending = new Map<string, Map<Session, Pending>>();
  /** Publishes not yet delivered to all their subscribers, oldest first. */
  private readonly jobs: FanoutJob[] = [];
  private pumping = false;

  constructor(
    private readonly broker: Broker,
    /** Channels per session. */
    private readonly maxSubscriptions: number,
    private readonly slicing: FanoutSlicing = DEFAULT_SLICING,
  ) {}

  /** Publish to a channel (through the broker, so every process's subscribers get it). */
  publish(channel: string, data: unknown): Promise<StreamPosition> {
    return this.broker.publish(channel, data);
  }

  async subscribe(session: Session, channel: string, since?: StreamPosition): Promise<void> {
    if (session.subscriptions.has(channel)) {
      // Already subscribed: confirm without replay; messages keep flowing.
      const { position } = await this.broker.recover(channel);
      session.send(ServerEvent.Subscribed, { channel, ...position, recovered: false });
      return;
    }
    if (session.subscriptions.size >= this.maxSubscriptions) {
      throw new ProtocolError(ErrorCode.TooManySubscriptions, `at most ${this.maxSubscriptions} subscriptions per session`);
    }
    await this.join(session, channel, since, true);
  }

  /**
   * Re-attach, on this process, a subscription a session resumed from another process had:
   * quietly (the client knows it is subscribed) when the messages after `since` — the last one its
   * buffer got — can be recovered; with a `channel/subscribed recovered:false` when they cannot.
   */
  async restore(session: Session, channel: string, since: StreamPosition): Promise<void> {
    if (session.subscriptions.has(channel)) return;
    await this.join(session, channel, since, false);
  }

  private async join(session: Session, channel: string, since: StreamPosition | undefined, announce: boolean): Promise<void> {
    // A session back on a channel while an older publish is still on its way to it would get that message twice
    // (from the fan-out and from recovery): finish those deliveries first.
    if (this.jobs.some((j) => j.channel === channel)) this.deliverAll();
    session.subscriptions.add(channel);
    let waiting = this.pending.get(channel);
    if (!waiting) this.pending.set(channel, (waiting = new Map()));
    const pend: Pending = { queue: [] };
    waiting.set(session, pend);
    try {
      await this.attach(session, channel);
      const rec = await this.broker.recover(channel, since);
      if (session.state === 'ended' || !session.subscriptions.has(channel)) return;
      if (announce || !rec.recovered) {
        session.send(ServerEvent.Subscribed, { channel, ...rec.position, recovered: rec.recovered, ...(rec.missed !== undefined ? { missed: rec.missed } : {}) });
      }
      let last = rec.position.offset;
      for (const m of rec.messages) this.deliver(session, m);
      for (const m of pend.queue) {
        if (m.epoch !== rec.position.epoch || m.offset > last) {
          this.deliver(session, m);
          last = m.offset;
        }
      }
    } catch (err) {
      this.detach(session, channel);
      throw err;
    } finally {
      waiting.delete(session);
      if (waiting.size === 0) this.pending.delete(channel);
    }
  }

  async unsubscribe(session: Session, channel: string): Promise<void> {
    if (!session.subscriptions.has(channel)) {
      throw new ProtocolError(ErrorCode.BadChannel, `not subscribed to ${channel}`);
    }
    this.detach(session, channel);
    session.send(ServerEvent.Unsubscribed, { channel });
  }

  /** A session ended: drop all its subscriptions. */
  removeSession(session: Session): void {
    for (const channel of [...session.subscriptions]) this.detach(session, channel);
  }

  /** Number of channels with subscribers in this process. */
  get channelCount(): number {
    return this.subscribers.size;
  }

  private async attach(session: Session, channel: string): Promise<void> {
    let subs = this.subscribers.get(channel);
    if (!subs) this.subscribers.set(channel, (subs = new Set()));
    subs.add(session);
    if (!this.listeners.has(channel)) {
      const listener: BrokerListener = (m) => this.fanOut(m);
      this.listeners.set(channel, listener);
      await this.broker.subscribe(channel, listener);
    }
  }

  private detach(session: Session, channel: string): void {
    session.subscriptions.delete(channel);
    const subs = this.subscribers.get(channel);
    if (!subs) return;
    subs.delete(session);
    if (subs.size === 0) {
      this.subscribers.delete(channel);
      const listener = this.listeners.get(channel);
      this.listeners.delete(channel);
      if (listener) void this.broker.unsubscribe(channel, listener).catch(() => undefined);
    }
  }

  private fanOut(message: ChannelMessage): void {
    const subs = this.subscribers.get(message.channel);
    if (!subs) return;
    const waiting = this.pending.get(message.channel);
    // Who gets it is decided now: sessions still recovering queue it (their recovery decides), the rest are targets.
    const targets: Session[] = [];
    for (const session of subs) {
      const pend = waiting?.get(session);
      if (pend) pend.queue.push(message);
      else targets.push(session);
    }
    this.jobs.push({ channel: message.channel, payload: encode(message), targets, next: 0 });
    if (!this.pumping) this.pump();
  }

  /** Deliver queued publishes until the slice is used up, then continue on a later turn of the event loop. */
  private readonly pump = (): void => {
    this.pumping = true;
    const end = performance.now() + this.slicing.sliceMs;
    let done = 0;
    while (this.jobs.length > 0) {
      const job = this.jobs[0]!;
      while (job.next < job.targets.length) {
        const session = job.targets[job.next++]!;
        if (session.subscriptions.has(job.channel)) session.send(ServerEvent.Message, job.payload);
        if (++done >= this.slicing.chunk || (done % 64 === 0 && performance.now() >= end)) {
          setImmediate(this.pump);
          return;
        }
      }
      this.jobs.shift();
    }
    this.pumping = false;
  };

  /** Deliver everything queued now (a session resubscribing; see subscribe). */
  private deliverAll(): void {
    for (const job of this.jobs) {
      while (job.next < job.targets.length) {
        const session = job.targets[job.next++]!;
        if (session.subscriptions.has(job.channel)) session.send(ServerEvent.Message, job.payload);
      }
    }
    this.jobs.length = 0;
  }

  private deliver(session: Session, m: ChannelMessage): void {
    session.send(ServerEvent.Message, encode(m));
  }
}

/** The `channel/message` payload, encoded once for every subscriber. */
function encode(m: ChannelMessage): EncodedPayload {
  return new EncodedPayload({ channel: m.channel, offset: m.offset, epoch: m.epoch, data: m.data });
}
