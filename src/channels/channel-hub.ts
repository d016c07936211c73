import type { Broker, BrokerListener, ChannelMessage } from '../broker/broker.js';
import { ErrorCode } from '../protocol/codes.js';
import { EncodedPayload } from '../protocol/codec.js';
import { ProtocolError } from '../protocol/errors.js';
import { ServerEvent, type StreamPosition } from '../protocol/events.js';
import { frameCost, type SharedFrame } from '../session/replay-buffer.js';
import type { Session } from '../session/session.js';

/** Per-session state of one subscription while its recovery is in flight. */
interface Pending {
  queue: ChannelMessage[];
}

/** One publish being delivered: the subscribers it goes to (fixed when it arrived) and how far it got. */
interface FanoutJob {
  channel: string;
  payload: EncodedPayload;
  /** The frame every target's replay buffer keeps (one object per publish, not a text per subscriber). */
  frame: SharedFrame;
  targets: Session[];
  next: number;
}

/** How a big fan-out is cut up: at most `chunk` deliveries or `sliceMs` of work before other work gets a turn. */
export interface FanoutSlicing {
  chunk: number;
  sliceMs: number;
}

/**
 * 2 ms slices: the loop's longest block is a slice plus the rest of the same turn (the subscribers' acks coming
 * back, the liveness wheels' 1 ms each, the write callbacks) and any GC pause, and has to stay under 10 ms. A turn
 * costs ~50 µs more than its slice, so throughput hardly changes (10,000 × 20 ran at 2.4-8 × raw ws's rate).
 */
const DEFAULT_SLICING: FanoutSlicing = { chunk: 2048, sliceMs: 2 };
/** Deliveries between reads of the clock: a delivery is one socket write (a few µs, tens on a busy machine). */
const CLOCK_EVERY = 16;
/**
 * Queued publishes to the same subscribers go out together, subscriber by subscriber, up to this many: each
 * subscriber's frames then leave in one system call (the socket is corked around them) instead of one each.
 */
