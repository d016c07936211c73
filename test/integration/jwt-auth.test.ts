/**
 * JWT on the wire, from real ws clients: a gateway started with --jwt-secret (library option
 * jwtSecret) verifies the hello token, closes 4001 for a bad, expired or room-less token, enforces
 * the channels claim on subscribe and publish, ends a connection when its token expires, lets a
 * resume with a fresh token carry the session on, keeps the authenticate hook, and takes a JWT as a
 * v2 password.
 */
import { SignJWT, type JWTPayload } from 'jose';
import WebSocket from 'ws';
import { mountLegacyAdapter } from '../../legacy-adapter/index.js';
import type { Gateway } from '../../src/index.js';
import { ClientPool, startGateway } from '../support/gateway.js';
import { TestClient } from '../support/ws-client.js';

const SECRET = 'integration-test-secret-of-32-bytes-or-more';
const nowS = (): number => Math.floor(Date.now() / 1000);
const token = (claims: JWTPayload): Promise<string> =>
  new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));

let gw: Gateway;
const pool = new ClientPool();
beforeAll(async () => {
  gw = await startGateway({ jwtSecret: SECRET, heartbeatInterval: 0, pingInterval: 0 });
  mountLegacyAdapter(gw);
});
afterEach(() => pool.killAll());
afterAll(() => gw.close());

/** Open a client, send a hello, and return how the connection ended (or the init). */
async function refused(hello: Record<string, unknown>): Promise<{ code: number; disconnect: unknown }> {
  const c = pool.track(new TestClient(gw.url('/api/ws')));
  await c.open();
  c.send('client/hello', hello);
  const closed = await c.closed;
  return { code: closed.code, disconnect: c.frames.find((f) => f.event === 'system/disconnect')?.payload };
}

test('a valid token opens a session: sub is the user, name the profile name, the first granted room the room', async () => {
  const { init } = await pool.connect(gw, { token: await token({ sub: 'u-1', name: 'Ada', rooms: ['team:red', 'team:*'], exp: nowS() + 60 }), profile: { name: 'Mallory' } });
  expect(init.room).toBe('team:red');
  const me = gw.sessions().find((s) => s.id === init.session_id)!;
  expect(me.profile.name).toBe('Ada');
  expect(me.auth?.userId).toBe('u-1');
});

test.each([
  ['no token', {}, 'a token is required'],
  ['garbage', { token: 'not.a.jwt' }, 'token is malformed'],
  ['expired', 'expired', 'token expired'],
  ['a room the token does not grant', 'room', 'does not grant room "lobby"'],
])('%s → close 4001 unauthorized with a system/disconnect naming why', async (_name, what, message) => {
  let hello: Record<string, unknown> = what as Record<string, unknown>;
  if (what === 'expired') hello = { token: await token({ sub: 'u', exp: nowS() - 5 }) };
  if (what === 'room') hello = { token: await token({ sub: 'u', rooms: ['team:*'], exp: nowS() + 60 }), room: 'lobby' };
  const out = await refused(hello);
  expect(out.code).toBe(4001);
  expect(out.disconnect).toMatchObject({ code: 4001, reason: 'unauthorized', message: expect.stringContaining(message) });
});

test('the channels claim is enforced on subscribe and publish: forbidden, the connection stays', async () => {
  const claims = { sub: 'u-2', channels: { subscribe: ['news:*'], publish: ['news:mine'] }, exp: nowS() + 60 };
  const { client } = await pool.connect(gw, { token: await token(claims) });
  client.send('channel/subscribe', { channel: 'news:eu' }, 's1');
  expect((await client.next('channel/subscribed')).payload).toMatchObject({ channel: 'news:eu' });
  client.send('channel/subscribe', { channel: 'sports' }, 's2');
  expect((await client.next('system/error')).payload).toMatchObject({ code: 'forbidden', id: 's2' });
  client.send('channel/publish', { channel: 'news:eu', data: 1 }, 'p1');
  expect((await client.next('system/error')).payload).toMatchObject({ code: 'forbidden', id: 'p1' });
  client.send('channel/publish', { channel: 'news:mine', data: 2 }, 'p2');
  expect((await client.next((f) => f.event === 'system/ack' && (f.payload as { id?: string }).id === 'p2')).payload).toEqual({ id: 'p2' });
  expect(client.ws.readyState).toBe(WebSocket.OPEN);
});

test('a token expiring on a live connection ends it with 4001; a resume with a fresh token keeps the session', async () => {
  const first = await pool.connect(gw, { token: await token({ sub: 'u-3', exp: nowS() + 2 }) });
  const closed = await first.client.closed;
  expect(closed.code).toBe(4001);
  expect(first.client.frames.find((f) => f.event === 'system/disconnect')?.payload).toMatchObject({ message: 'token expired' });
  // A terminal code ends the session: the client needs a new one, with a fresh token.
  const again = await pool.connect(gw, { token: await token({ sub: 'u-3', exp: nowS() + 60 }) });
  const resume = { session_id: again.init.session_id, resume_token: again.init.resume_token, last_seq: 0 };
  again.client.kill();
  await again.client.closed;
  const other = await pool.connect(gw, { token: await token({ sub: 'u-4', exp: nowS() + 60 }), resume });
  expect(other.init).toMatchObject({ resumed: false, resume_error: 'bad_token' }); // another user's token
  const same = await pool.connect(gw, { token: await token({ sub: 'u-3', exp: nowS() + 120 }), resume });
  expect(same.init).toMatchObject({ resumed: true, session_id: resume.session_id });
}, 15_000);

test('the authenticate hook still decides after the token verified', async () => {
  const hooked = await startGateway({ jwtSecret: SECRET, authenticate: (hello) => hello.room !== 'closed-room' });
  try {
    const ok = pool.track(new TestClient(hooked.url('/api/ws')));
    expect(await ok.hello({ token: await token({ sub: 'u', exp: nowS() + 60 }) })).toMatchObject({ room: 'main' });
    const no = pool.track(new TestClient(hooked.url('/api/ws')));
    await no.open();
    no.send('client/hello', { token: await token({ sub: 'u', exp: nowS() + 60 }), room: 'closed-room' });
    expect((await no.closed).code).toBe(4001);
  } finally {
    await hooked.close();
  }
});

test('a v2 client may give a JWT as its password; a bad one is refused', async () => {
  const good = await token({ sub: 'v2-user', name: 'Vee', exp: nowS() + 60 });
  const v2 = new WebSocket(`${gw.url('/ws')}?username=ignored&password=${good}`);
  const first = await new Promise<Record<string, unknown>>((resolve) => v2.on('message', (d) => resolve(JSON.parse(d.toString()) as Record<string, unknown>)));
  expect(first.event).toBe('member/list');
  expect(gw.sessions().some((s) => s.auth?.userId === 'v2-user' && s.profile.name === 'Vee')).toBe(true);
  v2.close();
  const bad = new WebSocket(`${gw.url('/ws')}?username=x&password=wrong`);
  const frames: Record<string, unknown>[] = [];
  bad.on('message', (d) => frames.push(JSON.parse(d.toString()) as Record<string, unknown>));
  const code = await new Promise<number>((resolve) => bad.on('close', (c) => resolve(c)));
  expect(code).toBe(4001);
  expect(frames.find((f) => f.event === 'system/disconnect')).toMatchObject({ title: 'unauthorized' });
});
