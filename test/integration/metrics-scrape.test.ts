import type { Gateway } from '../../src/index.js';
import { api, metric, until } from '../support/http-api.js';
import { ClientPool, connect, startGateway } from '../support/gateway.js';
import { sleep, TestClient } from '../support/ws-client.js';

let gw: Gateway | undefined;
const pool = new ClientPool();

afterEach(async () => {
  pool.killAll();
  await gw?.close();
  gw = undefined;
});

async function scrape(g: Gateway): Promise<string> {
  const r = await api(g, 'GET', '/metrics');
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
  return r.body as string;
}

async function open(g: Gateway, hello: Record<string, unknown> = {}, opts?: { answerPings?: boolean }) {
  const c = await connect(g, hello, opts);
  pool.track(c.client);
  return c;
}

test('transport layer: pings sent, pong round trips and ping timeouts move; the dead socket shows as a 1006 close', async () => {
  gw = await startGateway({ pingInterval: 0.2, pingTimeout: 0.2, heartbeatInterval: 0 });
  const before = await scrape(gw);
  await open(gw);
  const dead = await open(gw, {}, { answerPings: false });
  await dead.client.closed;
  await until(async () => metric(await scrape(gw!), 'wsgate_pong_rtt_seconds_count') >= 2, 3000, 'two pongs');
  const after = await scrape(gw);
  expect(metric(after, 'wsgate_pings_sent_total')).toBeGreaterThan(metric(before, 'wsgate_pings_sent_total'));
  expect(metric(after, 'wsgate_ping_timeouts_total')).toBe(1);
  expect(metric(after, 'wsgate_closes_total', { code: '1006' })).toBe(1);
  expect(metric(after, 'wsgate_sessions', { state: 'connected' })).toBe(1);
  expect(metric(after, 'wsgate_sessions', { state: 'disconnected' })).toBe(1);
  expect(metric(after, 'wsgate_connections')).toBe(1);
  // The application layer is off and has its own series: untouched.
  expect(metric(after, 'wsgate_heartbeats_sent_total')).toBe(0);
  expect(metric(after, 'wsgate_heartbeat_timeouts_total')).toBe(0);
});

test('application layer: heartbeats sent and received, heartbeat timeouts and 4100 closes move', async () => {
  gw = await startGateway({ pingInterval: 0, heartbeatInterval: 0.2, heartbeatTimeout: 1 });
  const alive = await open(gw);
  const silent = await open(gw);
  const beat = setInterval(() => alive.client.send('client/heartbeat'), 100);
  try {
    expect((await silent.client.closed).code).toBe(4100);
    await sleep(150);
  } finally {
    clearInterval(beat);
  }
  const text = await scrape(gw);
  expect(metric(text, 'wsgate_heartbeats_sent_total')).toBeGreaterThanOrEqual(2);
  expect(metric(text, 'wsgate_heartbeats_received_total')).toBeGreaterThanOrEqual(3);
  expect(metric(text, 'wsgate_heartbeat_timeouts_total')).toBe(1);
  expect(metric(text, 'wsgate_closes_total', { code: '4100' })).toBe(1);
  expect(metric(text, 'wsgate_messages_in_total', { event: 'client/heartbeat' })).toBeGreaterThanOrEqual(3);
  expect(metric(text, 'wsgate_pings_sent_total')).toBe(0);
});

