import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { api, until } from '../support/http-api.js';
import { startRedis, type RedisHandle } from '../support/redis.js';
import { TestClient } from '../support/ws-client.js';
import { buildBin, startWsgate, type WsgateProcess } from '../support/wsgate-process.js';

// The real `wsgate` command, several processes on one real redis-server, as an operator runs them.
jest.setTimeout(90_000);

let redis: RedisHandle;
let procs: WsgateProcess[] = [];
let clients: TestClient[] = [];
let beating: NodeJS.Timeout | undefined;

const gateway = async (...extra: string[]): Promise<WsgateProcess> => {
  const p = await startWsgate(['--redis', redis.url, '--legacy', 'false', '--session-ttl', '60', ...extra]);
  procs.push(p);
  return p;
};
const client = (p: WsgateProcess): TestClient => {
  const c = new TestClient(`ws://127.0.0.1:${p.port}/api/ws`);
  clients.push(c);
  return c;
};

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(() => {
  clearInterval(beating);
  for (const c of clients) c.kill();
  for (const p of procs) p.kill();
  clients = [];
  procs = [];
});

test('kill -9 mid-stream: the client resumes on another process with seq continuing, every API message once and in order; the room sees a dead process\'s session disconnected within 30 s', async () => {
  const [p1, p2] = [await gateway(), await gateway()];
  const a = client(p1);
  const ia = await a.hello({ room: 'k' });
  const idle = client(p1); // never comes back
  const iIdle = await idle.hello({ room: 'k' });
  const watcher = client(p2);
  await watcher.hello({ room: 'k' });

  // The backend streams 200 messages to `a` through process 2's API while process 1, which holds `a`, is killed.
  const total = 200;
  let accepted = 0;
  const streaming = (async () => {
    for (let n = 1; n <= total; n++) {
      const r = await api(p2.base, 'POST', `/api/sessions/${ia.session_id}/send`, { event: 'app/n', payload: { n } });
      expect(r.status).toBe(202);
      accepted++;
    }
  })();
  await until(() => a.all('app/n').length >= 50, 10_000, 'first messages');
  p1.child.kill('SIGKILL');
  await p1.exited;
  const seen = a.lastSeq;
  const before = a.all('app/n').map((f) => (f.payload as { n: number }).n);

  const a2 = client(p2);
  const init = await a2.hello({ resume: { session_id: ia.session_id, resume_token: ia.resume_token, last_seq: seen } });
  expect(init).toMatchObject({ resumed: true, session_id: ia.session_id });
  await streaming;
  expect(accepted).toBe(total);
  await until(() => a2.all('app/n').length + before.length >= total, 10_000, 'every message');
  const after = a2.all('app/n');
  const all = [...before, ...after.map((f) => (f.payload as { n: number }).n)];
  expect(all).toEqual(Array.from({ length: total }, (_, i) => i + 1)); // 0 lost, 0 duplicated, in order
  const seqs = a2.frames.filter((f) => f.seq !== undefined).map((f) => f.seq!);
  expect(seqs[0]).toBe(seen + 1);
  expect(seqs).toEqual(seqs.map((_, i) => seen + 1 + i));

  const t0 = Date.now();
  const gone = await watcher.next((f) => f.event === 'session/state' && (f.payload as { id: string }).id === iIdle.session_id, 30_000);
  expect(gone.payload).toEqual({ id: iIdle.session_id, is_connected: false });
  expect(Date.now() - t0).toBeLessThan(30_000);
});

test('Redis outage: /readyz 503, new hellos closed 1013, open connections stay up with both liveness layers, no exit; all normal again when Redis is back', async () => {
  const p = await gateway('--ping-interval', '0.5', '--ping-timeout', '2', '--heartbeat-interval', '1');
  const open = client(p);
  await open.hello({ room: 'o' });
  // Answer the application heartbeat the way the SDK does, all along.
  beating = setInterval(() => open.send('client/heartbeat'), 300);
  expect((await api(p.base, 'GET', '/readyz')).status).toBe(200);
  await redis.kill();
  try {
    await until(async () => (await api(p.base, 'GET', '/readyz')).status === 503, 10_000, 'readyz 503');
    const refused = client(p);
    await refused.open();
    refused.send('client/hello', {});
    expect((await refused.closed).code).toBe(1013);
    const pings = open.pings.length;
    const beats = open.all('system/heartbeat').length;
    await new Promise((r) => setTimeout(r, 3000)); // 3 s of outage
    expect(open.pings.length).toBeGreaterThan(pings);
    expect(open.all('system/heartbeat').length).toBeGreaterThan(beats);
    expect(open.ws.readyState).toBe(open.ws.OPEN);
    expect(p.child.exitCode).toBeNull();
  } finally {
    await redis.start();
  }
  await until(async () => (await api(p.base, 'GET', '/readyz')).status === 200, 15_000, 'readyz 200 again');
  // The open session was put back into the empty Redis: it is reachable again, seq continuing.
  const late = client(p);
  const il = await late.hello({ room: 'o' });
  expect(il.sessions).toHaveLength(2);
  const joined = await open.next('session/joined', 5000);
  expect((joined.payload as { id: string }).id).toBe(il.session_id);
  expect(open.ws.readyState).toBe(open.ws.OPEN);
});

