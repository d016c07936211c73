/**
 * Memory under abuse, measured on the real `wsgate` command (issue 11): sessions dropped without a close
 * frame, a steady stream of hostile connections, channels published without subscribers. The gateway runs
 * with a full GC every second (`--expose-gc`, measurement only) so heap figures are what is really held.
 *
 *   npm run build && node dist/load/memory-abuse.js drop    [--clients 1500] [--rooms 1]
 *   npm run build && node dist/load/memory-abuse.js stream  [--seconds 180] [--rate 40] [--room-size 100]
 *   npm run build && node dist/load/memory-abuse.js channels [--channels 3000]
 *   npm run build && node dist/load/memory-abuse.js history [--seconds 30] [--size 60000]   (-- --redis URL: Redis's memory too)
 *   (--bin PATH runs another build of dist/bin/wsgate.js; anything after `--` goes to the gateway)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import WebSocket from 'ws';

interface Gw {
  child: ChildProcess;
  port: number;
}

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const own = dash < 0 ? args : args.slice(0, dash);
const gatewayFlags = dash < 0 ? [] : args.slice(dash + 1);
const flag = (name: string, def: number): number => {
  const i = own.indexOf(`--${name}`);
  return i < 0 ? def : Number(own[i + 1]);
};
const bin = own.includes('--bin') ? own[own.indexOf('--bin') + 1]! : join(dirname(fileURLToPath(import.meta.url)), '../bin/wsgate.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);

function start(flags: string[]): Promise<Gw> {
  const gc = 'data:text/javascript,setInterval(()=>globalThis.gc(),1000).unref()';
  const child = spawn(process.execPath, ['--expose-gc', '--import', gc, bin, '--port', '0', '--host', '127.0.0.1', ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)[^\n]*"wsgate listening"|"wsgate listening"[^\n]*"port":(\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1] ?? m[2]) });
    });
    child.once('exit', (code) => reject(new Error(`gateway exited ${code}: ${out.slice(-2000)}`)));
  });
}

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

/** GET on a fresh connection (no keep-alive: a reused socket the server just timed out would reset). */
function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
  });
}

async function metrics(port: number): Promise<(name: string, labels?: string) => number> {
  const text = await get(port, '/metrics');
  return (name, labels = '') => {
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
    return line ? Number(line.split(' ').pop()) : 0;
  };
}

interface Sample {
  rss: number;
  heap: number;
  replay: number;
  connected: number;
  disconnected: number;
  evicted: number;
  healthzMs: number;
}

async function sample(gw: Gw): Promise<Sample> {
  const t = Date.now();
  await get(gw.port, '/healthz');
  const healthzMs = Date.now() - t;
  const m = await metrics(gw.port);
  return {
    rss: rss(gw.child.pid!),
    heap: m('wsgate_nodejs_heap_size_used_bytes'),
    replay: m('wsgate_replay_buffer_bytes'),
    connected: m('wsgate_sessions', 'state="connected"'),
    disconnected: m('wsgate_sessions', 'state="disconnected"'),
    evicted: m('wsgate_sessions_evicted_total'),
    healthzMs,
  };
}

/** Open a v3 client, say hello in `room`, resolve once system/init came (the client never acks). */
function client(port: number, room: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, { perMessageDeflate: false });
    ws.once('open', () => ws.send(JSON.stringify({ event: 'client/hello', payload: { room, profile: { name: 'x' } } })));
    ws.on('message', (d) => {
      if (d.toString().startsWith('{"event":"system/init"')) resolve(ws);
    });
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`closed ${code} before init`)));
  });
}

const row = (label: string, s: Sample): string =>
  `| ${label} | ${mib(s.rss)} | ${mib(s.heap)} | ${mib(s.replay)} | ${s.connected} | ${s.disconnected} | ${s.evicted} | ${s.healthzMs} |`;
const HEAD = '| when | RSS MiB | heap used MiB | wsgate_replay_buffer_bytes MiB | connected | disconnected | evicted | /healthz ms |\n|---|---|---|---|---|---|---|---|';

async function drop(gw: Gw): Promise<void> {
  const n = flag('clients', 1500);
  const rooms = flag('rooms', 1);
  await sleep(3000);
  const base = await sample(gw);
  const open: WebSocket[] = [];
  for (let i = 0; i < n; i += 50) {
    open.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, k) => client(gw.port, `room-${(i + k) % rooms}`)))));
  }
  await sleep(3000);
  const up = await sample(gw);
  for (const ws of open) ws.terminate(); // no close frame
  // Every session is either waiting for a resume or was evicted by the disconnected budget.
  for (let s = await sample(gw); s.disconnected + s.evicted < n; s = await sample(gw)) await sleep(500);
  await sleep(5000);
  const down = await sample(gw);
  console.log(`${n} sessions in ${rooms} room(s), dropped without a close frame\n\n${HEAD}`);
  console.log([row('before', base), row(`${n} connected`, up), row(`${n} dropped, +5 s`, down)].join('\n'));
  const per = (x: number): string => `${((x / n) / 1024).toFixed(1)} KiB`;
  console.log(`\nper dropped session: RSS growth ${per(down.rss - base.rss)}, heap growth ${per(down.heap - base.heap)}, wsgate_replay_buffer_bytes ${per(down.replay)}`);
}

