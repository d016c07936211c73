/**
 * The fuzz scenario's hostile clients, in their own process (forked by the driver): `wsLanes`
 * lanes open hostile WebSocket sessions one after another (v3 at /api/ws, v2 at /ws), `httpLanes`
 * lanes send hostile plain HTTP requests, until the driver says stop or a lane kind has sent its
 * target. Counts go to the driver over IPC every 500 ms and once at the end.
 */
import { emptyCounts, httpRequest, v2Session, v3Session, type HostileCounts, type Target } from './hostile/scripts.js';
import { pick, rnd } from './hostile/payloads.js';

/** Parent → hostile worker. */
export type ToHostile =
  | { type: 'start'; config: HostileConfig }
  | { type: 'stop' };

/** Hostile worker → parent. */
export type FromHostile = { type: 'progress' | 'final'; workerId: number; counts: HostileCounts };

/** What one hostile worker does. */
export interface HostileConfig {
  workerId: number;
  port: number;
  host: string;
  localAddresses: string[];
  maxPayload: number;
  wsLanes: number;
  httpLanes: number;
  /** Stop the WebSocket lanes after this many frames (0: only on stop). */
  frameTarget: number;
  /** Stop the HTTP lanes after this many requests (0: only on stop). */
  requestTarget: number;
}

const counts = emptyCounts();
let stopping = false;
let config: HostileConfig | undefined;

function post(type: 'progress' | 'final'): void {
  if (process.connected) process.send?.({ type, workerId: config?.workerId ?? 0, counts } satisfies FromHostile);
}

function target(c: HostileConfig, lane: number, sessionIds: string[]): Target {
  return { port: c.port, host: c.host, localAddress: c.localAddresses[lane % Math.max(1, c.localAddresses.length)], maxPayload: c.maxPayload, sessionIds };
}

async function wsLane(c: HostileConfig, lane: number, sessionIds: string[]): Promise<void> {
  const t = target(c, lane, sessionIds);
  while (!stopping && !(c.frameTarget > 0 && counts.frames >= c.frameTarget)) {
    const frames = pick([5, 50, 200, 500]);
    await (rnd(4) === 0 ? v2Session(t, counts, frames) : v3Session(t, counts, frames)).catch(() => undefined);
  }
}

async function httpLane(c: HostileConfig, lane: number): Promise<void> {
  const t = target(c, lane + c.wsLanes, []);
  while (!stopping && !(c.requestTarget > 0 && counts.httpRequests >= c.requestTarget)) {
    await httpRequest(t, counts).catch(() => undefined);
  }
}

async function run(c: HostileConfig): Promise<void> {
  config = c;
  const ticker = setInterval(() => post('progress'), 500);
  const sessionIds: string[] = [];
  const lanes = [
    ...Array.from({ length: c.wsLanes }, (_, i) => wsLane(c, i, sessionIds)),
    ...Array.from({ length: c.httpLanes }, (_, i) => httpLane(c, i)),
  ];
  await Promise.all(lanes);
  clearInterval(ticker);
  post('final');
}

let finished: Promise<void> | undefined;
process.on('message', (msg: ToHostile) => {
  if (msg.type === 'start') finished = run(msg.config);
  else {
    stopping = true;
    void (finished ?? Promise.resolve()).then(() => setTimeout(() => process.exit(0), 200));
  }
});
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => undefined);
