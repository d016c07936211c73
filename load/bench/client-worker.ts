/**
 * One bench client process (forked by load/bench/scenarios.ts): holds a slice of the connections, all from its own
 * source address, and runs the phases the parent asks for over IPC. Histograms go back HDR-encoded.
 */
import { encodeHist, newHistogram } from '../stats.js';
import { connectBench, type BenchConn } from './clients.js';
import type { BenchKind } from './servers.js';

/** Parent → worker commands. */
export type WorkerCommand =
  | { cmd: 'connect'; kind: BenchKind; port: number; count: number; localAddress: string; room: 'own' | 'default'; subscribe: boolean;
      /** Connections started per second by this worker; 0: as fast as `parallel` allows. */ rate: number; parallel: number; idBase: number }
  | { cmd: 'echo'; seconds: number }
  | { cmd: 'fanout-arm'; perClient: number }
  | { cmd: 'fanout-wait'; timeoutMs: number }
  | { cmd: 'storm'; timeoutMs: number }
  | { cmd: 'bytes' };

/** Worker → parent replies. */
export type WorkerReply =
  | { type: 'connected'; ok: number; failed: number; hist: string; firstStart: number; lastStart: number; lastReady: number; firstError?: string }
  | { type: 'echo'; hist: string; count: number }
  | { type: 'armed' }
  | { type: 'fanout'; hist: string; delivered: number; lastAt: number }
  | { type: 'storm'; ok: number; failed: number; lastReady: number; hist: string; firstError?: string }
  | { type: 'bytes'; max: number; sum: number; clients: number }
  | { type: 'error'; message: string };

const nowMs = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const conns: BenchConn[] = [];
const reply = (m: WorkerReply): void => void process.send?.(m);

/** Microseconds, at least 1 (HDR histograms take positive integers). */
const us = (ms: number): number => Math.max(1, Math.round(ms * 1000));

async function connect(c: Extract<WorkerCommand, { cmd: 'connect' }>): Promise<void> {
  const hist = newHistogram();
  let ok = 0;
  let failed = 0;
  let lastReady = 0;
  let lastStart = 0;
  let firstError: string | undefined;
  const firstStart = nowMs();
  const interval = c.rate > 0 ? 1000 / c.rate : 0;
  let next = 0;
  const one = async (i: number): Promise<void> => {
    try {
      const room = c.room === 'own' ? `r${c.idBase + i}` : undefined;
      const conn = await connectBench(c.kind, c.port, { localAddress: c.localAddress, room, subscribe: c.subscribe });
      conns.push(conn);
      hist.recordValue(us(conn.helloToInitMs));
      lastReady = nowMs();
      ok++;
    } catch (err) {
      failed++;
      firstError ??= String(err);
    }
  };
  const lane = async (): Promise<void> => {
    while (next < c.count) {
      const i = next++;
      if (interval > 0) {
        const due = firstStart + i * interval;
        if (due > nowMs()) await sleep(due - nowMs());
      }
      lastStart = nowMs();
      await one(i);
    }
  };
  // Paced connects (the join scenario) must not wait on each other: a lane per in-flight connection.
  const lanes = interval > 0 ? Math.min(c.count, 2000) : Math.min(c.count, c.parallel);
  await Promise.all(Array.from({ length: lanes }, lane));
  reply({ type: 'connected', ok, failed, hist: encodeHist(hist), firstStart, lastStart, lastReady, ...(firstError !== undefined ? { firstError } : {}) });
}

async function echo(seconds: number): Promise<void> {
  const hist = newHistogram();
  const end = nowMs() + seconds * 1000;
  await Promise.all(conns.map(async (c) => {
    while (nowMs() < end) {
      const t = nowMs();
      await c.echo();
      hist.recordValue(us(nowMs() - t));
    }
  }));
  reply({ type: 'echo', hist: encodeHist(hist), count: hist.totalCount });
}

let fanoutDone: Promise<void> = Promise.resolve();
const fanHist = newHistogram();
let fanLast = 0;

function arm(perClient: number): void {
  fanHist.reset();
  const expected = perClient * conns.length;
  fanoutDone = new Promise((resolve) => {
    if (expected === 0) resolve();
    for (const c of conns) c.onFanout((sentAt) => {
      const now = nowMs();
      fanHist.recordValue(us(now - sentAt));
      fanLast = now;
      if (fanHist.totalCount === expected) resolve();
    });
  });
  reply({ type: 'armed' });
}

async function storm(timeoutMs: number): Promise<void> {
  const hist = newHistogram();
  let ok = 0;
  let lastReady = 0;
  let firstError: string | undefined;
  const all = Promise.all(conns.map(async (c) => {
    try {
      await c.reconnect();
      hist.recordValue(us(c.helloToInitMs));
      lastReady = nowMs();
      ok++;
    } catch (err) {
      firstError ??= String(err); // counted below as not resumed; the first reason goes to the parent's log
    }
  }));
  await Promise.race([all, sleep(timeoutMs)]);
  reply({ type: 'storm', ok, failed: conns.length - ok, lastReady, hist: encodeHist(hist), ...(firstError !== undefined ? { firstError } : {}) });
}

process.on('message', (m: WorkerCommand) => {
  const run = async (): Promise<void> => {
    if (m.cmd === 'connect') await connect(m);
    else if (m.cmd === 'echo') await echo(m.seconds);
    else if (m.cmd === 'fanout-arm') arm(m.perClient);
    else if (m.cmd === 'fanout-wait') {
      await Promise.race([fanoutDone, sleep(m.timeoutMs)]);
      reply({ type: 'fanout', hist: encodeHist(fanHist), delivered: fanHist.totalCount, lastAt: fanLast });
    } else if (m.cmd === 'storm') await storm(m.timeoutMs);
    else if (m.cmd === 'bytes') {
      reply({ type: 'bytes', max: Math.max(0, ...conns.map((c) => c.bytes)), sum: conns.reduce((a, c) => a + c.bytes, 0), clients: conns.length });
    }
  };
  run().catch((err: unknown) => reply({ type: 'error', message: String(err) }));
});
process.on('disconnect', () => process.exit(0));
