/**
 * Benchmark servers, one per process (forked by load/bench/run.ts with the kind as argv[2]): `ws`, `socketio` or
 * `wsgate`. Each offers the same two workloads:
 *   echo    — a client message comes straight back to its sender;
 *   fan-out — `GET /fanout?n=K` makes the server send K messages `{t, k}` to every connected client.
 * The port goes back over IPC.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as IoServer } from 'socket.io';
import { WebSocketServer, WebSocket } from 'ws';
import { createGateway } from '../../src/index.js';

/** Which server a bench process runs. */
export type BenchKind = 'ws' | 'socketio' | 'wsgate';

const nowMs = (): number => performance.timeOrigin + performance.now();

function fanoutCount(url: string | undefined): number {
  return Number(new URL(url ?? '/', 'http://x').searchParams.get('n') ?? 1);
}

async function rawWs(): Promise<number> {
  const server = http.createServer((req, res) => {
    const n = fanoutCount(req.url);
    for (let k = 0; k < n; k++) {
      const msg = JSON.stringify({ t: nowMs(), k });
      for (const c of wss.clients) if (c.readyState === WebSocket.OPEN) c.send(msg);
    }
    res.end('ok');
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(m, { binary: false })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function socketIo(): Promise<number> {
  const server = http.createServer();
  const io = new IoServer(server, { transports: ['websocket'], perMessageDeflate: false });
  io.on('connection', (s) => s.on('echo', (p: unknown) => s.emit('echo', p)));
  // socket.io answers its own path; the fan-out trigger is any other request.
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/socket.io')) return;
    const n = fanoutCount(req.url);
    for (let k = 0; k < n; k++) io.emit('msg', { t: nowMs(), k });
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

async function wsgate(): Promise<number> {
  // Liveness at its defaults: what users run. Fan-out goes through a channel, as an application would do it.
  const gw = createGateway({ port: 0, host: '127.0.0.1', logLevel: 'warn', legacy: false, processMetrics: false });
  gw.handle('bench/echo', (ctx) => ctx.reply('bench/echo', ctx.payload));
  gw.route('GET', '/fanout', async (req, res) => {
    const n = fanoutCount(req.url);
    for (let k = 0; k < n; k++) await gw.publish('bench', { t: nowMs(), k });
    res.end('ok');
  });
  const { port } = await gw.listen();
  return port;
}

const kind = process.argv[2] as BenchKind;
const start = { ws: rawWs, socketio: socketIo, wsgate }[kind];
start()
  .then((port) => process.send?.({ type: 'ready', port }))
  .catch((err: unknown) => {
    process.stderr.write(`bench server ${kind}: ${String(err)}\n`);
    process.exit(1);
  });
process.on('disconnect', () => process.exit(0));
