import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mountLegacyAdapter } from '../../legacy-adapter/index.js';
import type { Gateway } from '../../src/index.js';
import { api, until } from '../support/http-api.js';
import { startGateway } from '../support/gateway.js';
import { TestClient, type Received } from '../support/ws-client.js';

/**
 * The JSON Schemas of docs/asyncapi.yaml against the wire: a real gateway with the legacy adapter, v3 and v2
 * clients that go through every event of the document (hello, resume, channels, unicast, broadcast, acks,
 * duplicates, errors, heartbeats, backend sends, kicks), every frame recorded both ways and validated by
 * scripts/check-asyncapi.mjs. Every event the document names must also have been seen on the wire.
 */
const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let gw: Gateway;
const clients: TestClient[] = [];
const sent: Record<'v3Receive' | 'v2Receive', Record<string, unknown>[]> = { v3Receive: [], v2Receive: [] };

beforeAll(async () => {
  // presence_limit 4: room main (ann, bob, carl, dan) stays small; the crowd room of 5 is big (room/presence).
  gw = await startGateway({ heartbeatInterval: 1, pingInterval: 0, presenceLimit: 4 });
  mountLegacyAdapter(gw);
  gw.handle('app/echo', (ctx) => ctx.reply('app/echoed', { got: ctx.payload }));
});
afterAll(async () => {
  for (const c of clients) c.kill();
  await gw?.close();
});

function open(path: string): TestClient {
  const c = new TestClient(gw.url(path));
  clients.push(c);
  return c;
}
function v3(c: TestClient, frame: Record<string, unknown>): void {
  sent.v3Receive.push(frame);
  c.raw(JSON.stringify(frame));
}
function v2(c: TestClient, frame: Record<string, unknown>): void {
  sent.v2Receive.push(frame);
  c.raw(JSON.stringify(frame));
}
const strip = (frames: Received[]): Record<string, unknown>[] => frames.map(({ at: _at, ...f }) => f);

async function v3Hello(c: TestClient, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
  await c.open();
  v3(c, { event: 'client/hello', payload });
  return (await c.next('system/init')).payload as Record<string, unknown>;
}