test('messages in/out by event, resumes by outcome, replayed, buffered bytes and dedup hits move', async () => {
  gw = await startGateway({ pingInterval: 0, heartbeatInterval: 0 });
  const { client, init } = await open(gw, { room: 'm' });
  client.send('channel/subscribe', { channel: 'news' }, 'sub-1');
  await client.next('system/ack');
  client.send('channel/subscribe', { channel: 'news' }, 'sub-1');
  await client.next((f) => f.event === 'system/ack' && (f.payload as { duplicate?: boolean }).duplicate === true);
  const lastSeq = client.lastSeq;
  client.kill();
  await until(async () => metric(await scrape(gw!), 'wsgate_sessions', { state: 'disconnected' }) === 1, 3000, 'disconnect');
  await api(gw, 'POST', '/api/publish', { channel: 'news', data: 'x'.repeat(500) });
  await api(gw, 'POST', `/api/sessions/${init.session_id as string}/send`, { event: 'app/note', payload: 'y'.repeat(500) });
  const away = await scrape(gw);
  expect(metric(away, 'wsgate_replay_buffer_bytes')).toBeGreaterThan(1000);

  const back = new TestClient(gw.url('/api/ws'));
  pool.track(back);
  await back.hello({ resume: { session_id: init.session_id, resume_token: init.resume_token, last_seq: lastSeq } });
  const bad = new TestClient(gw.url('/api/ws'));
  pool.track(bad);
  await bad.hello({ resume: { session_id: init.session_id, resume_token: 'wrong', last_seq: 0 } });
  const text = await scrape(gw);
  expect(metric(text, 'wsgate_messages_in_total', { event: 'client/hello' })).toBe(3);
  expect(metric(text, 'wsgate_messages_in_total', { event: 'channel/subscribe' })).toBe(2);
  expect(metric(text, 'wsgate_messages_out_total', { event: 'channel/message' })).toBe(1);
  expect(metric(text, 'wsgate_messages_out_total', { event: 'app/note' })).toBe(1);
  expect(metric(text, 'wsgate_messages_out_total', { event: 'system/ack' })).toBe(2);
  expect(metric(text, 'wsgate_dedup_hits_total')).toBe(1);
  expect(metric(text, 'wsgate_resumes_total', { outcome: 'resumed' })).toBe(1);
  expect(metric(text, 'wsgate_resumes_total', { outcome: 'bad_token' })).toBe(1);
  expect(metric(text, 'wsgate_replayed_messages_total')).toBe(2);
  expect(metric(text, 'wsgate_api_requests_total', { route: 'publish', status: '200' })).toBe(1);
  expect(metric(text, 'wsgate_api_requests_total', { route: 'send', status: '202' })).toBe(1);
});

test('Node process and event-loop metrics are exported with the wsgate_ prefix', async () => {
  gw = await startGateway({ processMetrics: true, pingInterval: 0, heartbeatInterval: 0 });
  const text = await scrape(gw);
  for (const name of ['wsgate_process_cpu_user_seconds_total', 'wsgate_process_resident_memory_bytes', 'wsgate_nodejs_eventloop_lag_seconds', 'wsgate_nodejs_heap_size_used_bytes']) {
    expect(text).toContain(`\n${name}`);
  }
  expect(text.split('\n').filter((l) => l && !l.startsWith('#') && !l.startsWith('wsgate_'))).toEqual([]);
});

test('a ping due while the event loop is held shows how late it went out; the next scrape starts over', async () => {
  gw = await startGateway({ pingInterval: 0.2, pingTimeout: 5, heartbeatInterval: 0 });
  await open(gw);
  await sleep(300);
  await scrape(gw); // lateness is since the previous scrape
  const end = Date.now() + 400;
  while (Date.now() < end); // the gateway runs in this process: a ping comes due at least 200 ms before this ends
  await sleep(50);
  const held = metric(await scrape(gw), 'wsgate_liveness_lateness_max_seconds', { layer: 'transport' });
  expect(held).toBeGreaterThanOrEqual(0.15);
  const next = metric(await scrape(gw), 'wsgate_liveness_lateness_max_seconds', { layer: 'transport' });
  expect(next).toBeLessThan(held);
});

test('a blocked event loop and garbage-collection pauses show on /metrics', async () => {
  gw = await startGateway({ processMetrics: true, pingInterval: 0, heartbeatInterval: 0 });
  await scrape(gw); // the lag figures are since the previous scrape
  await sleep(50);
  const end = Date.now() + 250;
  while (Date.now() < end); // the gateway runs in this process: hold its loop for 250 ms
  let kept = 0;
  for (let i = 0; i < 200; i++) kept += new Array<number>(50_000).fill(i).length; // ~80 MB of garbage: a few GCs
  expect(kept).toBe(10_000_000);
  await sleep(100); // the GC observer reports asynchronously
  const text = await scrape(gw);
  expect(metric(text, 'wsgate_nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.2);
  expect(metric(text, 'wsgate_nodejs_eventloop_lag_p99_seconds')).toBeGreaterThan(0);
  const gcCount = ['minor', 'major', 'incremental']
    .map((kind) => metric(text, 'wsgate_nodejs_gc_duration_seconds_count', { kind }))
    .reduce((a, b) => a + b, 0);
  expect(gcCount).toBeGreaterThan(0);
});

test('client-chosen event names cannot mint new series: unknown ones are counted as "other"', async () => {
  gw = await startGateway({ maxErrors: 100 });
  const { client: c } = await pool.connect(gw);
  for (const name of ['client/x1', 'client/x2', 'send/whatever', 'app/y']) c.send(name, {});
  await c.next((f) => f.event === 'system/error' && (f.payload as { event?: string }).event === 'app/y');
  const text = await scrape(gw);
  expect(metric(text, 'wsgate_messages_in_total', { event: 'other' })).toBe(4);
  expect(text).not.toContain('event="client/x1"');
  expect(text).not.toContain('event="send/whatever"');
});
