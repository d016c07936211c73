import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ResolvedOptions } from '../config.js';
import { CloseCode } from '../protocol/codes.js';
import type { Connection } from './connection.js';
import type { HttpFront } from './http-front.js';

/** What a drain needs from a gateway. */
export interface DrainHost {
  readonly options: Pick<ResolvedOptions, 'drainTimeoutMs' | 'drainBatchSize' | 'drainBatchPauseMs'>;
  readonly logger: Logger;
  readonly front: Pick<HttpFront, 'acceptingUpgrades'>;
  readonly endpoint: { readonly connections: ReadonlySet<Connection> };
}

/** How a drain went. */
export interface DrainResult {
  /** Connections sent `system/disconnect` + close 1012. */
  closed: number;
  /** Connections still open at the deadline, dropped without a handshake. */
  forced: number;
  /** Milliseconds the drain took. */
  ms: number;
}

/** Closes are all started within this share of `drain_timeout`; the rest is left for the handshakes. */
const SEND_SHARE = 0.5;

/**
 * Graceful drain (SIGTERM): readiness goes false and upgrades are refused (503), then every
 * connection gets `system/disconnect` and close 1012 `service_restart` — `drain_batch_size` at a
 * time, `drain_batch_pause` apart, so a thousand clients do not all reconnect in the same
 * millisecond (they add their own jitter too). 1012 keeps each session resumable. The pause shrinks
 * when the batches would not fit in half of `drain_timeout`; whatever is still open at the deadline
 * is terminated. Does not close the server: the caller does that afterwards.
 */
export async function drainConnections(host: DrainHost): Promise<DrainResult> {
  const started = Date.now();
  const { drainTimeoutMs, drainBatchSize, drainBatchPauseMs } = host.options;
  const deadline = started + drainTimeoutMs;
  host.front.acceptingUpgrades = false;
  const conns = [...host.endpoint.connections];
  const seen = new Set(conns);
  const batches = Math.ceil(conns.length / drainBatchSize);
  const pauseMs = Math.min(drainBatchPauseMs, batches > 1 ? (drainTimeoutMs * SEND_SHARE) / (batches - 1) : 0);
  host.logger.info({ connections: conns.length, batches, pauseMs, timeoutMs: drainTimeoutMs }, 'draining');
  const gone = conns.map(closedPromise);
  let closed = 0;
  for (let b = 0; b < batches; b++) {
    if (b > 0 && pauseMs > 0) await sleep(pauseMs);
    for (const conn of conns.slice(b * drainBatchSize, (b + 1) * drainBatchSize)) closed += restart(conn);
  }
  // Upgrades that were already past the readiness check when the drain began.
  for (const conn of host.endpoint.connections) {
    if (!seen.has(conn)) {
      closed += restart(conn);
      gone.push(closedPromise(conn));
    }
  }
  await settledBy(gone, deadline);
  let forced = 0;
  for (const conn of host.endpoint.connections) {
    forced++;
    conn.terminate();
  }
  const result = { closed, forced, ms: Date.now() - started };
  if (forced > 0) host.logger.warn(result, 'drain timeout: remaining connections dropped');
  else host.logger.info(result, 'drained');
  return result;
}

/** Wait for every promise, or until `deadline` (epoch ms), whichever comes first. */
async function settledBy(promises: Promise<void>[], deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
  await Promise.race([Promise.all(promises), timeout]);
  clearTimeout(timer);
}

function restart(conn: Connection): number {
  if (conn.state === 'closing' || conn.state === 'closed') return 0;
  conn.close(CloseCode.ServiceRestart, 'server restarting: reconnect and resume');
  return 1;
}

function closedPromise(conn: Connection): Promise<void> {
  if (conn.state === 'closed') return Promise.resolve();
  return new Promise((resolve) => conn.socket.once('close', () => resolve()));
}
