/**
 * The legacy adapter mounted in a real gateway at /ws, real `ws` clients on both sides, shrunken timers.
 * Each test asserts what a v2 user (or a v3 user in the same room) would notice.
 */
import WebSocket from 'ws';
import type { Gateway, GatewayInit } from '../../src/index.js';
import { gatewayTestHooks } from '../../src/gateway.js';
import { mountLegacyAdapter, type LegacyAdapter, type LegacyAdapterOptions } from '../../legacy-adapter/index.js';
import { ADAPTER_PING_PAYLOAD } from '../../legacy-adapter/v2-pinger.js';
import { connect, startGateway } from '../support/gateway.js';
import { sleep, TestClient } from '../support/ws-client.js';
import { until } from '../support/http-api.js';
import { ManualClock } from '../support/manual-clock.js';
import { flat, v2Join, wsBase } from '../support/conformance-drivers.js';

const PING = 0.3; // s, gateway ping_interval = ping_timeout in these tests
let gw: Gateway;
let adapter: LegacyAdapter;
const clients: TestClient[] = [];

async function setup(init: GatewayInit = {}, overrides: Partial<LegacyAdapterOptions> = {}): Promise<void> {
  gw = await startGateway({ pingInterval: PING, pingTimeout: PING, heartbeatInterval: 0, sessionTtl: 30, ...init });
  adapter = mountLegacyAdapter(gw, overrides);
}

/** A v2 client that the suite closes afterwards. */
async function v2(name: string, opts: { password?: string; answerPings?: boolean; room?: string } = {}) {
  const joined = await v2Join(wsBase(gw), name, opts);
  clients.push(joined.client);
  return joined;
}

async function v3(name: string, room?: string) {
  const r = await connect(gw, { profile: { name }, ...(room ? { room } : {}) });
  clients.push(r.client);
  return { client: r.client, id: r.init.session_id as string, init: r.init };
}

/** The gateway's end of the adapter's upstream connection for one session. */
function upstreamSocketOf(sessionId: string): WebSocket {
  const conn = [...gatewayTestHooks(gw).connections].find((c) => c.session?.id === sessionId);
  if (!conn) throw new Error(`no upstream connection for ${sessionId}`);
  return conn.socket;
}

/** A value of one of the gateway's series (the adapter's `wsgate_legacy_*` ones included), 0 when absent. */
async function metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = gw.metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value ?? 0;
}

async function closesWithCode(code: string): Promise<number> {
  const metric = await gw.metrics.closes.get();
  return metric.values.find((v) => v.labels.code === code)?.value ?? 0;
}

/** A v3 heartbeat with an id, answered by an ack: everything the client sent before it has been handled. */
async function roundTrip(c: TestClient, id: string): Promise<void> {
  c.send('client/heartbeat', undefined, id);
  await c.next((f) => f.event === 'system/ack' && (f.payload as { id?: string }).id === id);
}

/** A v2 frame the adapter answers itself (bad JSON → system/error): the v2 client's earlier frames, pongs too, reached it. */
async function v2RoundTrip(c: TestClient): Promise<void> {
  c.raw('not json');
  await c.next('system/error');
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.kill();
  await adapter?.close();
  await gw?.close();
});

