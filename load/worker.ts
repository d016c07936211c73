/**
 * A client worker process (forked by the driver): opens its share of the clients from its own source addresses,
 * runs them as the scenario says and reports counters over IPC. One process per few thousand clients keeps each
 * under the machine's per-process open-file limit.
 */
import { BaseClient, type ClientContext } from './clients/base-client.js';
import { V2Client } from './clients/v2-client.js';
import { V3Client } from './clients/v3-client.js';
import { addToSpread, bump, emptyStats, encodeHist, newHistogram } from './stats.js';
import type { FromWorker, Progress, ToWorker, WorkerConfig } from './types.js';
import { connectsDue } from './pace.js';

let clients: BaseClient[] = [];
let ctx: ClientContext | undefined;
let chatTimers: NodeJS.Timeout[] = [];

function post(msg: FromWorker): void {
  if (process.connected) process.send?.(msg);
}

function progress(): Progress {
  const s = ctx!.stats;
  const window = ctx!.latencyWindow;
  const latencyWindow = window.totalCount > 0 ? encodeHist(window) : '';
  window.reset();
  return {
    opened: s.opened,
    failed: s.failed,
    open: s.opened - s.expectedCloses - s.unexpectedCloses,
    unexpectedCloses: s.unexpectedCloses,
    received: s.messages.received,
    sent: s.messages.sent,
    resumed: s.resumes.resumed ?? 0,
    expectedCloses: s.expectedCloses,
    pings: clients.reduce((sum, c) => sum + c.pings, 0),
    heartbeatsSent: s.heartbeatsSent,
    heartbeatsReceived: s.heartbeatsReceived,
    latencyWindow,
  };
}

function start(config: WorkerConfig): void {
  let settled = 0;
  const total = config.v3Count + config.v2Count;
  ctx = {
    config,
    stats: emptyStats(),
    latency: newHistogram(),
    latencyWindow: newHistogram(),
    closeSinceOpen: newHistogram(),
    closeSinceRx: newHistogram(),
    stopping: false,
    settled: () => {
      if (++settled === total) post({ type: 'ramped', workerId: config.workerId });
    },
  };
  for (let i = 0; i < total; i++) {
    const index = config.firstIndex + i;
    const addr = addrOf(config, index);
    // v2 clients are interleaved so every source address and room sees both versions.
    const isV2 = Math.floor(((i + 1) * config.v2Count) / total) > Math.floor((i * config.v2Count) / total);
    clients.push(isV2 ? new V2Client(ctx, index, addr) : new V3Client(ctx, index, addr));
  }
  if (total === 0) post({ type: 'ramped', workerId: config.workerId });
  ramp(config.connectRate);
  const ticker = setInterval(() => post({ type: 'progress', workerId: config.workerId, progress: progress() }), 500);
  const acker = setInterval(() => clients.forEach((c) => c instanceof V3Client && c.ack()), 1000);
  ticker.unref();
  acker.unref();
}

/** A client's source address; undefined (let the OS pick) when the target is not on loopback. */
function addrOf(config: WorkerConfig, index: number): string | undefined {
  return config.localAddresses[index % config.localAddresses.length];
}

/**
 * Open clients at `rate` per second, checked every 20 ms. After a stall of this process the backlog is caught up
 * at most a tenth of a second's worth per tick, so the gateway never sees a burst far above the asked rate.
 */
function ramp(rate: number): void {
  let next = 0;
  const start = performance.now();
  const maxBurst = Math.max(1, Math.ceil(rate / 10));
  const t = setInterval(() => {
    const due = Math.min(connectsDue(rate, performance.now() - start, clients.length), next + maxBurst);
    while (next < due) clients[next++]!.connect();
    if (next >= clients.length) clearInterval(t);
  }, 20);
}

function traffic(on: boolean): void {
  chatTimers.forEach(clearInterval);
  chatTimers = [];
  if (on) {
    const periodMs = 1000 / Math.max(0.001, ctx!.config.msgRate);
    for (const c of clients) {
      // Random phase, so the clients do not all speak in the same tick.
      const first = setTimeout(() => {
        c.sendChat();
        chatTimers.push(setInterval(() => c.sendChat(), periodMs));
      }, Math.random() * periodMs);
      chatTimers.push(first);
    }
    return;
  }
  const sentBySender: Record<string, number> = {};
  for (const c of clients) if (c.sentChat > 0) sentBySender[c.key] = c.sentChat;
  post({ type: 'sent', workerId: ctx!.config.workerId, sentBySender });
}

function drop(share: number): void {
  const v3 = clients.filter((c) => c.version === 3 && c.opened);
  const n = Math.round(v3.length * share);
  // Every k-th client rather than the first n, so the drop hits every room and source address.
  const step = v3.length / Math.max(1, n);
  for (let i = 0; i < n; i++) v3[Math.floor(i * step)]!.drop();
  bump(ctx!.stats.resumes, 'dropped', n);
}

async function finish(lastOffset: number, sentBySender: Record<string, number>): Promise<void> {
  const c = ctx!;
  for (const cl of clients) cl.finish(lastOffset, sentBySender);
  c.stopping = true;
  await Promise.all(clients.map((cl) => cl.close()));
  c.stats.neverConnected = clients.filter((cl) => !cl.opened).length;
  for (const cl of clients) if (cl.opened) addToSpread(cl.version === 3 ? c.stats.pingsV3 : c.stats.pingsV2, cl.pings);
  c.stats.latencyHist = encodeHist(c.latency);
  c.stats.closeSinceOpenHist = encodeHist(c.closeSinceOpen);
  c.stats.closeSinceRxHist = encodeHist(c.closeSinceRx);
  post({ type: 'final', workerId: c.config.workerId, stats: c.stats });
  clients = [];
  setTimeout(() => process.exit(0), 200);
}

process.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'start':
      return start(msg.config);
    case 'traffic':
      return traffic(msg.on);
    case 'drop':
      return drop(msg.share);
    case 'finish':
      void finish(msg.lastOffset, msg.sentBySender);
      return;
  }
});
// The driver owns the run: if it goes away (crash, Ctrl-C), so do we.
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => undefined);
