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

/**
 * Who accepts connections: the workers themselves, from the one listening socket they share (SCHED_NONE), unless
 * Node's own NODE_CLUSTER_SCHED_POLICY says `rr`. Node's default round-robin has the primary accept every connection
 * and hold it until the chosen worker takes it over IPC, one hand-off in flight per worker: when the workers are busy
 * (a reconnect storm after a process died or a deploy) hand-offs fall behind, the primary piles up accepted sockets
 * with no bound (20,000 open files here, after which nobody gets in) and clients time out while queued. With
 * SCHED_NONE the backlog stays in the kernel (bounded; a full one drops the SYN, which the client retries), a worker
 * accepts as many as its turn of the event loop finds, and a busy worker takes fewer. The price is a less even
 * count per worker (docs/scaling.md, Sizing), which `--max-connections` per worker bounds.
 */
export function schedulingPolicy(env: string | undefined): number {
  return env === 'rr' ? cluster.SCHED_RR : cluster.SCHED_NONE;
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
 * exited (1 if one of them failed, 2 if one could not start). Resolves with the exit code.
 */
export function runPrimary(count: number, logger: Logger): Promise<number> {
  cluster.schedulingPolicy = schedulingPolicy(process.env.NODE_CLUSTER_SCHED_POLICY);
  return new Promise((resolve) => {
    const primary = new Primary(logger, resolve);
    // Handlers first: a supervisor that stops the process as soon as it says it started must get a drain, not a kill.
    cluster.on('exit', (worker, code, signal) => primary.exited(worker, code, signal));
    process.on('SIGTERM', () => primary.stop('SIGTERM'));
    process.on('SIGINT', () => primary.stop('SIGINT'));
    for (let i = 0; i < count; i++) primary.fork();
    logger.info({ workers: count, pid: process.pid }, 'wsgate primary started');
  });
}

class Primary {
  private readonly aggregator = new AggregatorRegistry();
  private stopping = false;
  private failed = false;
  private exitCode: number | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly done: (code: number) => void,
  ) {}

  fork(): void {
    const w = cluster.fork();
    w.on('message', (m: unknown) => {
      if (!isMetricsRequest(m)) return;
      const answer = (reply: Omit<MetricsRequest, 'type' | 'id'>): void => void (w.isConnected() && w.send({ type: 'wsgate:metrics', id: m.id, ...reply }));
      this.aggregator.clusterMetrics().then(
        (text) => answer({ text }),
        (err: Error) => answer({ error: err.message }),
      );
    });
  }

  exited(worker: Worker, code: number | null, signal: string | null): void {
    if (!this.stopping && code === 2) {
      // Bad configuration (e.g. Redis unreachable at start): every replacement would fail the same way.
      this.logger.error({ worker: worker.process.pid }, 'a worker could not start (exit 2); stopping');
      this.exitCode = 2;
      this.stop('SIGTERM');
    }
    if (this.stopping) {
      // Killed by the SIGTERM stop() sent: it had not yet installed its handlers, so it was still loading and had
      // served nothing (a worker drains on SIGTERM from before it listens) — a clean stop, not a failure.
      const stoppedBeforeStart = code === null && signal === 'SIGTERM';
      if (stoppedBeforeStart) this.logger.info({ worker: worker.process.pid }, 'worker stopped while starting');
      else if (code !== 0) this.failed = true;
      if (Object.keys(cluster.workers ?? {}).length === 0) this.done(this.exitCode ?? (this.failed ? 1 : 0));
      return;
    }
    // A worker that died is replaced (its clients resume on the others meanwhile); a crash loop is slowed down.
    this.logger.warn({ worker: worker.process.pid, code, signal }, 'worker exited; starting another');
    setTimeout(() => {
      if (!this.stopping) this.fork();
    }, 1000).unref();
  }

  stop(signal: NodeJS.Signals): void {
    if (this.stopping) return;
    this.stopping = true;
    this.logger.info({ signal }, 'draining every worker');
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    if (workers.length === 0) this.done(this.exitCode ?? 0);
    for (const w of workers) w.process.kill('SIGTERM');
  }
}
