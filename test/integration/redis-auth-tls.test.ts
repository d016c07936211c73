/**
 * `--redis` with AUTH (requirepass, an ACL user) and TLS (`rediss://`, a private CA given with --redis-tls-ca),
 * through the real `wsgate` command against real redis-servers: the right credentials serve, wrong ones stop the
 * start at once with one line naming the option (no stack), and the password shows in no log line and not in /readyz.
 */
import { jest } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api } from '../support/http-api.js';
import { startRedis, type RedisHandle } from '../support/redis.js';
import { TestClient } from '../support/ws-client.js';
import { startWsgate, type WsgateProcess } from '../support/wsgate-process.js';

jest.setTimeout(60_000);

const PASSWORD = 'pw-Zq8x1-never-logged';
const USER_PASSWORD = 'alice-pw-K3v9-never-logged';
let secured: RedisHandle;
let tls: RedisHandle;
let dir: string;
const procs: WsgateProcess[] = [];

beforeAll(async () => {
  secured = await startRedis({ password: PASSWORD, user: { name: 'alice', password: USER_PASSWORD } });
  tls = await startRedis({ tls: true });
  dir = mkdtempSync(join(tmpdir(), 'wsgate-redis-tls-'));
});
afterAll(async () => {
  for (const p of procs) p.kill();
  await secured.stop();
  await tls.stop();
  rmSync(dir, { recursive: true, force: true });
});

const base = ['--legacy', 'false', '--log-level', 'debug'];
async function serving(...args: string[]): Promise<WsgateProcess> {
  const p = await startWsgate([...base, ...args]);
  procs.push(p);
  const c = new TestClient(`ws://127.0.0.1:${p.port}/api/ws`);
  try {
    expect(await c.hello({ room: 'auth' })).toMatchObject({ resumed: false });
  } finally {
    c.kill();
  }
  expect((await api(p.base, 'POST', '/api/publish', { channel: 'c', data: 1 })).status).toBe(200);
  return p;
}
/** The start fails: resolves with what the command printed (it exits 2, a configuration error). */
async function refused(...args: string[]): Promise<string> {
  const err = await startWsgate([...base, ...args]).then(
    (p) => {
      procs.push(p);
      throw new Error('wsgate started');
    },
    (e: Error) => e.message,
  );
  expect(err).toMatch(/^wsgate exited 2 before listening: wsgate: /);
  expect(err).not.toMatch(/\n\s+at /); // one line, no stack
  return err;
}

test('AUTH: the default user\'s password and an ACL user serve; a wrong or missing password stops the start naming --redis; no password in logs or /readyz', async () => {
  const port = secured.port;
  const p = await serving('--redis', `redis://:${PASSWORD}@127.0.0.1:${port}`);
  await serving('--redis', `redis://alice:${USER_PASSWORD}@127.0.0.1:${port}`);
  const ready = await api(p.base, 'GET', '/readyz');
  expect(ready.status).toBe(200);
  // Redis goes away: /readyz says so, without the URL's password.
  await secured.kill();
  let down = await api(p.base, 'GET', '/readyz');
  for (let i = 0; i < 50 && down.status === 200; i++) down = await api(p.base, 'GET', '/readyz');
  expect(down.status).toBe(503);
  await secured.start();
  for (const text of [JSON.stringify(ready.body), JSON.stringify(down.body), ...procs.map((q) => JSON.stringify(q.logs))]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(USER_PASSWORD);
  }

  const started = Date.now();
  const wrong = await refused('--redis', `redis://:wrong-${PASSWORD}@127.0.0.1:${port}`);
  expect(wrong).toContain(`--redis: Redis at 127.0.0.1:${port}: the user/password in the URL were refused`);
  expect(wrong).not.toContain(PASSWORD);
  expect(Date.now() - started).toBeLessThan(5000); // refused at once, not after the 10 s reachability wait
  expect(await refused('--redis', `redis://alice:nope@127.0.0.1:${port}`)).toContain('the user/password in the URL were refused');
  expect(await refused('--redis', `redis://127.0.0.1:${port}`)).toContain('--redis: Redis at 127.0.0.1:' + port + ': it requires a password');
});

test('TLS: rediss:// with the CA given by --redis-tls-ca serves; without it, or with a bad file, the start stops naming --redis-tls-ca', async () => {
  await serving('--redis', tls.url, '--redis-tls-ca', tls.caFile!);
  // The CA's certificate through the standard Node variable works as well.
  const viaEnv = await startWsgate([...base, '--redis', tls.url], undefined, { NODE_EXTRA_CA_CERTS: tls.caFile! });
  procs.push(viaEnv);
  expect((await api(viaEnv.base, 'GET', '/readyz')).status).toBe(200);

  expect(await refused('--redis', tls.url)).toMatch(/--redis: Redis at 127\.0\.0\.1:\d+: its TLS certificate does not verify \(.+\); give the CA that signed it with --redis-tls-ca FILE/);
  expect(await refused('--redis', tls.url, '--redis-tls-ca', join(dir, 'missing.pem'))).toContain(`--redis-tls-ca: cannot read ${join(dir, 'missing.pem')}`);
  const notPem = join(dir, 'not.pem');
  writeFileSync(notPem, 'hello\n');
  expect(await refused('--redis', tls.url, '--redis-tls-ca', notPem)).toContain(`--redis-tls-ca: ${notPem} holds no PEM certificate`);
  expect(await refused('--redis', tls.url.replace('rediss:', 'redis:'), '--redis-tls-ca', tls.caFile!)).toContain('--redis-tls-ca: needs a rediss:// --redis URL');
});
