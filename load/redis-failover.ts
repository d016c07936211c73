/**
 * Failover storm: N clients on process A of two sharing a Redis; the backend sends each session
 * messages through process B's API before, during and after `kill -9` of A; every client resumes
 * on B at once. Prints the time until all resumed and, over all clients, messages lost and
 * duplicated (by payload, across both connections). Exit 0 when 0 lost and 0 duplicated.
 * Run: `npm run build && node dist/load/redis-failover.js --redis redis://127.0.0.1:6379 [--clients 500] [--messages 6]`
 */
import WebSocket from 'ws';
import { startGatewayChild, type GatewayChild } from './processes.js';
import { scriptArg } from './script-arg.js';

interface Client {
  id: string;
  token: string;
  lastSeq: number;
  got: number[];
}

const arg = (name: string, fallback?: string): string => scriptArg('usage: redis-failover --redis URL [--clients N] [--messages N]', name, fallback);

const gateway = (redis: string): Promise<GatewayChild> => startGatewayChild({ redis, legacy: false });

/** Open a connection for `c` (a new session, or a resume), collecting `app/n` payloads; resolves at system/init. */
function connect(port: number, c: Client, room: string, resume: boolean): Promise<Record<string, unknown>> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`);
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.on('error', () => undefined); // the killed process's sockets reset
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as { event: string; seq?: number; payload: Record<string, unknown> };
      if (f.seq !== undefined) c.lastSeq = f.seq;
      if (f.event === 'system/init') resolve(f.payload);
      else if (f.event === 'app/n') c.got.push(f.payload.n as number);
    });
    const hello = resume ? { resume: { session_id: c.id, resume_token: c.token, last_seq: c.lastSeq } } : { room };
    ws.once('open', () => ws.send(JSON.stringify({ event: 'client/hello', payload: hello })));
  });
}

async function send(port: number, c: Client, n: number): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${port}/api/sessions/${c.id}/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event: 'app/n', payload: { n } }) });
  if (r.status !== 202) throw new Error(`send ${n} to ${c.id}: HTTP ${r.status}`);
}

async function main(): Promise<void> {
  const redis = arg('redis');
  const n = Number(arg('clients', '500'));
  const messages = Number(arg('messages', '6'));
  const [a, b] = [await gateway(redis), await gateway(redis)];
  const clients: Client[] = [];
  for (let i = 0; i < n; i++) {
    const c: Client = { id: '', token: '', lastSeq: 0, got: [] };
    const init = await connect(a.port, c, `r${i}`, false);
    c.id = init.session_id as string;
    c.token = init.resume_token as string;
    clients.push(c);
  }
  const half = Math.floor(messages / 2);
  for (let m = 1; m <= half; m++) await Promise.all(clients.map((c) => send(b.port, c, m)));
  const sending = (async () => {
    for (let m = half + 1; m <= messages; m++) await Promise.all(clients.map((c) => send(b.port, c, m)));
  })();
  a.child.kill('SIGKILL');
  const t0 = Date.now();
  const inits = await Promise.all(clients.map((c) => connect(b.port, c, '', true)));
  const allResumed = Date.now() - t0;
  await sending;
  await new Promise((r) => setTimeout(r, 1000));
  const resumed = inits.filter((i) => i.resumed === true).length;
  let lost = 0;
  let duplicated = 0;
  for (const c of clients) {
    const seen = new Set(c.got);
    duplicated += c.got.length - seen.size;
    for (let m = 1; m <= messages; m++) if (!seen.has(m)) lost++;
  }
  console.log(`clients ${n}, messages each ${messages} (half before the kill, half during)`);
  console.log(`resumed on the other process            ${resumed} / ${n}`);
  console.log(`time until all resumed                  ${allResumed} ms`);
  console.log(`lost / duplicated                       ${lost} / ${duplicated}`);
  b.child.kill('SIGKILL');
  process.exit(resumed === n && lost === 0 && duplicated === 0 ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
