/**
 * Deliveries/s of a channel fan-out: one gateway process in memory against two gateway processes
 * sharing a Redis, same clients, same publishes. The gateways are the real command (dist/bin/wsgate.js),
 * each its own process; the clients run here, spread evenly over the gateways.
 * Run: `npm run build && node dist/load/redis-fanout.js --redis redis://127.0.0.1:6379 [--clients 400] [--messages 200]
 * [--ack-every N]` (an empty Redis; keep clients ≤ 500 on a shared machine). Without --ack-every the sessions are
 * `resumable: false` and never ack (the replay buffers fill); with it they are resumable and send `client/ack` every
 * N messages, as the SDK does (its `ackEvery` is 50).
 */
import WebSocket from 'ws';
import type { GatewayOptions } from '../src/config.js';
import { startGatewayChild, type GatewayChild } from './processes.js';
import { scriptArg } from './script-arg.js';

const arg = (name: string, fallback?: string): string => scriptArg('usage: redis-fanout --redis URL [--clients N] [--messages N] [--ack-every N]', name, fallback);

const startGateway = (options: Partial<GatewayOptions>): Promise<GatewayChild> =>
  startGatewayChild({ legacy: false, pingInterval: 0, heartbeatInterval: 0, ...options });

/** `"seq":N` of a frame (the gateway writes it unspaced), 0 if none. */
function seqOf(text: string): number {
  const at = text.indexOf('"seq":');
  return at < 0 ? 0 : parseInt(text.slice(at + 6, at + 20), 10) || 0;
}

async function subscriber(port: number, channel: string, room: string, ackEvery: number, onMessage: () => void): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`);
  let unacked = 0;
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.includes('"system/init"')) ws.send(JSON.stringify({ event: 'channel/subscribe', payload: { channel } }));
      else if (text.includes('"channel/subscribed"')) resolve();
      else if (text.includes('"channel/message"')) {
        onMessage();
        if (ackEvery > 0 && ++unacked >= ackEvery) {
          unacked = 0;
          ws.send(`{"event":"client/ack","payload":{"seq":${seqOf(text)}}}`);
        }
      }
    });
    ws.once('open', () => ws.send(JSON.stringify({ event: 'client/hello', payload: { resumable: ackEvery > 0, room } })));
  });
  return ws;
}

async function run(label: string, gatewayArgs: Partial<GatewayOptions>[], clients: number, messages: number, ackEvery: number): Promise<number> {
  const gws = await Promise.all(gatewayArgs.map((o) => startGateway(o)));
  let got = 0;
  let done: () => void = () => undefined;
  const all = new Promise<void>((r) => (done = r));
  const total = clients * messages;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < clients; i++) {
    // A room each: this measures the channel fan-out, not presence.
    sockets.push(await subscriber(gws[i % gws.length]!.port, 'bench', `r${i}`, ackEvery, () => ++got === total && done()));
  }
  const t0 = process.hrtime.bigint();
  // Publishes alternate over the gateways, a few in flight at a time.
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < messages; i++) {
    const port = gws[i % gws.length]!.port;
    pending.push(fetch(`http://127.0.0.1:${port}/api/publish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'bench', data: { i, text: 'a message of about sixty bytes, as chat apps send' } }) }));
    if (pending.length >= 8) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await Promise.race([all, new Promise((r) => setTimeout(r, 60_000))]);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const rate = got / seconds;
  console.log(`${label.padEnd(40)} ${got}/${total} deliveries in ${seconds.toFixed(2)} s = ${Math.round(rate)}/s`);
  for (const s of sockets) s.terminate();
  for (const g of gws) g.child.kill('SIGKILL');
  return rate;
}

async function main(): Promise<void> {
  const redis = arg('redis');
  const clients = Number(arg('clients', '400'));
  const messages = Number(arg('messages', '200'));
  const ackEvery = Number(arg('ack-every', '0'));
  const memory = await run('one process, in memory', [{}], clients, messages, ackEvery);
  const shared = await run('two processes + Redis', [{ redis }, { redis }], clients, messages, ackEvery);
  console.log(`ratio (two + Redis / one in memory)       ${(shared / memory).toFixed(2)}`);
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
