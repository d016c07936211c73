/**
 * The messages between a tab (`SharedWsgateClient`) and the SharedWorker that owns the one
 * WebSocket (`WorkerHub`). Plain structured-clone data only: errors travel as `{code, message}`.
 */
import type { ChannelMessagePayload, StreamPosition, SubscribedPayload } from '../protocol/events.js';
import type { SendResult } from './requests.js';
import type { TransportName } from './transport-picker.js';
import type { ClientEvents, ClientStats, ConnectionState, ResumeState, WsgateClientOptions } from './types.js';

/** The options a tab hands to the worker: the serializable part of `WsgateClientOptions` (the first tab's win). */
export type SharedOptions = Pick<
  WsgateClientOptions,
  'url' | 'token' | 'room' | 'profile' | 'resumable' | 'backoff' | 'ackEvery' | 'ackDelay' | 'connectTimeout' | 'sendTimeout' | 'watchdogFactor'
> & {
  /** The SSE fallback's plain settings (the worker uses its own `EventSource` and `fetch`). */
  sse?: false | { url?: string; after?: number };
};

/** The keys of `SharedOptions`, to copy them out of a full options object. */
export const SHARED_OPTION_KEYS: ReadonlyArray<keyof SharedOptions> = ['url', 'token', 'room', 'profile', 'resumable', 'backoff', 'ackEvery', 'ackDelay', 'connectTimeout', 'sendTimeout', 'watchdogFactor'];

/** A `WsgateError` on the wire between tab and worker. */
export interface ErrorData {
  code: string;
  message: string;
  event?: string;
}

/**
 * The worker's client as a tab mirrors it, sent with every message (so kept small: the last
 * `system/init`, whose room roster can be long, travels only in `snap` and `connected`).
 * `seq`: the worker's highest seq when the message was posted.
 */
export interface Snapshot {
  state: ConnectionState;
  transport: TransportName;
  sessionId: string | undefined;
  resumeToken: string | undefined;
  seq: number;
  stats: ClientStats;
}

/** Tab → worker. */
export type TabMessage =
  | { t: 'hello'; tab: string; options: SharedOptions; resume?: ResumeState }
  | { t: 'sub'; channel: string; since?: StreamPosition }
  /** Stop forwarding (the tab paused or unsubscribed); the position is the tab's own. */
  | { t: 'unsub'; channel: string }
  /** The tab dropped the subscription for good. */
  | { t: 'forget'; channel: string }
  | { t: 'send'; rid: number; event: string; payload: unknown; timeout?: number }
  /** The page became visible or went online: retry a pending reconnect now. */
  | { t: 'wake' }
  /** The tab processed every message the worker posted it up to this seq (the worker acks no further). */
  | { t: 'done'; seq: number }
  | { t: 'bye' };

/** The client events a worker forwards to every tab (errors as `ErrorData`). */
export type ForwardedEvent = { [K in Exclude<keyof ClientEvents, 'error'>]: { name: K; value: ClientEvents[K] } }[Exclude<keyof ClientEvents, 'error'>] | { name: 'error'; value: ErrorData };

/** Worker → tab. Every one carries the worker's snapshot, so a tab's mirror is never older than what it processed. */
export type WorkerMessage = { snap: Snapshot } & (
  | { t: 'snap'; init?: ClientEvents['connected']['init'] }
  | { t: 'event'; event: ForwardedEvent }
  | { t: 'subscribed'; channel: string; payload: SubscribedPayload }
  | { t: 'msg'; channel: string; payload: ChannelMessagePayload }
  | { t: 'suberr'; channel: string; error: ErrorData }
  /** The worker's stream of `channel` has a hole: resubscribe `since` your position to learn what is missing. */
  | { t: 'resync'; channel: string }
  | { t: 'sent'; rid: number; result: SendResult }
  | { t: 'notsent'; rid: number; error: ErrorData }
);

/** The part of `MessagePort` both sides use (the browser's, and Node's for tests). */
export interface PortLike {
  postMessage(message: unknown): void;
  onmessage: ((ev: { data: unknown }) => void) | null;
  close(): void;
}

/** The Web Locks API as used to notice a closed tab: a tab holds its lock until it is gone. */
export interface LocksLike {
  request(name: string, callback: () => Promise<unknown>): Promise<unknown>;
}
