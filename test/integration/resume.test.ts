import type { Gateway } from '../../src/index.js';
import { ClientPool, startGateway } from '../support/gateway.js';
import { sleep } from '../support/ws-client.js';

let gw: Gateway;
const pool = new ClientPool();
const client = (hello: Record<string, unknown> = {}, opts?: { answerPings?: boolean }) => pool.connect(gw, hello, opts);
beforeEach(async () => {
  gw = await startGateway({ sessionTtl: 1 });
});
afterEach(async () => {
  pool.killAll();
  await gw.close();
});

const resumeOf = (init: Record<string, unknown>, lastSeq: number) => ({
  resume: { session_id: init.session_id, resume_token: init.resume_token, last_seq: lastSeq },
});

test('after a drop, resume replays exactly what was missed, once each, with the original seq; subscriptions intact', async () => {
  const { client: a, init } = await client({ room: 'r' });
  const { client: b } = await client({ room: 'r' });
  a.send('channel/subscribe', { channel: 'feed' });
  await a.next('channel/subscribed');
  await gw.publish('feed', 'before');
  await a.next('channel/message');
  const seen = a.lastSeq;
  a.kill();
  expect((await b.next('session/state')).payload).toEqual({ id: init.session_id, is_connected: false });
  for (let i = 0; i < 5; i++) await gw.publish('feed', `missed-${i}`);
  b.send('send/broadcast', { subject: 'hey', body: 'while away' });
  await sleep(50);
  const { client: a2, init: init2 } = await client(resumeOf(init, seen));
  expect(init2).toMatchObject({ resumed: true, replayed: 6, session_id: init.session_id });
  const replayed = a2.frames.filter((f) => f.event !== 'system/init');
  await a2.next((f) => f.event === 'send/broadcast');
  expect(replayed.map((f) => f.seq)).toEqual([seen + 1, seen + 2, seen + 3, seen + 4, seen + 5, seen + 6]);
  expect(replayed.slice(0, 5).map((f) => (f.payload as { data: string }).data)).toEqual(['missed-0', 'missed-1', 'missed-2', 'missed-3', 'missed-4']);
  expect((await b.next('session/state')).payload).toEqual({ id: init.session_id, is_connected: true });
  // Subscriptions survived: a new publish arrives with the next seq, nothing twice.
  await gw.publish('feed', 'after');
  const after = await a2.next((f) => (f.payload as { data?: string })?.data === 'after');
  expect(after.seq).toBe(seen + 7);
});

test('the dedup window survives resume: a message re-sent after reconnect is not applied twice', async () => {
  const { client: a, init } = await client({ room: 'd' });
  const { client: b } = await client({ room: 'd' });
  a.send('send/broadcast', { subject: 'pay', body: 1 }, 'once');
  await a.next('system/ack');
  a.kill();
  await sleep(30);
  const { client: a2 } = await client(resumeOf(init, 0));
  a2.send('send/broadcast', { subject: 'pay', body: 1 }, 'once');
  expect((await a2.next((f) => f.event === 'system/ack' && (f.payload as { duplicate?: boolean }).duplicate === true)).payload).toEqual({ id: 'once', duplicate: true });
  await sleep(50);
  expect(b.all('send/broadcast')).toHaveLength(1);
});

test('resume errors: unknown_session, bad_token (old session untouched), gap (old session ended)', async () => {
  const { init: unknown } = await client({ resume: { session_id: 'nope', resume_token: 'x', last_seq: 0 } });
  expect(unknown).toMatchObject({ resumed: false, resume_error: 'unknown_session' });

  const { client: a, init } = await client();
  const bad = await client({ resume: { session_id: init.session_id, resume_token: 'wrong', last_seq: 0 } });
  expect(bad.init).toMatchObject({ resumed: false, resume_error: 'bad_token' });
  expect(bad.init.session_id).not.toBe(init.session_id);
  a.send('send/broadcast', { subject: 's', body: 1 }, 'still-alive');
  expect((await a.next('system/ack')).payload).toEqual({ id: 'still-alive' });

  const gap = await client({ resume: { session_id: init.session_id, resume_token: init.resume_token, last_seq: 999 } });
  expect(gap.init).toMatchObject({ resumed: false, resume_error: 'gap' });
  expect((await a.closed).code).toBe(4002);
  const again = await client(resumeOf(init, 0));
  expect(again.init.resume_error).toBe('unknown_session');
});

test('replay buffer overflow turns into a reported gap, never a silent loss', async () => {
  await gw.close();
  gw = await startGateway({ bufferMaxMessages: 3 });
  const { client: a, init } = await client({ room: 'o' });
  const { client: b } = await client({ room: 'o' });
  a.kill();
  await sleep(30);
  for (let i = 0; i < 5; i++) b.send('send/broadcast', { subject: 's', body: i });
  await sleep(50);
  const { init: r } = await client(resumeOf(init, a.lastSeq));
  expect(r).toMatchObject({ resumed: false, resume_error: 'gap' });
});

test('a resume while the old connection is open takes over: the old one gets 4002 replaced', async () => {
  const { client: a, init } = await client();
  const { init: r } = await client(resumeOf(init, a.lastSeq));
  expect(r.resumed).toBe(true);
  const d = await a.next('system/disconnect');
  expect(d.payload).toMatchObject({ code: 4002, reason: 'replaced' });
  expect((await a.closed).code).toBe(4002);
});

test('a client close 1000 ends the session at once; resumable:false ends it on any drop', async () => {
  const { client: watcher } = await client({ room: 'e' });
  const { client: a, init } = await client({ room: 'e' });
  a.close(1000);
  expect((await watcher.next('session/left')).payload).toMatchObject({ id: init.session_id });
  const { client: v2like, init: i2 } = await client({ room: 'e', resumable: false });
  v2like.kill();
  expect((await watcher.next('session/left')).payload).toMatchObject({ id: i2.session_id });
  expect(watcher.all('session/state').map((f) => (f.payload as { id: string }).id)).not.toContain(i2.session_id);
});

test('backend sends to a disconnected session are buffered and replayed', async () => {
  const { client: a, init } = await client();
  const seen = a.lastSeq;
  a.kill();
  await sleep(30);
  await expect(gw.sendTo(String(init.session_id), 'app/notice', { n: 1 })).resolves.toBe(true);
  await expect(gw.sendTo('missing', 'app/notice', {})).resolves.toBe(false);
  const { client: a2, init: r } = await client(resumeOf(init, seen));
  expect(r.replayed).toBe(1);
  expect((await a2.next('app/notice')).payload).toEqual({ n: 1 });
});
