import type { Gateway } from '../../src/index.js';
import { ProtocolError } from '../../src/index.js';
import { ClientPool, startGateway } from '../support/gateway.js';
import { TestClient } from '../support/ws-client.js';

let gw: Gateway;
const pool = new ClientPool();
const client = (hello: Record<string, unknown> = {}, opts?: { answerPings?: boolean }) => pool.connect(gw, hello, opts);
beforeEach(async () => {
  gw = await startGateway({ maxErrors: 3 });
});
afterEach(async () => {
  pool.killAll();
  await gw.close();
});

describe('hello', () => {
  test('a first message other than hello closes 4000; so does a second hello', async () => {
    const c = new TestClient(gw.url());
    pool.track(c);
    await c.open();
    c.send('client/heartbeat');
    expect((await c.closed).code).toBe(4000);
    const { client: d } = await client();
    d.send('client/hello', {});
    expect((await d.closed).code).toBe(4000);
  });

  test('system/init carries the session, the timings and the room roster', async () => {
    const { init: a } = await client({ profile: { name: 'ann' }, room: 'r1' });
    const { init: b } = await client({ profile: { name: 'bob' }, room: 'r1' });
    expect(a).toMatchObject({ protocol: 3, resumed: false, room: 'r1', ping_interval: 10, heartbeat_interval: 60, session_ttl: 120 });
    expect(typeof a.session_id).toBe('string');
    expect(String(a.resume_token).length).toBeGreaterThanOrEqual(22);
    expect(b.sessions).toEqual(
      expect.arrayContaining([
        { id: a.session_id, profile: { name: 'ann' }, is_connected: true },
        { id: b.session_id, profile: { name: 'bob' }, is_connected: true },
      ]),
    );
  });

  test('a refused token closes 4001', async () => {
    await gw.close();
    gw = await startGateway({ authenticate: (h) => h.token === 'good' });
    const ok = await client({ token: 'good' });
    expect(ok.init.resumed).toBe(false);
    const c = new TestClient(gw.url());
    pool.track(c);
    await c.open();
    c.send('client/hello', { token: 'bad' });
    expect((await c.closed).code).toBe(4001);
  });
});

describe('bad input', () => {
  test('malformed frames get system/error bad_message and the connection stays open', async () => {
    const { client: c } = await client();
    c.raw('{nope');
    const e = await c.next('system/error');
    expect(e.payload).toMatchObject({ code: 'bad_message' });
    expect(typeof e.seq).toBe('number');
    c.send('send/broadcast', { subject: 's', body: 1 }, 'after');
    expect((await c.next('system/ack')).payload).toEqual({ id: 'after' });
  });

  test('more than max_errors in 10 s closes 1008', async () => {
    const { client: c } = await client();
    for (let i = 0; i < 4; i++) c.raw('[]');
    expect((await c.closed).code).toBe(1008);
    expect(c.all('system/error')).toHaveLength(4);
  });

  test('binary closes 1003, an oversized frame 1009', async () => {
    const { client: c } = await client();
    c.ws.send(Buffer.from([1, 2, 3]));
    expect((await c.closed).code).toBe(1003);
    const { client: d } = await client();
    d.send('x', 'y'.repeat(70_000));
    expect((await d.closed).code).toBe(1009);
  });

  test('unknown events get unknown_event; registered handlers run and reply', async () => {
    gw.handle('app/echo', (ctx) => ctx.reply('app/echoed', { got: ctx.payload, from: ctx.session.id }));
    gw.handle('app/fail', () => {
      throw new ProtocolError('forbidden', 'no');
    });
    gw.handle('app/crash', () => {
      throw new Error('boom');
    });
    const { client: c, init } = await client();
    c.send('app/nothing', {}, 'u1');
    expect((await c.next('system/error')).payload).toMatchObject({ code: 'unknown_event', id: 'u1', event: 'app/nothing' });
    c.send('app/echo', { x: 1 }, 'e1');
    expect((await c.next('app/echoed')).payload).toEqual({ got: { x: 1 }, from: init.session_id });
    expect((await c.next('system/ack')).payload).toEqual({ id: 'e1' });
    c.send('app/fail', {}, 'f1');
    expect((await c.next('system/error')).payload).toMatchObject({ code: 'forbidden', id: 'f1' });
    c.send('app/crash', {}, 'c1');
    expect((await c.next('system/error')).payload).toMatchObject({ code: 'internal', id: 'c1' });
    c.send('app/echo', 2, 'e2');
    expect((await c.next('system/ack')).payload).toEqual({ id: 'e2' });
  });

  test('a refused origin gets 403 and no upgrade; a same-host origin passes', async () => {
    const bad = new TestClient(gw.url(), { origin: 'https://evil.example' });
    await expect(bad.open()).rejects.toThrow('403');
    const good = new TestClient(gw.url(), { origin: 'http://127.0.0.1:1234' });
    pool.track(good);
    await good.open();
  });
});

