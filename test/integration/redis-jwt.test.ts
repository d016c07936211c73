/**
 * JWT with --redis, through two real `wsgate` processes on one real redis-server: the session's user (`sub`) is
 * kept in Redis, so a resume on the other process with another user's token is refused as in memory — and the
 * victim's connection is left alone — while the API of either process shows each session's user.
 */
import { jest } from '@jest/globals';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { api } from '../support/http-api.js';
import { startRedis, type RedisHandle } from '../support/redis.js';
import { TestClient, sleep } from '../support/ws-client.js';
import { startWsgate, type WsgateProcess } from '../support/wsgate-process.js';

jest.setTimeout(60_000);

const SECRET = 'redis-jwt-secret-that-is-long-enough-0123456789';
const token = (sub: string): Promise<string> =>
  new SignJWT({ name: sub }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));

let redis: RedisHandle;
const procs: WsgateProcess[] = [];
const clients: TestClient[] = [];

async function client(p: WsgateProcess, hello: Record<string, unknown>): Promise<{ c: TestClient; init: Record<string, unknown> }> {
  const c = new TestClient(`ws://127.0.0.1:${p.port}/api/ws`);
  clients.push(c);
  return { c, init: await c.hello(hello) };
}

beforeAll(async () => {
  redis = await startRedis();
  for (let i = 0; i < 2; i++) procs.push(await startWsgate(['--redis', redis.url, '--jwt-secret', SECRET, '--legacy', 'false']));
});
afterAll(async () => {
  for (const c of clients) c.kill();
  for (const p of procs) p.kill();
  await redis.stop();
});

test('a resume on the other process with a token of another user is refused bad_token and leaves the session alone; the same user resumes', async () => {
  const [p1, p2] = procs as [WsgateProcess, WsgateProcess];
  const { c: alice, init: ia } = await client(p1, { token: await token('alice'), room: 'j' });
  const resume = { session_id: ia.session_id, resume_token: ia.resume_token, last_seq: 0 };

  const { c: mallory, init: im } = await client(p2, { token: await token('mallory'), room: 'j', resume });
  expect(im).toMatchObject({ resumed: false, resume_error: 'bad_token' });
  expect(im.session_id).not.toBe(ia.session_id);
  // Refused before anything changed: alice keeps her connection, and a last_seq she never reached did not end it either.
  const { init: iGap } = await client(p2, { token: await token('mallory'), resume: { ...resume, last_seq: 99 } });
  expect(iGap).toMatchObject({ resume_error: 'bad_token' });
  await sleep(300);
  expect(alice.ws.readyState).toBe(WebSocket.OPEN);

  const listed = (await api(p2.base, 'GET', '/api/sessions?room=j')).body as { sessions: { id: string; user: string | null }[] };
  const users = Object.fromEntries(listed.sessions.map((s) => [s.id, s.user]));
  expect(users[ia.session_id as string]).toBe('alice');
  expect(users[im.session_id as string]).toBe('mallory');

  // The same user resumes on the other process: the session moves (the old socket hears 4002).
  const { init: again } = await client(p2, { token: await token('alice'), resume });
  expect(again).toMatchObject({ resumed: true, session_id: ia.session_id });
  expect((await alice.closed).code).toBe(4002);
  mallory.kill();
});
