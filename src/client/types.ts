import type { Frame, InitPayload, Profile, StreamPosition } from '../protocol/events.js';
import type { BackoffOptions } from './backoff.js';
import type { SseFallbackOptions } from './transport-picker.js';
import type { Clock } from '../time/clock.js';
import type { NetworkSource, VisibilitySource, WebSocketConstructor } from './environment.js';
import type { WsgateError } from './requests.js';

/** Options of `new WsgateClient(...)`. Times are milliseconds (the wire's seconds are converted). */
export interface WsgateClientOptions {
  /** `ws(s)://host/api/ws`. Default in a browser: the page's own origin, `wss:` on https pages. */
  url?: string;
  /** WebSocket class. Default `globalThis.WebSocket` (browsers, Node ≥ 22); in Node 20 pass `ws`'s class. */
  WebSocket?: WebSocketConstructor;
  /** `client/hello.token`. */
  token?: string;
  /** `client/hello.room`. Default: the server's (`main`). */
  room?: string;
  /** `client/hello.profile`. */
  profile?: Profile;
  /** `client/hello.resumable`. Default true. */
  resumable?: boolean;
  /** Connect from the constructor. Default true. */
  autoConnect?: boolean;
  /** Reconnect timing; default 0.5 s → 20 s full jitter, 1 s drain jitter, +10 s after 4103. */
  backoff?: Partial<BackoffOptions>;
  /** Send `client/ack` after this many messages… Default 50. */
  ackEvery?: number;
  /** …or this long after the first un-acked one. Default 1000 ms. */
  ackDelay?: number;
  /** Never acknowledge beyond this seq (called at each ack). A shared worker: what its tabs processed. */
  ackLimit?: () => number;
  /** Give up on a connection attempt that has no `system/init` after this long. Default 10 000 ms. */
  connectTimeout?: number;
  /** Default timeout of `send()`; 0 waits as long as the client runs. Default 0. */
  sendTimeout?: number;
  /** Watchdog: reconnect after `heartbeat_interval` × this of silence. Default 1.5. */
  watchdogFactor?: number;
  /** Pause subscriptions while the page is hidden and recover them when it is visible. Default false. */
  pauseWhenHidden?: boolean;
  /** Injected time (tests). Default: `Date.now` and global timers. */
  clock?: Clock;
  /** Injected randomness for jitter (tests). Default `Math.random`. */
  random?: () => number;
  /** Page visibility; `null` disables. Default: `document` in a browser. */
  visibility?: VisibilitySource | null;
  /** Network `online` events; `null` disables. Default: `window` in a browser. */
  network?: NetworkSource | null;
  /** Resume this session on the first connect (what `resumeState` returned on an earlier page). */
  resume?: ResumeState;
  /** Channel positions already delivered (restored after a reload): the first subscribe of each asks `since` it. */
  positions?: Record<string, StreamPosition>;
  /** Fall back to Server-Sent Events + POSTs where WebSocket cannot connect; `false` never does. Default: on where `EventSource` exists. */
  sse?: SseFallbackOptions | false;
  /** Debug hook: one line per state change and decision. */
  debug?: (message: string, data?: Record<string, unknown>) => void;
}

/** A session a later page can resume: kept in `sessionStorage` by the `reload` option. */
export interface ResumeState {
  sessionId: string;
  resumeToken: string;
  /** The last `seq` this page processed: the resume replays everything after it. */
  lastSeq: number;
}

/** Connection states; `failed` (server said stop) and `closed` (you called `close()`) are final. */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';

/** Events of the client. */
export interface ClientEvents {
  state: { state: ConnectionState; previous: ConnectionState };
  connecting: { attempt: number; url: string };
  /** `system/init` arrived; `resumed` tells whether the old session continued. */
  connected: { sessionId: string; resumed: boolean; replayed: number; resumeError?: string; init: InitPayload };
  /** The previous session continued; `replayed` messages follow. */
  resumed: { sessionId: string; replayed: number };
  /** Resume failed (`resume_error`): a fresh session started; channel subscriptions are re-made with `since`. */
  'session-lost': { previousSessionId: string; reason: string };
  /** The socket ended. `local`: the client gave up on it (watchdog, connect timeout). */
  disconnected: { code: number; reason: string; willReconnect: boolean; delay?: number; local: boolean };
  /** The server's close code says stop (docs/protocol.md §6); the client will not reconnect. */
  failed: { code: number; reason: string };
  /** Any other server event: presence (`session/*`), `send/*`, application events. */
  message: Frame;
  /** `system/error` not tied to one of our requests. */
  error: WsgateError;
  /** Application heartbeats: `system/heartbeat` received or `client/heartbeat` sent. */
  heartbeat: { direction: 'received' | 'sent'; count: number };
}

/** Counters for a status display. */
export interface ClientStats {
  heartbeatsSent: number;
  heartbeatsReceived: number;
  messagesReceived: number;
  duplicatesDropped: number;
  reconnects: number;
  resumes: number;
}