async function stream(gw: Gw): Promise<void> {
  const seconds = flag('seconds', 180);
  const rate = flag('rate', 40);
  const roomSize = flag('room-size', 100);
  await sleep(3000);
  console.log(`hostile stream: ${rate} connections/s for ${seconds} s (hello in rooms of ${roomSize}, then dropped without a close frame), plus ${rate / 4}/s that never say hello\n\n${HEAD}`);
  console.log(row('0 s', await sample(gw)));
  const end = Date.now() + seconds * 1000;
  let made = 0;
  let next = Date.now() + 15_000;
  let failed = 0;
  while (Date.now() < end) {
    const tick = Date.now();
    for (let i = 0; i < rate; i++) {
      const room = `h-${Math.floor(made++ / roomSize)}`;
      client(gw.port, room).then((ws) => ws.terminate(), () => failed++);
    }
    for (let i = 0; i < rate / 4; i++) {
      const silent = new WebSocket(`ws://127.0.0.1:${gw.port}/api/ws`);
      silent.on('error', () => undefined);
      setTimeout(() => silent.terminate(), 8000); // after the 5 s hello timeout
    }
    if (Date.now() >= next) {
      console.log(row(`${Math.round((Date.now() - end) / 1000 + seconds)} s`, await sample(gw)));
      next += 15_000;
    }
    await sleep(Math.max(0, 1000 - (Date.now() - tick)));
  }
  await sleep(10_000);
  console.log(row('stream over, +10 s', await sample(gw)));
  console.log(`\n${made} hostile sessions made, ${failed} refused or failed`);
}

async function channels(gw: Gw): Promise<void> {
  const n = flag('channels', 3000);
  await sleep(3000);
  const base = await sample(gw);
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, k) =>
        fetch(`http://127.0.0.1:${gw.port}/api/publish`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ channel: `c-${i + k}`, data: 'd'.repeat(200) }),
        }),
      ),
    );
  }
  await sleep(2000);
  const full = await sample(gw);
  const ttl = Number(gatewayFlags[gatewayFlags.indexOf('--history-ttl') + 1] ?? 300);
  await sleep((ttl + 3) * 1000);
  const after = await sample(gw);
  console.log(`${n} channels published to (one message of 200 B each) without subscribers, --history-ttl ${ttl}\n\n${HEAD}`);
  console.log([row('before', base), row(`${n} channels published`, full), row(`history_ttl + 3 s`, after)].join('\n'));
}

/** One connection publishing big messages, each to a channel of its own making, as fast as the socket takes them. */
async function history(gw: Gw): Promise<void> {
  const seconds = flag('seconds', 30);
  const size = flag('size', 60_000);
  // With `-- --redis URL` the history is in Redis: its memory is read too.
  const url = gatewayFlags.includes('--redis') ? gatewayFlags[gatewayFlags.indexOf('--redis') + 1] : undefined;
  const redis = url ? new Redis(url) : undefined;
  await sleep(3000);
  const base = await sample(gw);
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/api/ws`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ event: 'client/hello', payload: {} }));
  const data = 'x'.repeat(size);
  let sent = 0;
  const pump = setInterval(() => {
    if (ws.bufferedAmount > 4_000_000) return;
    for (let i = 0; i < 50; i++) ws.send(JSON.stringify({ event: 'channel/publish', payload: { channel: `hog.${sent++}`, data } }));
  }, 5);
  const rows = [row('before', base)];
  const held: string[] = [];
  const died = new Promise<string>((resolve) => gw.child.once('exit', (code, signal) => resolve(`gateway exited (${code ?? signal})`)));
  for (let t = 5; t <= seconds; t += 5) {
    const outcome = await Promise.race([sleep(5000).then(() => ''), died]);
    if (outcome) {
      rows.push(`| ${t} s: ${outcome} after ${sent} messages | | | | | | | |`);
      break;
    }
    rows.push(row(`${t} s, ${sent} sent`, await sample(gw)));
    const m = await metrics(gw.port);
    const inRedis = redis ? `, Redis used_memory ${mib(Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]))} MiB` : '';
    held.push(`${t} s: ${mib(m('wsgate_channel_history_bytes'))} MiB held, ${m('wsgate_channel_history_dropped_total')} dropped${inRedis}`);
  }
  clearInterval(pump);
  ws.terminate();
  redis?.disconnect();
  console.log(`one connection publishing ${size}-byte messages, each to a new channel, for ${seconds} s\n\n${HEAD}`);
  console.log(rows.join('\n'));
  if (held.length) console.log(`\nwsgate_channel_history_bytes / _dropped_total: ${held.join('; ')}`);
}

const scenario = own[0];
const run = { drop, stream, channels, history }[scenario as 'drop' | 'stream' | 'channels' | 'history'];
if (!run) {
  console.error('usage: memory-abuse drop|stream|channels|history [--clients N] [--rooms N] [--seconds S] [--rate N] [--room-size N] [--channels N] [--size BYTES] [--bin PATH] [-- gateway flags]');
  process.exit(2);
}
const gw = await start(gatewayFlags);
try {
  await run(gw);
} finally {
  if (gw.child.exitCode === null && gw.child.signalCode === null) gw.child.kill('SIGKILL');
}
process.exit(0);