test('--workers 2 --redis: one port, /metrics aggregates both workers, SIGTERM drains all and exits 0; without --redis a clear error', async () => {
  const bad = startWsgate(['--workers', '2']);
  await expect(bad).rejects.toThrow(/--workers: needs --redis/);

  const p = await gateway('--workers', '2');
  const cs = Array.from({ length: 6 }, () => client(p));
  await Promise.all(cs.map((c, i) => c.hello({ room: `w${i}` })));
  const scraped = await api(p.base, 'GET', '/metrics');
  expect(scraped.status === 200 ? 200 : scraped.body).toBe(200); // on failure, shows why the merge failed
  const text = scraped.body as string;
  // Each worker reports its own open connections; the sum over the workers is every client.
  expect(text).toMatch(/^wsgate_connections\{transport="ws"\} 6$/m);
  p.child.kill('SIGTERM');
  const closes = await Promise.all(cs.map((c) => c.closed));
  expect(closes.map((c) => c.code)).toEqual(cs.map(() => 1012));
  const { code } = await p.exited;
  // On failure, shows what the primary and the workers logged as warnings or errors.
  expect({ code, trouble: p.logs.filter((l) => (l.level as number) >= 40) }).toEqual({ code: 0, trouble: [] });
});

test('--workers 2 --redis: a SIGTERM while the workers are still starting stops it cleanly (exit 0), not as a failed worker', async () => {
  // A deploy that stops a gateway it just started: the workers are still loading, before they could drain.
  const child = spawn(process.execPath, [await buildBin(), '--port', '0', '--host', '127.0.0.1', '--workers', '2', '--redis', redis.url, '--legacy', 'false'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | string | null>((res) => child.once('exit', (code, signal) => res(code ?? signal)));
  const lines: string[] = [];
  let pending = '';
  let sent = false;
  child.stdout.on('data', (d: Buffer) => {
    pending += d.toString();
    const parts = pending.split('\n');
    pending = parts.pop()!;
    lines.push(...parts);
    // The primary logs this right after forking the workers, which take hundreds of milliseconds to load.
    if (!sent && parts.some((l) => l.includes('"wsgate primary started"'))) {
      sent = true;
      child.kill('SIGTERM');
    }
  });
  try {
    expect(await exited).toBe(0);
    expect(lines.some((l) => l.includes('"worker stopped while starting"'))).toBe(true);
    expect(lines.filter((l) => /"level":[56]\d/.test(l))).toEqual([]);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

/** Pids whose parent is `ppid` (the cluster's workers). */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      // Field 4 of /proc/PID/stat, after the command name in parentheses.
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}
const openFiles = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

test('--workers 2: connections waiting for busy workers queue in the kernel, not in the primary, and are all served once the workers run again', async () => {
  const p = await gateway('--workers', '2');
  const primary = p.child.pid!;
  let workers: number[] = [];
  await until(() => (workers = childrenOf(primary)).length === 2);
  await until(() => p.logs.filter((l) => l.msg === 'wsgate listening').length === 2, 10_000, 'both workers listening');
  const before = openFiles(primary);
  // Workers that cannot run (a storm keeps them busy; here they are stopped outright).
  for (const w of workers) process.kill(w, 'SIGSTOP');
  const sockets: Socket[] = [];
  try {
    const connected = Array.from({ length: 300 }, () => new Promise<void>((res, rej) => {
      const s = connect(p.port, '127.0.0.1', () => res());
      s.on('error', rej);
      sockets.push(s);
    }));
    await Promise.all(connected); // the kernel completed every handshake: they wait in the listen backlog
    // Node's round-robin primary would accept all 300 within milliseconds and hold them (one file each).
    const deadline = Date.now() + 1000;
    let most = 0;
    while (Date.now() < deadline) {
      most = Math.max(most, openFiles(primary) - before);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(most).toBeLessThan(10);
  } finally {
    for (const w of workers) process.kill(w, 'SIGCONT');
  }
  for (const s of sockets) s.destroy();
  // Running again, the workers serve whoever comes: every new client gets its system/init.
  const cs = Array.from({ length: 50 }, () => client(p));
  const inits = await Promise.all(cs.map((c, i) => c.hello({ room: `after${i}` })));
  expect(inits.filter((init) => typeof init.session_id === 'string')).toHaveLength(50);
  expect(openFiles(primary) - before).toBeLessThan(10);
});
