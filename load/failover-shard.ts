/**
 * A client process of the failover storm (forked by load/redis-failover.ts): holds a share of the clients, so the
 * storm measures the gateway, not one client process's event loop working through 10,000 closes and resumes.
 * Plain data over IPC; times are absolute (Date.now(), one machine), the parent subtracts the kill time.
 */
import { FailoverClient } from './failover-clients.js';
import { connectsDue } from './pace.js';

/** Parent → shard. */
export type ToShard =
  | { type: 'start'; port: number; first: number; count: number; addresses: string[]; rate: number }
  | { type: 'arm'; port: number }
  | { type: 'finish' };

/** What one client ended with. */
export interface ShardResult {
  index: number;
  id: string;
  outcome: string;
  closedAt: number;
  resumedAt: number;
  attempts: number;
  got: number[];
}

/** Shard → parent. */
export type FromShard =
  | { type: 'connected'; sessions: { index: number; id: string }[] }
  | { type: 'armed' }
  | { type: 'progress'; settled: number }
  | { type: 'results'; results: ShardResult[] }
  | { type: 'error'; message: string };

let clients: FailoverClient[] = [];
let settled = 0;
const post = (m: FromShard): void => void process.send?.(m);

async function start(m: Extract<ToShard, { type: 'start' }>): Promise<void> {
  clients = Array.from({ length: m.count }, (_, i) => new FailoverClient(m.first + i, m.addresses[i % m.addresses.length]));
  const started: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < clients.length; i++) {
    // Paced from the start (load/pace.ts): m.rate per second, whatever the tick.
    while (connectsDue(m.rate, performance.now() - t0, clients.length) <= i) await new Promise((r) => setTimeout(r, 20));
    started.push(clients[i]!.start(m.port));
  }
  // A client that never got in (after its retries) is reported with no session id; the run counts it.
  await Promise.allSettled(started);
  post({ type: 'connected', sessions: clients.map((c) => ({ index: c.index, id: c.id })) });
}

function arm(port: number): void {
  for (const c of clients) {
    if (c.id) void c.resumeOnClose(() => port).then(() => settled++);
    else settled++;
  }
  const t = setInterval(() => post({ type: 'progress', settled }), 500);
  t.unref();
  post({ type: 'armed' });
}

function finish(): void {
  clients.forEach((c) => c.close());
  const results = clients.map((c) => ({ index: c.index, id: c.id, outcome: c.outcome, closedAt: c.closedAt, resumedAt: c.resumedAt, attempts: c.attempts, got: c.got }));
  // Exit once the results are written to the parent: a few thousand clients' results are a large IPC message, and
  // exiting on a timer could cut it off (the parent then saw "client process K exited (0)" and had no report).
  process.send?.({ type: 'results', results } satisfies FromShard, () => process.exit(0));
}

// Long ramps of many clients outlast the gateway's 120 s of allowed silence: speak like the SDK does.
setInterval(() => clients.forEach((c) => c.heartbeat()), 30_000).unref();

process.on('message', (m: ToShard) => {
  if (m.type === 'start') start(m).catch((err: Error) => post({ type: 'error', message: err.message }));
  else if (m.type === 'arm') arm(m.port);
  else finish();
});
// The parent owns the run: if it goes away (crash, Ctrl-C), so do we.
process.on('disconnect', () => process.exit(0));
