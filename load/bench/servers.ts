/**
 * Benchmark servers, one per process (forked by load/bench/run.ts with the kind as argv[2], under --expose-gc):
 * `ws`, `socketio` or `wsgate`. Each speaks the same four things in its own way:
 *   hello     → init          (wsgate: client/hello → system/init; the others a one-frame equivalent)
 *   subscribe → subscribed    (wsgate: a channel; ws: a Set of sockets; Socket.IO: a room)
 *   echo      → the same payload back to the sender
 *   fan-out   → K messages `{t, k}` to every subscriber of `bench`, on the parent's IPC command.
 * The parent also asks over IPC for memory after GC, the longest event-loop block since the last reset, and heap
 * snapshots. The port goes back over IPC.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { Server as IoServer } from 'socket.io';
import { WebSocketServer, WebSocket } from 'ws';
import { createGateway } from '../../src/index.js';
import { LoopGaps } from './loop-gaps.js';

/** Which server a bench process runs. */
export type BenchKind = 'ws' | 'socketio' | 'wsgate';

/** Parent → server commands. */
export type ServerCommand =
  | { cmd: 'mem' }
  | { cmd: 'loop-reset' }
  | { cmd: 'loop' }
  | { cmd: 'fanout'; n: number }
  /** Hold the loop for `ms` in one synchronous busy wait: a known block, to check the loop figure against. */
  | { cmd: 'block'; ms: number }
  | { cmd: 'snapshot'; file: string };

/** Server → parent replies (one per command, in order). */
export type ServerReply =
  | { type: 'ready'; port: number }
  | { type: 'mem'; heap: number; rss: number }
  | {
      type: 'loop';
      /** Longest gap between runs of a 1 ms timer, beyond the 1 ms (load/bench/loop-gaps.ts). */
      maxBlockMs: number;
      /** The process's CPU time within its longest-CPU gap: the block without the time the OS gave to others. */
      maxBlockCpuMs: number;
      blocksOver10Ms: number;
      /** perf_hooks.monitorEventLoopDelay's max over the same window, for comparison only. */
      eldMaxMs: number;
      maxGcMs: number;
      /** wsgate: how late the liveness wheels (pings, heartbeats) ran against their schedule, ms; -1 for the others. */
      pingLateMs: number;
      heartbeatLateMs: number;
    }
  | { type: 'done' };

const nowMs = (): number => performance.timeOrigin + performance.now();
/** A reconnect storm arrives at once; every server gets the same accept backlog (the kernel caps it at somaxconn). */
const BACKLOG = 4096;

type Fanout = (n: number) => Promise<void>;
/** wsgate only: the liveness wheels' lateness since the last read (ms, by layer); the others have none. */
type Lateness = () => Promise<{ transport: number; app: number }>;
interface Started {
  port: number;
  fanout: Fanout;
  lateness?: Lateness;
}

function listen(server: http.Server): Promise<number> {
  return new Promise((r) => server.listen({ port: 0, host: '127.0.0.1', backlog: BACKLOG }, () => r((server.address() as AddressInfo).port)));
}

async function rawWs(): Promise<Started> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  const subscribers = new Set<WebSocket>();
  wss.on('connection', (ws) => {
    ws.on('message', (m) => {
      const text = String(m);
      if (text.startsWith('{"event":"echo"')) ws.send(text);
      else if (text.startsWith('{"event":"hello"')) ws.send('{"event":"init"}');
      else if (text.startsWith('{"event":"sub"')) {
        subscribers.add(ws);
        ws.send('{"event":"subscribed"}');
      }
    });
    ws.on('close', () => subscribers.delete(ws));
  });
  const fanout: Fanout = async (n) => {
    // The same pre-encoded frame to every subscriber: the floor any gateway is measured against.
    for (let k = 0; k < n; k++) {
      const msg = JSON.stringify({ event: 'msg', t: nowMs(), k });
      for (const c of subscribers) if (c.readyState === WebSocket.OPEN) c.send(msg);
    }
  };
  return { port: await listen(server), fanout };
}