async function exercise(): Promise<{ v3: TestClient[]; v2: TestClient[] }> {
  const ann = open('/api/ws');
  const annInit = await v3Hello(ann, { profile: { name: 'ann' }, token: 't' });
  const bob = open('/api/ws');
  const bobInit = await v3Hello(bob, { profile: { name: 'bob' } });
  const carl = open('/ws?username=carl&password=pw');
  await carl.next('system/init');
  await ann.next('session/joined');

  v3(ann, { event: 'channel/subscribe', id: 's1', payload: { channel: 'news' } });
  await ann.next('channel/subscribed');
  v3(ann, { event: 'channel/publish', id: 'p1', payload: { channel: 'news', data: { title: 'hi' } } });
  await ann.next('channel/message');
  v3(ann, { event: 'channel/publish', id: 'p1', payload: { channel: 'news', data: { title: 'hi' } } });
  await ann.next((f) => f.event === 'system/ack' && (f.payload as { duplicate?: boolean }).duplicate === true);
  v3(ann, { event: 'send/unicast', id: 'u1', payload: { receiver: bobInit.session_id, subject: 'psst', body: { n: 1 } } });
  await bob.next('send/unicast');
  v3(ann, { event: 'send/broadcast', payload: { subject: 'chat/message', body: { text: 'hello all' } } });
  await carl.next('chat/message');
  v3(ann, { event: 'send/broadcast', payload: { subject: 'chat/emote', body: { emote: 'wave' } } });
  await carl.next('chat/emote');
  v3(ann, { event: 'app/echo', id: 'e1', payload: [1, 2] });
  await ann.next('app/echoed');
  v3(ann, { event: 'nope/never', id: 'n1' });
  await ann.next('system/error');
  v3(ann, { event: 'client/heartbeat' });
  v3(ann, { event: 'client/ack', payload: { seq: ann.lastSeq } });
  await ann.next('system/heartbeat', 3000);
  v3(ann, { event: 'channel/unsubscribe', id: 'x1', payload: { channel: 'news' } });
  await ann.next('channel/unsubscribed');

  v2(carl, { event: 'client/heartbeat' });
  v2(carl, { event: 'chat/message', content: 'from carl' });
  v2(carl, { event: 'chat/emote', emote: 'bow' });
  await ann.next((f) => f.event === 'send/broadcast' && (f.payload as { subject: string }).subject === 'chat/emote');
  v2(carl, { event: 'game/move', x: 1 });
  await carl.next('system/error'); // unknown_event, translated
  await api(gw, 'POST', `/api/sessions/${annInit.session_id as string}/send`, { event: 'order/shipped', payload: { order: 42 } });
  await ann.next('order/shipped');

  // bob drops and resumes: ann sees session/state twice, bob gets the replay.
  bob.kill();
  await ann.next((f) => f.event === 'session/state' && (f.payload as { is_connected: boolean }).is_connected === false);
  const bob2 = open('/api/ws');
  await v3Hello(bob2, { resume: { session_id: bobInit.session_id, resume_token: bobInit.resume_token, last_seq: 0 } });
  await ann.next((f) => f.event === 'session/state' && (f.payload as { is_connected: boolean }).is_connected === true);

  // A new v3 session joins and is kicked: everyone hears it leave; carl sees member/connected and member/disconnected.
  const dan = open('/api/ws');
  const danInit = await v3Hello(dan, { profile: { name: 'dan' }, resumable: false });
  await carl.next('member/connected');
  await api(gw, 'DELETE', `/api/sessions/${danInit.session_id as string}`);
  await dan.next('system/disconnect');
  await ann.next('session/left');
  await carl.next('member/disconnected');
  // carl's own session is kicked: v2 system/disconnect.
  const carlId = (gw.sessions().find((s) => s.profile.name === 'carl') as { id: string }).id;
  await api(gw, 'DELETE', `/api/sessions/${carlId}`);
  await carl.next('system/disconnect');
  await until(() => carl.closed.then(() => true), 3000, 'carl closed');

  // A big room: counts instead of joins, a cut system/init, and a page of the member list.
  const crowd: TestClient[] = [];
  for (let i = 0; i < 5; i++) {
    const c = open('/api/ws');
    await v3Hello(c, { room: 'crowd', profile: { name: `c${i}` } });
    crowd.push(c);
  }
  await crowd[0]!.next('room/presence');
  v3(crowd[4]!, { event: 'room/list', id: 'l1', payload: { offset: 0, limit: 2 } });
  await crowd[4]!.next('room/page');
  return { v3: [ann, bob, bob2, dan, ...crowd], v2: [carl] };
}

test('every frame on the wire matches its schema in docs/asyncapi.yaml, and every documented event occurs', async () => {
  const seen = await exercise();
  const dir = mkdtempSync(join(tmpdir(), 'asyncapi-frames-'));
  try {
    const file = join(dir, 'frames.json');
    writeFileSync(file, JSON.stringify({
      v3Send: seen.v3.flatMap((c) => strip(c.frames)),
      v3Receive: sent.v3Receive,
      v2Send: seen.v2.flatMap((c) => strip(c.frames)),
      v2Receive: sent.v2Receive,
    }));
    const out = await run(process.execPath, [join(ROOT, 'scripts', 'check-asyncapi.mjs'), '--frames', file], { cwd: ROOT }).catch((e: { stdout: string }) => e);
    const report = JSON.parse(out.stdout) as {
      errors: string[];
      operations: Record<string, { events: string[] }>;
      frames: { checked: number; errors: string[]; seen: Record<string, string[]> };
    };
    expect(report.errors).toEqual([]);
    expect(report.frames.errors).toEqual([]);
    expect(report.frames.checked).toBeGreaterThan(60);
    for (const [op, { events }] of Object.entries(report.operations)) {
      expect({ op, missing: events.filter((e) => !report.frames.seen[op]?.includes(e)) }).toEqual({ op, missing: [] });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
