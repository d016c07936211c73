/**
 * test/support/nginx.ts, the harness other e2e tests use: a real Debian nginx in front of a plain `ws` server.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { startNginx, type NginxHandle } from '../support/nginx.js';

let wss: WebSocketServer;
let upstreamPort: number;
const started: NginxHandle[] = [];

beforeAll(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  upstreamPort = (wss.address() as { port: number }).port;
  // Echo, prefixed with the path the upstream saw.
  wss.on('connection', (ws, req) => ws.on('message', (m) => ws.send(`${req.url}:${String(m)}`)));
});

afterAll(async () => {
  await Promise.all(started.map((n) => n.stop()));
  await new Promise((r) => wss.close(r));
});

async function start(o: Omit<Parameters<typeof startNginx>[0], 'upstreamPort'> = {}): Promise<NginxHandle> {
  const n = await startNginx({ upstreamPort, ...o });
  started.push(n);
  return n;
}

function echo(url: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { rejectUnauthorized: false, localAddress: '127.0.0.3' });
    ws.once('open', () => ws.send(text));
    ws.once('message', (m) => {
      resolve(String(m));
      ws.close();
    });
    ws.once('error', reject);
  });
}

test('proxies WebSocket upgrades on /api/ws and /ws, with proxy_read_timeout left at the default', async () => {
  const n = await start();
  expect(n.url).toBe(`ws://127.0.0.1:${n.port}`);
  await expect(echo(`${n.url}/api/ws`, 'a')).resolves.toBe('/api/ws:a');
  await expect(echo(`${n.url}/ws?password=p&username=u`, 'b')).resolves.toBe('/ws?password=p&username=u:b');
  expect(n.config).not.toMatch(/^\s*proxy_read_timeout/m);
  expect(n.proxyReadTimeout).toMatch(/^60s/);
});

test('several workers share the port (reuseport) with raised limits', async () => {
  const n = await start({ workerProcesses: 2, workerConnections: 4000, workerRlimitNofile: 9000 });
  expect(n.config).toMatch(/worker_processes 2;/);
  expect(n.config).toMatch(/reuseport/);
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => echo(`${n.url}/api/ws`, String(i))));
  expect(replies).toHaveLength(20);
});

test('stop() ends nginx and removes its temp dir', async () => {
  const n = await start();
  const dir = dirname(n.confPath);
  expect(existsSync(dir)).toBe(true);
  await n.stop();
  expect(existsSync(dir)).toBe(false);
  expect(() => process.kill(n.pid, 0)).toThrow();
  await n.stop(); // idempotent
});

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

(hasOpenssl ? test : test.skip)('terminates TLS with a given certificate (wss://)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-cert-'));
  try {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
      '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    const n = await start({ tls: { cert, key } });
    expect(n.url).toBe(`wss://127.0.0.1:${n.port}`);
    await expect(echo(`${n.url}/api/ws`, 'secure')).resolves.toBe('/api/ws:secure');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
