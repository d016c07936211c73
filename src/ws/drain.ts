import type { Logger } from 'pino';
import type { ResolvedOptions } from '../config.js';
import { CloseCode } from '../protocol/codes.js';
import type { Clock, TimerHandle } from '../time/clock.js';
import type { Connection } from './connection.js';

/** What a drain works on: the gateway's open connections and the door that lets new ones in. */
export interface DrainParts {
  readonly options: Pick<ResolvedOptions, 'drainTimeoutMs' | 'drainBatchSize' | 'drainBatchPauseMs'>;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The HTTP front's door: set false, new upgrades get 503 and `/readyz` says draining. */
  readonly front: { acceptingUpgrades: boolean };
  readonly connections: ReadonlySet<Connection>;
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
export async function drainConnections(host: DrainParts): Promise<DrainResult> {
  const { clock } = host;
  const started = clock.now();
  const { drainTimeoutMs, drainBatchSize, drainBatchPauseMs } = host.options;
  const deadline = started + drainTimeoutMs;
  host.front.acceptingUpgrades = false;
  const conns = [...host.connections];
  const seen = new Set(conns);
  const batches = Math.ceil(conns.length / drainBatchSize);
  const pauseMs = Math.min(drainBatchPauseMs, batches > 1 ? (drainTimeoutMs * SEND_SHARE) / (batches - 1) : 0);
  host.logger.info({ connections: conns.length, batches, pauseMs, timeoutMs: drainTimeoutMs }, 'draining');
  const gone = conns.map(closedPromise);
  let closed = 0;
  for (let b = 0; b < batches; b++) {
    if (b > 0 && pauseMs > 0) await new Promise<void>((resolve) => clock.setTimeout(resolve, pauseMs));
    for (const conn of conns.slice(b * drainBatchSize, (b + 1) * drainBatchSize)) closed += restart(conn);
  }
  // Upgrades that were already past the readiness check when the drain began.
  for (const conn of host.connections) {
    if (!seen.has(conn)) {
      closed += restart(conn);
      gone.push(closedPromise(conn));
    }
  }
  await settledBy(clock, gone, deadline);
  let forced = 0;
  for (const conn of host.connections) {
    forced++;
    conn.terminate();
  }
  const result = { closed, forced, ms: clock.now() - started };
  if (forced > 0) host.logger.warn(result, 'drain timeout: remaining connections dropped');
  else host.logger.info(result, 'drained');
  return result;
}

/** Wait for every promise, or until `deadline` (clock ms), whichever comes first. */
async function settledBy(clock: Clock, promises: Promise<void>[], deadline: number): Promise<void> {
  let timer: TimerHandle | undefined;
  const timeout = new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, Math.max(0, deadline - clock.now()))));
  await Promise.race([Promise.all(promises), timeout]);
  clock.clearTimeout(timer);
}

function restart(conn: Connection): number {
  if (conn.state === 'closing' || conn.state === 'closed') return 0;
  conn.close(CloseCode.ServiceRestart, 'server restarting: reconnect and resume');
  return 1;
}

function closedPromise(conn: Connection): Promise<void> {
  return conn.whenClosed;
}