describe('legacy adapter: one room, v2 and v3 together', () => {
  it('?room= (an extension of §7) puts a v2 client in that v3 room instead of main', async () => {
    await setup();
    const inMain = await v3('Mia');
    const inOps = await v3('Otto', 'ops');
    const bob = await v2('Bob', { room: 'ops' });
    expect(bob.members.map((m) => m.displayname).sort()).toEqual(['Bob', 'Otto']);
    expect((await inOps.client.next('session/joined')).payload).toEqual({ id: bob.id, profile: { name: 'Bob' } });
    await sleep(100);
    expect(inMain.client.all('session/joined')).toHaveLength(0);
  });

  it('a v2 and v3 clients see each other join and leave, and chat both ways', async () => {
    await setup();
    const bob = await v2('Bob');
    expect(bob.members).toEqual([{ id: bob.id, displayname: 'Bob' }]);

    const vera = await v3('Vera');
    expect(vera.init.sessions).toContainEqual({ id: bob.id, profile: { name: 'Bob' }, is_connected: true });
    expect(flat(await bob.client.next('member/connected'))).toMatchObject({ id: vera.id, displayname: 'Vera' });
    const carl = await v3('Carl');
    expect(flat(await bob.client.next('member/connected'))).toMatchObject({ id: carl.id, displayname: 'Carl' });

    bob.client.raw(JSON.stringify({ event: 'chat/message', content: 'hello from v2' }));
    expect((await vera.client.next('send/broadcast')).payload).toEqual({ sender: bob.id, subject: 'chat/message', body: { text: 'hello from v2' } });
    bob.client.raw(JSON.stringify({ event: 'chat/emote', emote: 'wave' }));
    expect((await vera.client.next('send/broadcast')).payload).toEqual({ sender: bob.id, subject: 'chat/emote', body: { emote: 'wave' } });

    vera.client.send('send/broadcast', { subject: 'chat/message', body: { text: 'hi v2' } });
    expect(flat(await bob.client.next('chat/message'))).toMatchObject({ event: 'chat/message', id: vera.id, content: 'hi v2' });
    vera.client.send('send/broadcast', { subject: 'chat/emote', body: { emote: 'clap' } });
    expect(flat(await bob.client.next('chat/emote'))).toMatchObject({ id: vera.id, emote: 'clap' });

    carl.client.close(1000);
    expect(flat(await bob.client.next('member/disconnected'))).toMatchObject({ id: carl.id });
    expect((await vera.client.next('session/left')).payload).toMatchObject({ id: carl.id });
    bob.client.close(1000);
    expect((await vera.client.next('session/left')).payload).toMatchObject({ id: bob.id });
    // Nothing v2 has no words for leaked through.
    const events = new Set(bob.client.frames.map((f) => f.event));
    for (const e of ['session/joined', 'session/left', 'session/state', 'send/broadcast', 'system/ack', 'system/heartbeat']) expect(events.has(e)).toBe(false);
  });

  it('frames a v2 client sends before its upstream is ready are queued, in order, not lost', async () => {
    await setup();
    const vera = await v3('Vera');
    const early = new TestClient(`${wsBase(gw)}/ws?username=Early&password=pw`);
    clients.push(early);
    const pong = new Promise<Buffer>((resolve) => early.ws.once('pong', resolve));
    await early.open();
    // The upstream connection is still being opened: these go out at once.
    early.ws.ping(Buffer.from('early-ping'));
    for (const text of ['one', 'two', 'three']) early.raw(JSON.stringify({ event: 'chat/message', content: text }));
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) seen.push(((await vera.client.next('send/broadcast')).payload as { body: { text: string } }).body.text);
    expect(seen).toEqual(['one', 'two', 'three']);
    expect((await pong).toString()).toBe('early-ping');
  });

  it('bad v2 input gets v2 system/error and the connection stays; unknown events get the gateway\'s error', async () => {
    await setup();
    const bob = await v2('Bob');
    bob.client.raw('not json');
    expect(flat(await bob.client.next('system/error'))).toEqual(expect.objectContaining({ title: 'bad_message', message: 'frame is not valid JSON' }));
    bob.client.raw('{"content":"no event"}');
    expect(flat(await bob.client.next('system/error')).title).toBe('bad_message');
    bob.client.raw('{"event":"nobody/handles"}');
    expect(flat(await bob.client.next('system/error'))).toMatchObject({ title: 'unknown_event' });
    expect(bob.client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('a binary frame from a v2 client: system/disconnect, close 1003, and its session ends', async () => {
    await setup();
    const vera = await v3('Vera');
    const bob = await v2('Bob');
    bob.client.ws.send(Buffer.from([1, 2, 3]));
    expect(flat(await bob.client.next('system/disconnect')).title).toBe('unsupported_data');
    expect((await bob.client.closed).code).toBe(1003);
    expect((await vera.client.next('session/left')).payload).toMatchObject({ id: bob.id });
  });

  it('refused credentials reach the v2 client as system/disconnect {title:"unauthorized"} and 4001', async () => {
    await setup({ authenticate: (hello) => hello.token === 'letmein' });
    const ok = await v2('Ann', { password: 'letmein' });
    expect(ok.id).toEqual(expect.any(String));
    const bad = new TestClient(`${wsBase(gw)}/ws?username=Mallory&password=nope`);
    clients.push(bad);
    expect(flat(await bad.next('system/disconnect'))).toMatchObject({ title: 'unauthorized' });
    expect((await bad.closed).code).toBe(4001);
  });

  it('the gateway shutting down reaches v2 clients as system/disconnect + 1001', async () => {
    await setup();
    const bob = await v2('Bob');
    await gw.close();
    expect(flat(await bob.client.next('system/disconnect'))).toMatchObject({ title: 'going_away' });
    expect((await bob.client.closed).code).toBe(1001);
  });
});

describe('legacy adapter: liveness across both legs', () => {
  it('gateway pings reach the v2 client with their payload and its pongs go back with the same payload', async () => {
    await setup();
    const bob = await v2('Bob');
    const sent: string[] = [];
    const ponged: string[] = [];
    const up = upstreamSocketOf(bob.id);
    const realPing = up.ping.bind(up);
    up.ping = (data?: unknown, mask?: boolean, cb?: (err: Error) => void) => {
      sent.push(String(data));
      realPing(data, mask, cb);
    };
    up.on('pong', (data) => ponged.push(data.toString()));
    await sleep(5 * PING * 1000);
    // A ping sent just now may still be on its way through the adapter: wait for it rather than race it.
    const relayedNow = (): string[] => bob.client.pings.map(String).filter((p) => p !== ADAPTER_PING_PAYLOAD.toString());
    const sentSoFar = [...sent];
    await until(() => sentSoFar.every((p) => relayedNow().includes(p)), 3000, 'every ping relayed to the v2 client').catch(() => undefined);
    const relayed = relayedNow();
    expect(sentSoFar.length).toBeGreaterThanOrEqual(3);
    expect(relayed).toEqual(expect.arrayContaining(sentSoFar));
    // The gateway heard back each payload it sent (the last pong may still be on its way).
    expect(ponged).toEqual(expect.arrayContaining(sentSoFar.slice(0, -1)));
    expect(bob.client.ws.readyState).toBe(WebSocket.OPEN);
    // /metrics shows the forwarding: as many pings relayed to v2 as the gateway sent, and the pongs coming back.
    expect(await metricValue('wsgate_legacy_relayed_total', { kind: 'ping', direction: 'to_v2' })).toBeGreaterThanOrEqual(sentSoFar.length);
    expect(await metricValue('wsgate_legacy_relayed_total', { kind: 'pong', direction: 'to_gateway' })).toBeGreaterThanOrEqual(sentSoFar.length - 1);
    expect(await metricValue('wsgate_legacy_connections')).toBe(1);
  });

  it('pings from a v2 client are relayed upstream and the gateway\'s pongs come back', async () => {
    await setup();
    const bob = await v2('Bob');
    const heardUpstream: string[] = [];
    upstreamSocketOf(bob.id).on('ping', (data) => heardUpstream.push(data.toString()));
    const pong = new Promise<Buffer>((resolve) => bob.client.ws.once('pong', resolve));
    bob.client.ws.ping(Buffer.from('v2-ping-7'));
    expect((await pong).toString()).toBe('v2-ping-7');
    expect(heardUpstream).toEqual(['v2-ping-7']);
  });

  it('a v2 client that stops answering pings is terminated by the gateway within ping_interval + ping_timeout; the adapter then closes it', async () => {
    // The adapter's own pinger is pushed out of the way so that what is measured is the gateway's layer, end to end.
    const clock = new ManualClock();
    await setup({ clock, pingInterval: 10, pingTimeout: 10 }, { pingInterval: 300, pingTimeout: 300 });
    const vera = await v3('Vera');
    const mute = await v2('Mute', { answerPings: false });
    // Steps shorter than ping_timeout, each with a round trip that carries Vera's pongs to the gateway.
    for (let step = 1; step <= 8; step++) {
      clock.advance(2_500);
      await roundTrip(vera.client, `step-${step}`);
    }
    expect(mute.client.pings.length).toBeGreaterThanOrEqual(1); // the gateway's pings were relayed to the v2 client
    clock.advance(500); // interval + timeout + the wheel's slot: Mute's upstream never answered
    // It may have come in during the steps above, before an ack: look at every frame, not the next one.
    const left = await until(() => vera.client.all('session/left')[0], 3000, 'session/left');
    expect(left.payload).toMatchObject({ id: mute.id });
    expect(flat(await mute.client.next('system/disconnect'))).toMatchObject({ title: 'upstream_lost' });
    expect((await mute.client.closed).code).toBe(1014);
    expect(vera.client.ws.readyState).toBe(WebSocket.OPEN);
    expect((await gw.metrics.pingTimeouts.get()).values[0]?.value).toBe(1);
  });

  it('with the gateway\'s pings disabled the adapter pings the v2 leg itself, every interval', async () => {
    const clock = new ManualClock();
    await setup({ clock, pingInterval: 0 }, { pingInterval: 10, pingTimeout: 10 });
    const bob = await v2('Bob');
    const direct = await v3('Vera');
    const seen: number[] = [];
    bob.client.ws.on('ping', () => seen.push(clock.now()));
    const start = clock.now();
    for (let i = 1; i <= 5; i++) {
      clock.advance(9_999);
      await v2RoundTrip(bob.client);
      expect(seen).toHaveLength(i - 1);
      clock.advance(1);
      await until(() => seen.length === i, 3000, `ping ${i}`);
      await v2RoundTrip(bob.client); // its pong went out before this frame: the adapter has it
    }
    expect(seen).toEqual([1, 2, 3, 4, 5].map((i) => start + i * 10_000));
    expect(await metricValue('wsgate_legacy_adapter_pings_total')).toBe(5);
    expect(await metricValue('wsgate_legacy_relayed_total', { kind: 'ping', direction: 'to_v2' })).toBe(0);
    expect(bob.client.pings.every((p) => p.equals(ADAPTER_PING_PAYLOAD))).toBe(true);
    // The control: the gateway itself sends no pings, and the v2 client, answering, stays.
    expect(direct.client.pings).toEqual([]);
    expect(bob.client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('a v2 client that leaves the adapter\'s ping unanswered is closed (system/disconnect, 1001) at ping_timeout and its session ends', async () => {
    const clock = new ManualClock();
    await setup({ clock, pingInterval: 0 }, { pingInterval: 10, pingTimeout: 10 });
    const vera = await v3('Vera');
    const mute = await v2('Mute', { answerPings: false });
    clock.advance(10_000);
    await until(() => mute.client.pings.length === 1, 3000, 'the adapter\'s ping');
    clock.advance(9_999);
    await v2RoundTrip(mute.client);
    expect(mute.client.all('system/disconnect')).toEqual([]);
    clock.advance(1);
    expect(flat(await mute.client.next('system/disconnect'))).toMatchObject({ title: 'ping_timeout' });
    expect((await mute.client.closed).code).toBe(1001);
    expect((await vera.client.next('session/left')).payload).toMatchObject({ id: mute.id });
  });

  it('a v2 client that only sends client/heartbeat is never closed for heartbeat_timeout; one that stops is', async () => {
    const clock = new ManualClock();
    await setup({ clock, pingInterval: 0, heartbeatInterval: 10 }, { pingInterval: 300, pingTimeout: 300 });
    const alive = await v2('Alive');
    const quiet = await v2('Quiet');
    expect(alive.heartbeatInterval).toBe(10);
    for (let beat = 1; beat <= 6; beat++) {
      alive.client.raw('{"event":"client/heartbeat"}');
      // An event only the gateway answers: the heartbeat before it has reached the gateway too.
      alive.client.raw('{"event":"nobody/handles"}');
      await alive.client.next('system/error');
      clock.advance(5_000);
    }
    // 30 s passed: Quiet was silent for more than heartbeat_timeout (20 s), Alive never was.
    expect(flat(await quiet.client.next('system/disconnect'))).toMatchObject({ title: 'heartbeat_timeout' });
    expect((await quiet.client.closed).code).toBe(4100);
    expect(alive.client.ws.readyState).toBe(WebSocket.OPEN);
    expect(alive.client.all('system/disconnect')).toEqual([]);
    // The gateway's system/heartbeat has no v2 counterpart.
    expect(alive.client.all('system/heartbeat')).toEqual([]);
  });

  it('a v2 client that vanishes closes its upstream with 1000: the session ends at once', async () => {
    await setup();
    const vera = await v3('Vera');
    const watcher = await v2('Watcher');
    const gone = await v2('Gone');
    await watcher.client.next('member/connected');
    const killedAt = Date.now();
    gone.client.kill(); // no close frame: TCP just goes away
    const left = await vera.client.next('session/left', 2000);
    expect(left.payload).toMatchObject({ id: gone.id });
    expect(left.at - killedAt).toBeLessThan(500); // session_ttl is 30 s: only an ended session is reported this fast
    expect(vera.client.all('session/state')).toEqual([]);
    expect(flat(await watcher.client.next('member/disconnected'))).toMatchObject({ id: gone.id });
    expect(await closesWithCode('1000')).toBe(1);
    expect(adapter.connectionCount).toBe(1);
  });
});
