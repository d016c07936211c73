import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';

/** IPC message a worker sends to ask for every worker's metrics, and the primary's answer. */
export interface MetricsRequest {
  type: 'wsgate:metrics';
  id: number;
  text?: string;
  error?: string;
}

/** `--workers` value → number of worker processes: `auto` is one per core (available parallelism). */
export function workerCount(value: string): number | undefined {
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 1024 ? n : undefined;
}

/** Whether a message is a worker's metrics request. */
export function isMetricsRequest(m: unknown): m is MetricsRequest {
  return typeof m === 'object' && m !== null && (m as MetricsRequest).type === 'wsgate:metrics' && typeof (m as MetricsRequest).id === 'number';
}

/**
 * The primary of `wsgate --workers N`: forks N workers that each run the whole gateway on the
 * same port (node:cluster hands them the listening socket), replaces a worker that dies
 * unexpectedly, answers a worker's `/metrics` with every worker's metrics merged by prom-client's
 * AggregatorRegistry, and on SIGTERM/SIGINT has every worker drain, then exits 0 once all have
 * exited (1 if one of them failed). Resolves with the exit code.
 */
export function runPrimary(count: number, logger: Logger): Promise<number> {
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  let failed = false;
  let exitCode: number | undefined;
  const fork = (): Worker => {
    const w = cluster.fork();
    w.on('message', (m: unknown) => {
      if (!isMetricsRequest(m)) return;
      aggregator.clusterMetrics().then(
        (text) => w.isConnected() && w.send({ type: 'wsgate:metrics', id: m.id, text } satisfies MetricsRequest),
        (err: Error) => w.isConnected() && w.send({ type: 'wsgate:metrics', id: m.id, error: err.message } satisfies MetricsRequest),
      );
    });
    return w;
  };
  for (let i = 0; i < count; i++) fork();
  logger.info({ workers: count, pid: process.pid }, 'wsgate primary started');
  return new Promise((resolve) => {
    cluster.on('exit', (worker, code, signal) => {
      if (stopping) {
        if (code !== 0) failed = true;
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(exitCode ?? (failed ? 1 : 0));
        return;
      }
      if (code === 2) {
        // Bad configuration (e.g. Redis unreachable at start): every replacement would fail the same way.
        logger.error({ worker: worker.process.pid }, 'a worker could not start (exit 2); stopping');
        exitCode = 2;
        stop('SIGTERM');
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(2);
        return;
      }
      // A worker that died is replaced (its clients resume on the others meanwhile); a crash loop is slowed down.
      logger.warn({ worker: worker.process.pid, code, signal }, 'worker exited; starting another');
      setTimeout(() => {
        if (!stopping) fork();
      }, 1000).unref();
    });
    const stop = (sig: NodeJS.Signals): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal: sig }, 'draining every worker');
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      if (workers.length === 0) resolve(0);
      for (const w of workers) w.process.kill('SIGTERM');
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
