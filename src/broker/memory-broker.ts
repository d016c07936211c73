import { nanoid } from 'nanoid';
import { encodePayload } from '../protocol/codec.js';
import type { StreamPosition } from '../protocol/events.js';
import { systemClock, type Clock, type TimerHandle } from '../time/clock.js';
import type { Broker, BrokerListener, ChannelMessage, Recovery } from './broker.js';

interface Stream {
  epoch: string;
  offset: number;
  history: { message: ChannelMessage; at: number }[];
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

  constructor(
    /** Messages kept per channel. */
    private readonly historySize: number,
    /** Seconds history is kept. */
    private readonly historyTtl: number,
    /** Time source of the history TTL. */
    private readonly clock: Clock = systemClock,
  ) {}

  async publish(channel: string, data: unknown): Promise<StreamPosition> {
    // Before an offset is taken: data that cannot be encoded for subscribers is refused here, so the
    // channel's offsets never get a hole that a later recovery would fail on.
    encodePayload(data);
    const stream = this.stream(channel);
    const message: ChannelMessage = { channel, offset: ++stream.offset, epoch: stream.epoch, data };
    if (this.historySize > 0) {
      stream.history.push({ message, at: this.clock.now() });
      if (stream.history.length > this.historySize) stream.history.shift();
    }
    for (const listener of stream.listeners) listener(message);
    if (stream.listeners.size === 0) this.forgetLater(channel, stream);
    return { offset: message.offset, epoch: message.epoch };
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
    if (stream.listeners.size === 0) this.forgetLater(channel, stream);
  }

  async close(): Promise<void> {
    for (const stream of this.streams.values()) this.cancelSweep(stream);
    this.streams.clear();
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
  private forgetLater(channel: string, stream: Stream): void {
    if (stream.sweep !== undefined) return;
    this.trim(stream);
    if (stream.history.length === 0) {
      this.streams.delete(channel);
      return;
    }
    const due = stream.history[0]!.at + this.historyTtl * 1000 - this.clock.now();
    stream.sweep = this.clock.setTimeout(() => {
      stream.sweep = undefined;
      if (stream.listeners.size === 0 && this.streams.get(channel) === stream) this.forgetLater(channel, stream);
    }, Math.max(1, due + 1));
  }

  private cancelSweep(stream: Stream): void {
    if (stream.sweep !== undefined) this.clock.clearTimeout(stream.sweep);
    stream.sweep = undefined;
  }

  private stream(channel: string): Stream {
    let s = this.streams.get(channel);
    if (!s) this.streams.set(channel, (s = { epoch: nanoid(10), offset: 0, history: [], listeners: new Set(), sweep: undefined }));
    return s;
  }

  private trim(stream: Stream): void {
    const cutoff = this.clock.now() - this.historyTtl * 1000;
    while (stream.history.length > 0 && stream.history[0]!.at < cutoff) stream.history.shift();
  }
}
