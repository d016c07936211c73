/**
 * Memory a connection keeps, after garbage collection: raw `ws` next to wsgate (a session per
 * connection, rooms of 10). The server runs in its own process with --expose-gc.
 * Usage: npm run build && node dist/load/bench/memory.js [--clients N]
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { createGateway } from '../../src/index.js';

type Sample = { heap: number; rss: number };

async function serve(mode: string): Promise<void> {
  let port: number;
  if (mode === 'ws') {
    const srv = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
    await new Promise((r) => srv.once('listening', r));
    // Answer the hello like a gateway would, so both clients see the same exchange.
    srv.on('connection', (s) => s.on('message', () => s.send('{"event":"system/init"}')));
    port = (srv.address() as { port: number }).port;
  } else {
    const gw = createGateway({ port: 0, host: '127.0.0.1', logLevel: 'silent', legacy: false });
    port = (await gw.listen()).port;
  }
  const gc = (globalThis as { gc?: () => void }).gc!;
  process.on('message', () => {
    gc();
    gc();
    const m = process.memoryUsage();
    process.send!({ heap: m.heapUsed, rss: m.rss });
  });
  process.send!(port);
}

async function measure(mode: string, n: number): Promise<Sample> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', mode], { execArgv: ['--expose-gc'] });
  const port = await new Promise<number>((r) => child.once('message', (m) => r(m as number)));
  const ask = (): Promise<Sample> => new Promise((r) => (child.once('message', (m) => r(m as Sample)), child.send('m')));
  const before = await ask();
  const sockets: WebSocket[] = [];
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`);
    sockets.push(ws);
    await new Promise<void>((resolve) => {
      ws.on('open', () => ws.send(JSON.stringify({ event: 'client/hello', payload: { room: `r${i % Math.ceil(n / 10)}` } })));
      ws.on('message', (d) => String(d).startsWith('{"event":"system/init"') && resolve());
    });
  }
  await new Promise((r) => setTimeout(r, 1000));
  const after = await ask();
  for (const ws of sockets) ws.terminate();
  child.kill();
  return { heap: (after.heap - before.heap) / n / 1024, rss: (after.rss - before.rss) / n / 1024 };
}

if (process.argv[2] === '--serve') {
  await serve(process.argv[3]!);
} else {
  const i = process.argv.indexOf('--clients');
  const n = i > 0 ? Number(process.argv[i + 1]) : 2000;
  if (process.argv.includes('--help') || !Number.isInteger(n) || n < 1) {
    process.stdout.write('Usage: node dist/load/bench/memory.js [--clients N]   memory kept per connection after GC, ws vs wsgate\n');
    process.exit(process.argv.includes('--help') ? 0 : 2);
  }
  const ws = await measure('ws', n);
  const gw = await measure('wsgate', n);
  process.stdout.write(`clients ${n}, after GC, per connection:\n`);
  process.stdout.write(`ws      heap ${ws.heap.toFixed(1)} KiB  rss ${ws.rss.toFixed(1)} KiB\n`);
  process.stdout.write(`wsgate  heap ${gw.heap.toFixed(1)} KiB  rss ${gw.rss.toFixed(1)} KiB  (${(gw.rss / ws.rss).toFixed(1)}x ws)\n`);
  process.exit(0);
}
