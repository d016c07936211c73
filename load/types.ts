/**
 * Messages between the driver (parent) and its client worker processes, and the counters the workers keep.
 * Everything here crosses a process boundary as JSON (child_process IPC), so plain data only.
 */

/** What a worker's clients do once connected. */
export type ClientMode = 'idle' | 'chat' | 'storm' | 'fuzz';

/** Sent once by the parent: which clients this worker opens and how they behave. */
export interface WorkerConfig {
  workerId: number;
  /** v3 endpoint, e.g. `ws://127.0.0.1:PORT/api/ws`. */
  v3Url: string;
  /** v2 endpoint base, e.g. `ws://127.0.0.1:PORT/ws` (`?password=&username=` is appended). */
  v2Url: string;
  /** Index of this worker's first client in the whole run (client names and rooms derive from it). */
  firstIndex: number;
  v3Count: number;
  v2Count: number;
  /** Source addresses to spread the clients over (127.0.0.x). */
  localAddresses: string[];
  /** New connections per second this worker opens. */
  connectRate: number;
  /** v3 clients per room (v2 clients land in the adapter's default room). */
  roomSize: number;
  /** Fixed room for every v3 client (chat: everyone in `main` with the v2 clients). Overrides roomSize. */
  room?: string;
  mode: ClientMode;
  /** chat: messages per second each client sends while traffic is on. */
  msgRate: number;
  /** storm: the channel every client subscribes to. */
  channel: string;
  /** v2 password (the hello token). */
  password: string;
}

/** Parent → worker. */
export type ToWorker =
  | { type: 'start'; config: WorkerConfig }
  | { type: 'traffic'; on: boolean }
  | { type: 'drop'; share: number }
  | { type: 'finish'; lastOffset: number; sentBySender: Record<string, number> };

/** A live snapshot a worker sends every 500 ms. */
export interface Progress {
  opened: number;
  failed: number;
  open: number;
  unexpectedCloses: number;
  received: number;
  sent: number;
  resumed: number;
  expectedCloses: number;
  /** Liveness traffic, which an idle run is made of: ping frames seen, heartbeats each way. */
  pings: number;
  heartbeatsSent: number;
  heartbeatsReceived: number;
  /** Delivery latencies recorded since the previous snapshot (HDR, compressed base64; '' when none). */
  latencyWindow: string;
}

/** Worker → parent. */
export type FromWorker =
  | { type: 'progress'; workerId: number; progress: Progress }
  | { type: 'ramped'; workerId: number }
  | { type: 'sent'; workerId: number; sentBySender: Record<string, number> }
  | { type: 'final'; workerId: number; stats: WorkerStats }
  | { type: 'log'; workerId: number; message: string };

/** min / max / sum over clients of a per-client count. */
export interface Spread {
  clients: number;
  min: number;
  max: number;
  sum: number;
}

/** Everything a worker counted. Merged by the parent with mergeStats(). */
export interface WorkerStats {
  opened: number;
  /** Failed connection attempts (first connects are retried up to 3 times, reconnects up to 6). */
  failed: number;
  failReasons: Record<string, number>;
  /** Clients that never got a connection open, after their retries. */
  neverConnected: number;
  expectedCloses: number;
  unexpectedCloses: number;
  closesByCode: Record<string, number>;
  /** Unexpected closes bucketed by seconds since the connection opened. */
  closesBySinceOpen: Record<string, number>;
  /** HDR histogram (compressed base64), ms since open, of unexpected closes. */
  closeSinceOpenHist: string;
  /** HDR histogram, ms since the last frame received (what proxy_read_timeout measures), of unexpected closes. */
  closeSinceRxHist: string;
  pingsV3: Spread;
  pingsV2: Spread;
  heartbeatsReceived: number;
  heartbeatsSent: number;
  acksSent: number;
  messages: { sent: number; received: number; lost: number; duplicated: number; outOfOrder: number };
  seq: { gaps: number; duplicated: number };
  /** HDR histogram (compressed base64) of delivery latency in microseconds. */
  latencyHist: string;
  resumes: Record<string, number>;
  replayed: number;
  errors: Record<string, number>;
}
