import { nanoid } from 'nanoid';
import { encodePayload } from '../protocol/codec.js';
import type { StreamPosition } from '../protocol/events.js';
import { systemClock, type Clock } from '../time/clock.js';
import type { Broker, BrokerListener, ChannelMessage, Recovery } from './broker.js';

interface Stream {
  epoch: string;
  offset: number;
  history: { message: ChannelMessage; at: number }[];
  listeners: Set<BrokerListener>;
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
    this.stream(channel).listeners.add(listener);
  }

  async unsubscribe(channel: string, listener: BrokerListener): Promise<void> {
    const stream = this.streams.get(channel);
    if (!stream) return;
    stream.listeners.delete(listener);
    this.trim(stream);
    // A stream nobody listens to and with no history left is forgotten; it comes back with a new epoch.
    if (stream.listeners.size === 0 && stream.history.length === 0) this.streams.delete(channel);
  }

  async close(): Promise<void> {
    this.streams.clear();
  }

  private stream(channel: string): Stream {
    let s = this.streams.get(channel);
    if (!s) this.streams.set(channel, (s = { epoch: nanoid(10), offset: 0, history: [], listeners: new Set() }));
    return s;
  }

  private trim(stream: Stream): void {
    const cutoff = this.clock.now() - this.historyTtl * 1000;
    while (stream.history.length > 0 && stream.history[0]!.at < cutoff) stream.history.shift();
  }
}
