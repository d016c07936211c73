/**
 * JWT through the real `wsgate` command: the secret from a config file (not the command line), an ES256 key from
 * --jwt-public-key, v3 and v2 clients with good and bad tokens — and, at log level trace, not one
 * log line holds the secret, a token or a v2 password.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import WebSocket from 'ws';
import { startWsgate, type WsgateProcess } from '../support/wsgate-process.js';

const SECRET = 'cli-secret-that-is-quite-long-enough-0123456789';
const exp = (): number => Math.floor(Date.now() / 1000) + 60;
let dir: string;
const started: WsgateProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wsgate-jwt-cli-'));
});
afterAll(() => {
  for (const p of started) p.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** Open a socket, say hello (v3) or just wait (v2), and return the close code, or 0 if system/init came. */
function outcome(url: string, token?: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.on('open', () => {
      if (token !== undefined) ws.send(JSON.stringify({ event: 'client/hello', payload: { token } }));
    });
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { event?: string };
      if (m.event === 'system/init' || m.event === 'member/list') {
        ws.close();
        resolve(0);
      }
    });
    ws.on('close', (code) => resolve(code));
    ws.on('error', () => undefined);
  });
}

function logText(p: WsgateProcess): string {
  return p.logs.map((l) => JSON.stringify(l)).join('\n');
}

test('HS256 secret from a config file: tokens verified for v3 and v2; nothing secret in the trace log', async () => {
  const config = join(dir, 'wsgate.yaml');
  writeFileSync(config, `jwt_secret: ${SECRET}\nlog_level: trace\n`);
  const gw = await startWsgate(['--config', config], 20_000);
  started.push(gw);
  const key = new TextEncoder().encode(SECRET);
  const good = await new SignJWT({ sub: 'cli-user', exp: exp() } as JWTPayload).setProtectedHeader({ alg: 'HS256' }).sign(key);
  const ws = gw.base.replace('http', 'ws');
  expect(await outcome(`${ws}/api/ws`, good)).toBe(0);
  const tampered = `${good.slice(0, -10)}${good.at(-10) === 'A' ? 'B' : 'A'}${good.slice(-9)}`;
  expect(await outcome(`${ws}/api/ws`, tampered)).toBe(4001);
  expect(await outcome(`${ws}/ws?username=v2&password=${good}`)).toBe(0);
  expect(await outcome(`${ws}/ws?username=v2&password=hunter2-password`)).toBe(4001);
  await new Promise((r) => setTimeout(r, 300));
  const text = logText(gw);
  expect(text).toContain('hello accepted'); // the trace log did record the connections
  for (const secret of [SECRET, good, good.split('.')[2]!, 'hunter2-password']) expect(text).not.toContain(secret);
}, 30_000);

test('ES256 public key file: its tokens pass, an HS256 token keyed with the PEM does not', async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const pem = await exportSPKI(publicKey);
  const file = join(dir, 'es256.pem');
  writeFileSync(file, pem);
  const gw = await startWsgate(['--jwt-public-key', file, '--jwt-audience', 'wsgate'], 20_000);
  started.push(gw);
  const ws = `${gw.base.replace('http', 'ws')}/api/ws`;
  const es = await new SignJWT({ sub: 'k', aud: 'wsgate', exp: exp() }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
  const wrongAud = await new SignJWT({ sub: 'k', aud: 'other', exp: exp() }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
  const forged = await new SignJWT({ sub: 'k', aud: 'wsgate', exp: exp() }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(pem));
  expect(await outcome(ws, es)).toBe(0);
  expect(await outcome(ws, wrongAud)).toBe(4001);
  expect(await outcome(ws, forged)).toBe(4001);
}, 30_000);