describe('messages', () => {
  test('every stream message carries seq 1, 2, 3 …; ids are acked once and deduplicated', async () => {
    const { client: a } = await client();
    const { client: b } = await client();
    a.send('send/broadcast', { subject: 'hi', body: 1 }, 'm1');
    a.send('send/broadcast', { subject: 'hi', body: 1 }, 'm1');
    await a.next((f) => f.event === 'system/ack' && (f.payload as { duplicate?: boolean }).duplicate === true);
    const acks = a.all('system/ack').map((f) => f.payload);
    expect(acks).toEqual([{ id: 'm1' }, { id: 'm1', duplicate: true }]);
    await b.next('send/broadcast');
    await new Promise((r) => setTimeout(r, 100));
    expect(b.all('send/broadcast')).toHaveLength(1);
    const seqs = a.frames.filter((f) => f.event !== 'system/init').map((f) => f.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  test('messages are handled in arrival order: an async handler holds back the synchronous ones sent after it', async () => {
    gw.handle('app/slow', async (ctx) => {
      await new Promise((r) => setTimeout(r, 30));
      ctx.reply('app/done', ctx.payload);
    });
    gw.handle('app/fast', (ctx) => ctx.reply('app/done', ctx.payload));
    gw.handle('app/slow-fail', async () => {
      await new Promise((r) => setTimeout(r, 30));
      throw new ProtocolError('forbidden', 'no');
    });
    const { client: c } = await client();
    c.send('app/fast', 1, 'i1');
    c.send('app/slow', 2, 'i2');
    c.send('app/fast', 3, 'i3');
    c.send('app/slow-fail', 4, 'i4');
    c.send('app/fast', 5, 'i5');
    await c.next((f) => f.event === 'system/ack' && (f.payload as { id: string }).id === 'i5');
    const order = c.frames.filter((f) => f.event !== 'system/init').map((f) => `${f.event}:${JSON.stringify(f.payload)}`);
    expect(order).toEqual([
      'app/done:1', 'system/ack:{"id":"i1"}', 'app/done:2', 'system/ack:{"id":"i2"}', 'app/done:3', 'system/ack:{"id":"i3"}',
      'system/error:{"code":"forbidden","message":"no","event":"app/slow-fail","id":"i4"}', 'app/done:5', 'system/ack:{"id":"i5"}',
    ]);
  });

  test('a failed message is not recorded: its retry is processed', async () => {
    const { client: a } = await client();
    a.send('send/unicast', { receiver: 'nobody', subject: 's', body: 1 }, 'r1');
    expect((await a.next('system/error')).payload).toMatchObject({ code: 'unknown_session', id: 'r1' });
    const { init: b, client: bc } = await client();
    a.send('send/unicast', { receiver: b.session_id, subject: 's', body: 2 }, 'r1');
    expect((await a.next('system/ack')).payload).toEqual({ id: 'r1' });
    expect((await bc.next('send/unicast')).payload).toMatchObject({ receiver: b.session_id, subject: 's', body: 2 });
  });

  test('presence: joined, broadcast to the room only, left on a normal close', async () => {
    const { client: a, init: ai } = await client({ room: 'x', profile: { name: 'a' } });
    const { client: b, init: bi } = await client({ room: 'x', profile: { name: 'b' } });
    const { client: other } = await client({ room: 'y' });
    expect((await a.next('session/joined')).payload).toEqual({ id: bi.session_id, profile: { name: 'b' } });
    b.send('send/broadcast', { subject: 'chat', body: { t: 'yo' } });
    expect((await a.next('send/broadcast')).payload).toEqual({ sender: bi.session_id, subject: 'chat', body: { t: 'yo' } });
    b.close(1000);
    expect((await a.next('session/left')).payload).toMatchObject({ id: bi.session_id });
    expect(other.all('send/broadcast')).toHaveLength(0);
    expect(ai.session_id).not.toBe(bi.session_id);
  });
});

describe('channels', () => {
  test('subscribe, publish, receive with offset and epoch; unsubscribe stops it', async () => {
    const { client: a } = await client();
    a.send('channel/subscribe', { channel: 'news' });
    const sub = await a.next('channel/subscribed');
    expect(sub.payload).toMatchObject({ channel: 'news', offset: 0, recovered: false });
    a.send('channel/publish', { channel: 'news', data: { n: 1 } });
    const m = await a.next('channel/message');
    expect(m.payload).toMatchObject({ channel: 'news', offset: 1, data: { n: 1 }, epoch: (sub.payload as { epoch: string }).epoch });
    a.send('channel/unsubscribe', { channel: 'news' });
    await a.next('channel/unsubscribed');
    await gw.publish('news', { n: 2 });
    await new Promise((r) => setTimeout(r, 100));
    expect(a.all('channel/message')).toHaveLength(1);
  });

  test('since recovers what was missed, in order; out of range says recovered:false with missed', async () => {
    await gw.close();
    gw = await startGateway({ historySize: 5 });
    const { client: a } = await client();
    const first = await gw.publish('logs', 1);
    for (let i = 2; i <= 4; i++) await gw.publish('logs', i);
    a.send('channel/subscribe', { channel: 'logs', since: { offset: 1, epoch: first.epoch } });
    expect((await a.next('channel/subscribed')).payload).toMatchObject({ recovered: true, offset: 4 });
    await gw.publish('logs', 5);
    for (const want of [2, 3, 4, 5]) expect((await a.next('channel/message')).payload).toMatchObject({ data: want, offset: want });
    for (let i = 6; i <= 12; i++) await gw.publish('logs', i);
    const { client: b } = await client();
    b.send('channel/subscribe', { channel: 'logs', since: { offset: 2, epoch: first.epoch } });
    expect((await b.next('channel/subscribed')).payload).toMatchObject({ recovered: false, offset: 12, missed: 10 });
  });

  test('bad names, too many subscriptions, and client publishing turned off', async () => {
    await gw.close();
    gw = await startGateway({ maxSubscriptions: 2, clientPublish: false });
    const { client: a } = await client();
    a.send('channel/subscribe', { channel: 'bad name!' }, 's0');
    expect((await a.next('system/error')).payload).toMatchObject({ code: 'bad_channel', id: 's0' });
    a.send('channel/subscribe', { channel: 'a' });
    a.send('channel/subscribe', { channel: 'b' });
    a.send('channel/subscribe', { channel: 'c' }, 's3');
    expect((await a.next('system/error')).payload).toMatchObject({ code: 'too_many_subscriptions', id: 's3' });
    a.send('channel/publish', { channel: 'a', data: 1 }, 'p1');
    expect((await a.next('system/error')).payload).toMatchObject({ code: 'forbidden', id: 'p1' });
  });
});