const MAX_GROUP = 32;

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
  /**
   * channel → its subscribers as an array, made once and shared by every publish while the set is unchanged (so
   * queued publishes with the same array can be delivered together, see pump).
   */
  private readonly snapshots = new Map<string, Session[]>();
  /** Publishes not yet delivered to all their subscribers, oldest first. */
  private readonly jobs: FanoutJob[] = [];
  /**
   * Per channel with subscribers here, the position of the newest message handed to them (fanned out, or the
   * first subscriber's recovery): what an already subscribed session has been sent, once the jobs are delivered.
   */
  private readonly handed = new Map<string, StreamPosition>();
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
      // Already subscribed (a page reloaded and resumed its session asks again): confirm without replay, at the
      // position of the last message this session was sent — not the broker's, which may be ahead of a message
      // still on its way here and would make the client skip it as already seen. Messages keep flowing.
      if (this.jobs.some((j) => j.channel === channel)) this.deliverAll();
      const position = this.handed.get(channel) ?? (await this.broker.recover(channel)).position;
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
      if (!this.handed.has(channel)) this.handed.set(channel, rec.position);
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
    this.snapshots.delete(channel);
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
    this.snapshots.delete(channel);
    if (subs.size === 0) {
      this.subscribers.delete(channel);
      this.handed.delete(channel);
      const listener = this.listeners.get(channel);
      this.listeners.delete(channel);
      if (listener) void this.broker.unsubscribe(channel, listener).catch(() => undefined);
    }
  }

  private fanOut(message: ChannelMessage): void {
    const subs = this.subscribers.get(message.channel);
    if (!subs) return;
    // Brokers deliver a channel's messages in order, each once (a new epoch restarts the offsets): the latest is the newest.
    this.handed.set(message.channel, { offset: message.offset, epoch: message.epoch });
    const waiting = this.pending.get(message.channel);
    // Who gets it is decided now: sessions still recovering queue it (their recovery decides), the rest are targets.
    let targets: Session[];
    if (waiting === undefined) {
      targets = this.snapshots.get(message.channel) ?? [...subs];
      this.snapshots.set(message.channel, targets);
    } else {
      targets = [];
      for (const session of subs) {
        const pend = waiting.get(session);
        if (pend) pend.queue.push(message);
        else targets.push(session);
      }
    }
    const payload = encode(message);
    this.jobs.push({ channel: message.channel, payload, frame: sharedFrame(payload), targets, next: 0 });
    // Delivery starts on the next turn: publishes made in the same turn (a burst) are then delivered together.
    if (!this.pumping) {
      this.pumping = true;
      setImmediate(this.pump);
    }
  }

  /**
   * Deliver queued publishes until the slice is used up, then continue on a later turn of the event loop. The
   * oldest publish and the ones after it with the same subscribers, at the same point, are delivered together:
   * each subscriber gets its frames of all of them at once, in publish order.
   */
  private readonly pump = (): void => {
    const end = performance.now() + this.slicing.sliceMs;
    let done = 0;
    let checked = 0;
    while (this.jobs.length > 0) {
      const group = this.group();
      const first = group[0]!;
      const targets = first.targets;
      while (first.next < targets.length) {
        deliverGroup(targets[first.next++]!, group);
        done += group.length;
        // The clock is read every CLOCK_EVERY deliveries (a grouped subscriber takes up to MAX_GROUP of them at once).
        if (done >= this.slicing.chunk || (done - checked >= CLOCK_EVERY && ((checked = done), performance.now() >= end))) {
          for (const job of group) job.next = first.next;
          setImmediate(this.pump);
          return;
        }
      }
      this.jobs.splice(0, group.length);
    }
    this.pumping = false;
  };

  /** The oldest queued publish and those right after it going to the same subscribers from the same point. */
  private group(): FanoutJob[] {
    const first = this.jobs[0]!;
    let n = 1;
    while (n < this.jobs.length && n < MAX_GROUP && this.jobs[n]!.targets === first.targets && this.jobs[n]!.next === first.next) n++;
    return n === 1 ? [first] : this.jobs.slice(0, n);
  }

  /** Deliver everything queued now (a session resubscribing; see subscribe). */
  private deliverAll(): void {
    for (const job of this.jobs) {
      while (job.next < job.targets.length) {
        const session = job.targets[job.next++]!;
        if (session.subscriptions.has(job.channel)) session.sendShared(ServerEvent.Message, job.payload, job.frame);
      }
    }
    this.jobs.length = 0;
  }

  private deliver(session: Session, m: ChannelMessage): void {
    session.send(ServerEvent.Message, encode(m));
  }
}

/** One subscriber's frames of a group of publishes (see pump), written to its socket in one go. */
function deliverGroup(session: Session, group: FanoutJob[]): void {
  if (group.length === 1) {
    const job = group[0]!;
    if (session.subscriptions.has(job.channel)) session.sendShared(ServerEvent.Message, job.payload, job.frame);
    return;
  }
  const link = session.link;
  link?.cork?.();
  try {
    for (const job of group) if (session.subscriptions.has(job.channel)) session.sendShared(ServerEvent.Message, job.payload, job.frame);
  } finally {
    link?.uncork?.();
  }
}

/** A publish's `channel/message` frame as every subscriber's replay buffer holds it (see SharedFrame). */
function sharedFrame(payload: EncodedPayload): SharedFrame {
  // Charged as the text with a one-digit seq: real seqs add a few characters, the bound stays what it was.
  return { text: (seq) => payload.frame(ServerEvent.Message, seq), cost: frameCost(payload.frame(ServerEvent.Message, 0)) };
}

/** The `channel/message` payload, encoded once for every subscriber. */
function encode(m: ChannelMessage): EncodedPayload {
  return new EncodedPayload({ channel: m.channel, offset: m.offset, epoch: m.epoch, data: m.data });
}
