import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { Gateway } from '../../src/index.js';
import { freePort } from '../../load/free-port.js';
import { startNginx, type NginxHandle } from '../support/nginx.js';
import { startGateway } from '../support/gateway.js';
import { mountClientBundle } from '../../src/demo/client-bundle.js';

/**
 * docs/nginx-wss.conf as shipped — only the ports, certificate paths and upstream are substituted —
 * in front of a real gateway: wss through it works, the private routes are not exposed, and (with
 * WSGATE_SLOW_TESTS=1) an idle connection outlives nginx's default 60 s proxy_read_timeout.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const slow = process.env.WSGATE_SLOW_TESTS === '1';

let dir: string;
let gw: Gateway;
let nginx: NginxHandle | undefined;
let httpsPort: number;
let ca: Buffer;

function configFrom(doc: string, p: { http: number; https: number; upstream: number }): string {
  const site = doc
    .replace(/^\s*listen \[::\]:.*$/gm, '')
    .replace('listen 80;', `listen 127.0.0.1:${p.http};`)
    .replace('listen 443 ssl;', `listen 127.0.0.1:${p.https} ssl;`)
    .replace('server 127.0.0.1:8080;', `server 127.0.0.1:${p.upstream};`)
    .replace(/ssl_certificate\s+\S+;/, `ssl_certificate ${join(dir, 'cert.pem')};`)
    .replace(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${join(dir, 'key.pem')};`);
  writeFileSync(join(dir, 'site.conf'), site);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, t)};`).join('\n');
  return `pid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')} warn;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n${temp}\n  include ${join(dir, 'site.conf')};\n}\n`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsgate-nginx-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  ca = readFileSync(join(dir, 'cert.pem'));
  gw = await startGateway({ heartbeatInterval: 0 });
  mountClientBundle(gw); // as the wsgate command does
  const doc = readFileSync(join(ROOT, 'docs/nginx-wss.conf'), 'utf8');
  const httpPort = await freePort();
  nginx = await startNginx({ upstreamPort: gw.port, config: (_dir, port) => configFrom(doc, { http: httpPort, https: port, upstream: gw.port }) });
  httpsPort = nginx.port;
});

afterAll(async () => {
  await nginx?.stop();
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string): Promise<number> {
  return new Promise((res, rej) => https.get(`https://127.0.0.1:${httpsPort}${path}`, { ca }, (r) => (r.resume(), res(r.statusCode ?? 0))).on('error', rej));
}

function wss(origin?: string): Promise<{ ws: WebSocket; frames: { event: string; payload?: unknown }[] }> {
  return new Promise((res, rej) => {
    const ws = new WebSocket(`wss://127.0.0.1:${httpsPort}/api/ws`, { ca, origin });
    const frames: { event: string; payload?: unknown }[] = [];
    ws.once('error', rej);
    ws.once('unexpected-response', (_q, r) => rej(new Error(`HTTP ${r.statusCode}`)));
    ws.once('open', () => ws.send(JSON.stringify({ event: 'client/hello', payload: {} })));
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString()) as { event: string; payload?: unknown };
      frames.push(f);
      if (f.event === 'system/init') res({ ws, frames });
    });
  });
}

test('wss through nginx reaches the gateway, with the browser Origin check passing', async () => {
  const { ws, frames } = await wss(`https://127.0.0.1:${httpsPort}`);
  expect(frames[0]).toMatchObject({ event: 'system/init', payload: { protocol: 3 } });
  ws.close();
  await expect(wss('https://evil.example')).rejects.toThrow('HTTP 403');
});

test('health checks pass through; the backend API and metrics are not exposed', async () => {
  expect(await get('/healthz')).toBe(200);
  expect(await get('/readyz')).toBe(200);
  expect(await get('/wsgate-client.js')).toBe(200); // the browser SDK, for pages on this origin
  expect(await get('/api/sessions')).toBe(404);
  expect(await get('/metrics')).toBe(404);
});

test('the SSE fallback passes: a ticket from POST /api/sse opens an event stream', async () => {
  const call = (method: string, path: string): Promise<{ status: number; type: string; body: string }> =>
    new Promise((res, rej) => {
      const req = https.request(`https://127.0.0.1:${httpsPort}${path}`, { method, ca }, (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => {
          body += c;
          if (body.includes(': open')) r.destroy(); // a stream: stop after its first lines
        });
        r.on('close', () => res({ status: r.statusCode ?? 0, type: String(r.headers['content-type']), body }));
      });
      req.on('error', rej);
      req.end();
    });
  const open = await call('POST', '/api/sse');
  expect(open.status).toBe(200);
  const { ticket } = JSON.parse(open.body) as { ticket: string };
  const stream = await call('GET', `/api/sse/stream?ticket=${ticket}`);
  expect(stream.status).toBe(200);
  expect(stream.type).toMatch(/^text\/event-stream/);
  expect(stream.body).toMatch(/^retry: \d+\n: open\n/);
});

(slow ? test : test.skip)('an idle wss connection outlives nginx default proxy_read_timeout (60 s) thanks to the 10 s pings', async () => {
  const { ws } = await wss();
  let closed = false;
  ws.on('close', () => (closed = true));
  await new Promise((r) => setTimeout(r, 75_000));
  expect(closed).toBe(false);
  const got = new Promise((r) => ws.on('message', (d) => JSON.parse(d.toString()).event === 'channel/subscribed' && r(true)));
  ws.send(JSON.stringify({ event: 'channel/subscribe', payload: { channel: 'late' } }));
  expect(await got).toBe(true);
  ws.close();
}, 90_000);
