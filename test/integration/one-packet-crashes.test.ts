import { connect } from 'node:net';
import WebSocket from 'ws';
import { startWsgate, type WsgateProcess } from '../support/wsgate-process.js';

/** Send raw bytes on a fresh TCP connection and collect what comes back until the server closes or 2 s pass. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, 2000);
    sock.on('data', (d) => (got += d.toString()));
    sock.on('close', done);
    sock.on('error', done);
    sock.write(bytes);
  });
}

/** Messages are collected from the moment the socket exists: a first message in the same TCP read as the 101 arrives before 'open' resolves. */
const inbox = new WeakMap<WebSocket, string[]>();
function openWs(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const box: string[] = [];
    inbox.set(ws, box);
    ws.on('message', (data) => box.push(data.toString()));
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** The next collected message matching `pred` (earlier ones are consumed); rejects naming `what` and what did arrive after 10 s. */
async function nextMessage(ws: WebSocket, pred: (m: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
  const box = inbox.get(ws)!;
  const seen: string[] = [];
  const deadline = Date.now() + 10_000;
  for (;;) {
    while (box.length > 0) {
      const text = box.shift()!;
      seen.push(text.slice(0, 200));
      const m = JSON.parse(text) as Record<string, unknown>;
      if (pred(m)) return m;
    }
    if (Date.now() > deadline) throw new Error(`no ${what} within 10 s; got: ${seen.join(' | ').slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

let gw: WsgateProcess;
beforeAll(async () => {
  gw = await startWsgate([]);
});
afterAll(() => gw.kill());

async function stillServing(): Promise<void> {
  const res = await fetch(`${gw.base}/healthz`);
  expect(res.status).toBe(200);
  expect(gw.child.exitCode).toBeNull();
}

describe('one packet from outside cannot end the process', () => {
  test.each([
    ['absolute-form target with a bad port', 'GET http://x:99999/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
    ['absolute-form target with a bad host', 'GET http://[/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ])('HTTP request: %s → 400, and the gateway keeps serving', async (_name, req) => {
    const answer = await raw(gw.port, req);
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    await stillServing();
  });

  test('upgrade to /api/ws with a bad absolute-form target → 400, gateway keeps serving', async () => {
    const answer = await raw(
      gw.port,
      'GET http://x:99999/api/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    await stillServing();
  });

  test('an absolute-form target with a good authority still routes on its path', async () => {
    const answer = await raw(gw.port, 'GET http://example.com:8080/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
  });

  test('a v2 frame nested 6,000 deep gets system/error bad_message; the v2 client stays connected', async () => {
    const ws = await openWs(`ws://127.0.0.1:${gw.port}/ws?username=deep&password=x`);
    await nextMessage(ws, (m) => m.event === 'system/init', 'v2 system/init');
    const err = nextMessage(ws, (m) => m.event === 'system/error', 'v2 system/error');
    ws.send(`{"event":"chat/message","text":${nested(6000)}}`);
    expect(await err).toMatchObject({ title: 'bad_message', message: expect.stringMatching(/nested deeper/) });
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
    await stillServing();
  });

  test('a v3 unicast nested 4,100 deep to a v2 client is refused bad_message; nothing is delivered', async () => {
    const v2 = await openWs(`ws://127.0.0.1:${gw.port}/ws?username=target&password=x`);
    await nextMessage(v2, (m) => m.event === 'system/init', 'v2 system/init');
    const v3 = await openWs(`ws://127.0.0.1:${gw.port}/api/ws`);
    v3.send(JSON.stringify({ event: 'client/hello', payload: { room: 'main' } }));
    const init = await nextMessage(v3, (m) => m.event === 'system/init', 'v3 system/init');
    const members = ((init.payload as Record<string, unknown>).sessions ?? []) as { id: string; profile?: { name?: string } }[];
    const target = members.find((m) => m.profile?.name === 'target');
    expect(target).toBeDefined();
    const err = nextMessage(v3, (m) => m.event === 'system/error', 'v3 system/error');
    v3.send(`{"event":"send/unicast","id":"deep1","payload":{"to":"${target!.id}","event":"chat/message","payload":${nested(4100)}}}`);
    expect((await err).payload).toMatchObject({ code: 'bad_message' });
    v3.close();
    v2.close();
    await stillServing();
  });

  test('an API body nested 10,000 deep → 400 naming body', async () => {
    const res = await fetch(`${gw.base}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"channel":"c","payload":${nested(10000)}}`,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: 'body' });
    await stillServing();
  });
});
