import { nanoid } from 'nanoid';
import { encodePayload } from '../protocol/codec.js';
import type { StreamPosition } from '../protocol/events.js';
import { systemClock, type Clock, type TimerHandle } from '../time/clock.js';
import type { Broker, BrokerListener, ChannelMessage, Recovery } from './broker.js';

/** One message of a channel's history. `cost` counts against the history budget while `held`. */
interface Entry {
  message: ChannelMessage;
  at: number;
  cost: number;
  held: boolean;
  stream: Stream;
}

interface Stream {
  channel: string;
  epoch: string;
  offset: number;
  history: Entry[];
  listeners: Set<BrokerListener>;
  /** Armed while nobody listens: forgets the stream when its last history entry expires. */
  sweep: TimerHandle | undefined;
}

/**
 * The embedded broker: history and fan-out in this process's memory. Its epochs are random per
 * stream, so a restart (history lost) gives every channel a new epoch and clients are told
 * `recovered:false` rather than handed a wrong replay.
 */
export class MemoryBroker implements Broker {
  private readonly streams = new Map<string, Stream>();
  /**
   * Every history entry in publish order, across channels (those a channel already dropped are skipped and
   * compacted away): the history budget drops the oldest of them first, whatever their channel.
   */
  private order: Entry[] = [];
  private orderHead = 0;
  private heldEntries = 0;
  private heldBytes = 0;

  constructor(
    /** Messages kept per channel. */
    private readonly historySize: number,
    /** Seconds history is kept. */
    private readonly historyTtl: number,
    /** Time source of the history TTL. */
    private readonly clock: Clock = systemClock,
    /**
     * Bytes all channels' history may hold together (0: no bound); over it the oldest messages go first.
     * Without it a client publishing big messages to made-up channels holds memory at its send rate ×
     * history_ttl (1.7 GB in 20 s from one connection).
     */
    private readonly maxHistoryBytes = 0,
    /** Told how many history entries the budget dropped (a metric). */
    private readonly onBudgetDrop: (entries: number) => void = () => undefined,
  ) {}

  async publish(channel: string, data: unknown): Promise<StreamPosition> {
    // Before an offset is taken: data that cannot be encoded for subscribers is refused here, so the
    // channel's offsets never get a hole that a later recovery would fail on.
    const encoded = encodePayload(data);
    const stream = this.stream(channel);
    const message: ChannelMessage = { channel, offset: ++stream.offset, epoch: stream.epoch, data };
    if (this.historySize > 0) this.hold(stream, message, encoded?.length ?? 0);
    for (const listener of stream.listeners) listener(message);
    if (stream.listeners.size === 0) this.forgetLater(stream);
    return { offset: message.offset, epoch: message.epoch };
  }

  historyBytes(): number {
    return this.heldBytes;
  }

  /** Bytes the channels' history holds now (message JSON plus a fixed cost per entry), and its entries. */
  get historyHeld(): { bytes: number; entries: number } {
    return { bytes: this.heldBytes, entries: this.heldEntries };
  }

  async recover(channel: string, since?: StreamPosition): Promise<Recovery> {
    const stream = this.stream(channel);
    this.trim(stream);
    const position = { offset: stream.offset, epoch: stream.epoch };
    if (!since) return { position, recovered: false, messages: [] };
    if (since.epoch !== stream.epoch) return { position, recovered: false, messages: [] };
    if (since.offset > stream.offset) return { position, recovered: false, messages: [], missed: 0 };
    const first = stream.history[0]?.message.offset ?? stream.offset + 1;
    if (since.offset + 1 < first) return { position, recovered: false, messages: [], missed: stream.offset - since.offset };
    const messages = stream.history.filter((h) => h.message.offset > since.offset).map((h) => h.message);
    return { position, recovered: true, messages };
  }

  async subscribe(channel: string, listener: BrokerListener): Promise<void> {
    const stream = this.stream(channel);
    stream.listeners.add(listener);
    this.cancelSweep(stream);
  }

  async unsubscribe(channel: string, listener: BrokerListener): Promise<void> {
    const stream = this.streams.get(channel);
    if (!stream) return;
    stream.listeners.delete(listener);
    if (stream.listeners.size === 0) this.forgetLater(stream);
  }

  async close(): Promise<void> {
    for (const stream of this.streams.values()) this.cancelSweep(stream);
    this.streams.clear();
    this.order = [];
    this.orderHead = this.heldEntries = this.heldBytes = 0;
  }

  /** Channels held (with listeners or unexpired history). */
  get channelCount(): number {
    return this.streams.size;
  }

