import type { StreamPosition } from '../protocol/events.js';

/** One published channel message. */
export interface ChannelMessage extends StreamPosition {
  channel: string;
  data: unknown;
}

/** What a subscriber is told when it asks for history since a position (docs/protocol.md §5.2). */
export interface Recovery {
  /** The channel's current position (offset of its last message; 0 when none). */
  position: StreamPosition;
  /** true: `messages` holds every message after `since`. */
  recovered: boolean;
  /** Messages after `since`, in order (empty unless recovered). */
  messages: ChannelMessage[];
  /** How many messages after `since` cannot be replayed (only when the epoch matched). */
  missed?: number;
}

/** Receives live messages of a channel. */
export type BrokerListener = (message: ChannelMessage) => void;

/**
 * Where channel messages go between publishers and the gateway processes that hold subscribers.
 * The in-memory broker serves one process; a Redis broker implements the same contract for many.
 * Methods are async so a networked broker fits without changing callers.
 */
export interface Broker {
  /**
   * Append to the channel's history and deliver to listeners. Rejects, without taking an offset, data that
   * JSON cannot encode (a hole in the offsets would make every later recovery across it fail).
   */
  publish(channel: string, data: unknown): Promise<StreamPosition>;
  /** Current position and, with `since`, the messages after it if history still covers them. */
  recover(channel: string, since?: StreamPosition): Promise<Recovery>;
  /** Start delivering live messages of `channel` to `listener`. */
  subscribe(channel: string, listener: BrokerListener): Promise<void>;
  unsubscribe(channel: string, listener: BrokerListener): Promise<void>;
  /** A networked broker: resolves once it is connected (rejects when it cannot be reached). */
  ready?(): Promise<void>;
  /** Bytes of channel history this process holds, or added to a shared store, under `max_history_bytes` (a metric). */
  historyBytes?(): number;
  close(): Promise<void>;
}