async function socketIo(): Promise<Started> {
  const server = http.createServer();
  const io = new IoServer(server, { transports: ['websocket'], perMessageDeflate: false, serveClient: false });
  io.on('connection', (s) => {
    s.on('hello', () => s.emit('init', {}));
    s.on('sub', () => {
      void s.join('bench');
      s.emit('subscribed', {});
    });
    s.on('echo', (p: unknown) => s.emit('echo', p));
  });
  const fanout: Fanout = async (n) => {
    for (let k = 0; k < n; k++) io.to('bench').emit('msg', { t: nowMs(), k });
  };
  return { port: await listen(server), fanout };
}

async function wsgate(): Promise<Started> {
  // Both liveness layers at their defaults, process metrics on: what users run. Fan-out goes through a channel, as
  // an application would do it (history, replay buffers and all).
  // The bench's clients come from a few loopback addresses (6,000 connections each): no per-address bound.
  const gw = createGateway({ port: 0, host: '127.0.0.1', logLevel: 'warn', legacy: false, maxConnectionsPerIp: 0 });
  gw.handle('bench/echo', (ctx) => ctx.reply('bench/echo', ctx.payload));
  const { port } = await gw.listen();
  const fanout: Fanout = async (n) => {
    for (let k = 0; k < n; k++) await gw.publish('bench', { t: nowMs(), k });
  };
  // Read (and reset) through the gateway's own metric, as a Prometheus scrape would.
  const lateness: Lateness = async () => {
    const metric = gw.metrics.registry.getSingleMetric('wsgate_liveness_lateness_max_seconds');
    const got = metric ? await metric.get() : { values: [] };
    const by = (layer: string): number => (got.values.find((v) => v.labels.layer === layer)?.value ?? 0) * 1000;
    return { transport: by('transport'), app: by('app') };
  };
  return { port, fanout, lateness };
}

const kind = process.argv[2] as BenchKind;
const gaps = new LoopGaps();
const eld = monitorEventLoopDelay({ resolution: 1 });
eld.enable();
/** The longest GC pause since the last reset: tells a GC from the code itself when the loop was held. */
let maxGcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) maxGcMs = Math.max(maxGcMs, e.duration);
}).observe({ entryTypes: ['gc'] });
const send = (m: ServerReply): void => void process.send?.(m);

async function main(): Promise<void> {
  const { port, fanout, lateness } = await { ws: rawWs, socketio: socketIo, wsgate }[kind]();
  const gc = (globalThis as { gc?: () => void }).gc;
  process.on('message', (m: ServerCommand) => {
    if (m.cmd === 'mem') {
      gc?.();
      gc?.();
      const u = process.memoryUsage();
      send({ type: 'mem', heap: u.heapUsed, rss: u.rss });
    } else if (m.cmd === 'loop-reset') {
      gaps.reset();
      eld.reset();
      maxGcMs = 0;
      void (lateness?.() ?? Promise.resolve()).then(() => send({ type: 'done' }));
    } else if (m.cmd === 'loop') {
      const g = gaps.read();
      void (lateness?.() ?? Promise.resolve({ transport: -1, app: -1 })).then((late) => {
        send({ type: 'loop', ...g, eldMaxMs: eld.max / 1e6, maxGcMs, pingLateMs: late.transport, heartbeatLateMs: late.app });
      });
    } else if (m.cmd === 'block') {
      const end = performance.now() + m.ms;
      while (performance.now() < end);
      send({ type: 'done' });
    } else if (m.cmd === 'fanout') {
      void fanout(m.n).then(() => send({ type: 'done' }));
    } else if (m.cmd === 'snapshot') {
      gc?.();
      v8.writeHeapSnapshot(m.file);
      send({ type: 'done' });
    }
  });
  send({ type: 'ready', port });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench server ${kind}: ${String(err)}\n`);
  process.exit(1);
});
process.on('disconnect', () => process.exit(0));
// The parent ends a server with SIGTERM: exit normally, so a `--cpu-prof` run still writes its profile.
process.on('SIGTERM', () => process.exit(0));