  /**
   * A stream nobody listens to is forgotten once its history has expired (at once when it has none),
   * so channels published to without subscribers do not pile up; it comes back with a new epoch, and a
   * client recovering from the old one is told `recovered:false`. One timer per idle stream, at the
   * expiry of its oldest entry.
   */
  private forgetLater(stream: Stream): void {
    if (stream.sweep !== undefined) return;
    this.trim(stream);
    if (stream.history.length === 0) {
      this.forget(stream);
      return;
    }
    const due = stream.history[0]!.at + this.historyTtl * 1000 - this.clock.now();
    stream.sweep = this.clock.setTimeout(() => {
      stream.sweep = undefined;
      if (stream.listeners.size === 0 && this.streams.get(stream.channel) === stream) this.forgetLater(stream);
    }, Math.max(1, due + 1));
  }

  /** Drop a stream nobody listens to and nothing is kept of (its sweep with it): it comes back with a new epoch. */
  private forget(stream: Stream): void {
    if (this.streams.get(stream.channel) !== stream) return;
    this.cancelSweep(stream);
    this.streams.delete(stream.channel);
  }

  private cancelSweep(stream: Stream): void {
    if (stream.sweep !== undefined) this.clock.clearTimeout(stream.sweep);
    stream.sweep = undefined;
  }

  private stream(channel: string): Stream {
    let s = this.streams.get(channel);
    if (!s) this.streams.set(channel, (s = { channel, epoch: nanoid(10), offset: 0, history: [], listeners: new Set(), sweep: undefined }));
    return s;
  }

  private trim(stream: Stream): void {
    const cutoff = this.clock.now() - this.historyTtl * 1000;
    while (stream.history.length > 0 && stream.history[0]!.at < cutoff) this.shiftFirst(stream);
  }

  /** Keep a message in its channel's history, then enforce history_size and the global byte budget. */
  private hold(stream: Stream, message: ChannelMessage, jsonLength: number): void {
    // A channel's own cost rides on its first entry: a channel nobody listens to lives only as long as its history.
    const entry: Entry = { message, at: this.clock.now(), cost: jsonLength + ENTRY_COST + (stream.history.length === 0 ? STREAM_COST : 0), held: true, stream };
    stream.history.push(entry);
    this.order.push(entry);
    this.heldEntries++;
    this.heldBytes += entry.cost;
    if (stream.history.length > this.historySize) this.shiftFirst(stream);
    if (this.maxHistoryBytes > 0 && this.heldBytes > this.maxHistoryBytes) this.dropOldest();
    this.compact();
  }

  /**
   * Over budget: drop the oldest held entries of any channel until under it. A channel's entries are in
   * publish order in both lists, so the oldest held one in `order` is the first of its channel's history.
   * A channel nobody listens to that is left without history is forgotten (a recovery from it gets
   * `recovered:false`, as after expiry); a listened one answers a recovery from before its first entry with
   * `missed`.
   */
  private dropOldest(): void {
    let dropped = 0;
    while (this.heldBytes > this.maxHistoryBytes && this.orderHead < this.order.length) {
      const entry = this.order[this.orderHead++]!;
      if (!entry.held) continue;
      const stream = entry.stream;
      this.shiftFirst(stream); // = entry: the older ones of its channel were released before it
      dropped++;
      if (stream.history.length === 0 && stream.listeners.size === 0) this.forget(stream);
    }
    if (dropped > 0) this.onBudgetDrop(dropped);
  }

  /** Drop a channel's oldest history entry; the channel's own cost moves on to the next one. */
  private shiftFirst(stream: Stream): void {
    const entry = stream.history.shift()!;
    entry.held = false;
    entry.message = RELEASED; // until `order` is compacted, a released entry holds no payload
    this.heldEntries--;
    this.heldBytes -= entry.cost;
    const next = stream.history[0];
    if (next) {
      next.cost += STREAM_COST;
      this.heldBytes += STREAM_COST;
    }
  }

  /** Keep `order` within twice the held entries (plus slack), so entries dropped by their channel do not pile up. */
  private compact(): void {
    const queued = this.order.length - this.orderHead;
    if (queued <= 2 * this.heldEntries + 1024) return;
    this.order = this.order.slice(this.orderHead).filter((e) => e.held);
    this.orderHead = 0;
  }
}

/** What an entry costs besides its JSON: the entry and message objects, the arrays' slots (V8, 64-bit). */
const ENTRY_COST = 160;
const RELEASED: ChannelMessage = { channel: '', offset: 0, epoch: '', data: null };
/** What a channel costs besides its entries: its record, epoch, listener set, history array and map slot. */
const STREAM_COST = 400;
