import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import WebSocket from 'ws';
import { startGateway } from '../support/gateway.js';
import { until } from '../support/http-api.js';
import { startWsgate, type WsgateProcess } from '../support/wsgate-process.js';

let dir: string;
/** Two self-signed pairs for localhost/127.0.0.1, and the live files the gateway is pointed at. */
let a: { cert: string; key: string };
let b: { cert: string; key: string };
let live: { cert: string; key: string };

function makePair(name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

function install(pair: { cert: string; key: string }): void {
  copyFileSync(pair.cert, live.cert);
  copyFileSync(pair.key, live.key);
}

const fingerprint = (file: string): string => new X509Certificate(readFileSync(file)).fingerprint256;
const trust = (): Buffer[] => [readFileSync(a.cert), readFileSync(b.cert)];

/** The certificate fingerprint a fresh TLS handshake with 127.0.0.1:port sees. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: trust() }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.end();
    });
    s.on('error', reject);
  });
}

/** A wss client that trusts only `ca`: hello → system/init payload. */
function wssHello(url: string, ca: Buffer[]): Promise<{ ws: WebSocket; init: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ca });
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ event: 'client/hello', payload: {} })));
    ws.on('message', (data) => {
      const f = JSON.parse(data.toString()) as { event: string; payload: Record<string, unknown> };
      if (f.event === 'system/init') resolve({ ws, init: f.payload });
    });
  });
}

function httpsStatus(url: string, ca: Buffer[]): Promise<number> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject);
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsgate-tls-'));
  a = makePair('a');
  b = makePair('b');
  live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('with --tls-cert/--tls-key the gateway serves wss and https; a client that does not trust the cert is refused', async () => {
  install(a);
  const gw = await startGateway({ tlsCert: live.cert, tlsKey: live.key, pingInterval: 0, heartbeatInterval: 0 });
  try {
    expect(gw.url('/api/ws')).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/api\/ws$/);
    const { ws, init } = await wssHello(gw.url('/api/ws'), [readFileSync(a.cert)]);
    expect(init.protocol).toBe(3);
    ws.close();
    expect(await httpsStatus(gw.url('/healthz'), [readFileSync(a.cert)])).toBe(200);
    await expect(wssHello(gw.url('/api/ws'), [readFileSync(b.cert)])).rejects.toThrow(/self[- ]signed|unable to verify/i);
  } finally {
    await gw.close();
  }
});

test('reloading the TLS files serves the new certificate to new handshakes; open connections stay; a bad pair is refused', async () => {
  install(a);
  const gw = await startGateway({ tlsCert: live.cert, tlsKey: live.key, pingInterval: 0, heartbeatInterval: 0 });
  try {
    const before = await wssHello(gw.url('/api/ws'), trust());
    expect(await servedFingerprint(gw.port)).toBe(fingerprint(a.cert));
    install(b);
    expect(gw.reloadTls()).toBe(true);
    expect(await servedFingerprint(gw.port)).toBe(fingerprint(b.cert));
    expect(before.ws.readyState).toBe(WebSocket.OPEN);
    const after = await wssHello(gw.url('/api/ws'), [readFileSync(b.cert)]);
    after.ws.close();
    before.ws.close();
    // Certificate of one pair with the key of the other: refused, the working pair stays.
    copyFileSync(a.cert, live.cert);
    expect(gw.reloadTls()).toBe(false);
    expect(await servedFingerprint(gw.port)).toBe(fingerprint(b.cert));
  } finally {
    await gw.close();
  }
});

test('SIGHUP to the wsgate process reloads the certificate without restarting it', async () => {
  install(a);
  let proc: WsgateProcess | undefined;
  try {
    proc = await startWsgate(['--tls-cert', live.cert, '--tls-key', live.key, '--no-legacy']);
    // The start-up line names the endpoints with TLS schemes (no /ws: the adapter is off).
    const base = `127.0.0.1:${proc.port}`;
    expect(proc.logs.find((l) => l.msg === 'wsgate listening')?.urls).toEqual({
      v3: `wss://${base}/api/ws`,
      sse: `https://${base}/api/sse`,
      api: `https://${base}/api/`,
      metrics: `https://${base}/metrics`,
      health: `https://${base}/healthz`,
      client: `https://${base}/wsgate-client.js`,
    });
    expect(await servedFingerprint(proc.port)).toBe(fingerprint(a.cert));
    install(b);
    proc.child.kill('SIGHUP');
    await until(() => proc!.logs.some((l) => l.msg === 'TLS certificate reloaded'), 5000, 'reload log');
    expect(await servedFingerprint(proc.port)).toBe(fingerprint(b.cert));
    expect(proc.child.exitCode).toBeNull();
  } finally {
    proc?.kill();
  }
});
