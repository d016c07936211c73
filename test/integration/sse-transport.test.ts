import http from 'node:http';
import { EventSource } from 'eventsource';
import pino from 'pino';
import WebSocket from 'ws';
import { WsgateClient, type EventSourceConstructor, type FetchLike } from '../../src/client/index.js';
import { gatewayTestHooks } from '../../src/gateway.js';
import type { Gateway } from '../../src/index.js';
import { startGateway } from '../support/gateway.js';

// The SSE transport end to end in Node: the SDK over a real gateway's /api/sse (the `eventsource`
// package standing in for the browser's EventSource), on the same sessions as WebSocket.

let gw: Gateway;
const clients: WsgateClient[] = [];

function until(pred: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (pred()) resolve();
      else if (Date.now() > deadline) reject(new Error(`${what}: not met in time`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

/** A WebSocket class whose upgrades never succeed, as behind a proxy that strips them. */
class RefusedWebSocket extends WebSocket {
  constructor(url: string) {
    super(url.replace('/api/ws', '/no-such-upgrade'));
  }
}

function sseClient(over: Partial<ConstructorParameters<typeof WsgateClient>[0]> = {}): WsgateClient {
  const c = new WsgateClient({
    url: gw.url('/api/ws'),
    WebSocket: RefusedWebSocket,
    backoff: { minDelay: 10, maxDelay: 50 },
    sse: { after: 2, EventSource: EventSource as unknown as EventSourceConstructor, fetch: fetch as unknown as FetchLike },
    ...over,
  });
  clients.push(c);
  return c;
}

async function metricLine(name: string): Promise<string[]> {
  const text = await (await fetch(gw.url('/metrics'))).text();
  return text.split('\n').filter((l) => l.startsWith(name));
}

beforeEach(async () => {
  gw = await startGateway({ pingInterval: 0.2, pingTimeout: 1, heartbeatInterval: 1 });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await gw.close();
});

describe('the SSE transport', () => {
  it('falls back after refused upgrades, then carries hello, channels and acked sends; the metric says sse', async () => {
    const c = sseClient();
    const got: number[] = [];
    const sub = c.subscribe('news', (m) => got.push(m.data as number));
    await until(() => c.state === 'connected' && sub.state === 'subscribed', 10_000, 'connected over SSE');
    expect(c.transport).toBe('sse');
    expect(c.stats.reconnects).toBeGreaterThanOrEqual(2); // the refused WebSocket attempts
    for (let n = 1; n <= 20; n++) await gw.publish('news', n);
    await until(() => got.length === 20);
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await expect(c.send('channel/publish', { channel: 'news', data: 21 })).resolves.toMatchObject({ duplicate: false });
    await until(() => got.length === 21);
    expect(await metricLine('wsgate_connections{')).toEqual(expect.arrayContaining(['wsgate_connections{transport="sse"} 1']));
  });

  it('sends a burst bigger than one POST may carry (16 × max_payload) in several, every message once and in order', async () => {
    const c = sseClient();
    const got: number[] = [];
    const sub = c.subscribe('burst', (m) => got.push((m.data as { n: number }).n));
    await until(() => c.state === 'connected' && sub.state === 'subscribed', 10_000, 'connected over SSE');
    const pad = 'x'.repeat(60_000);
    // 40 × 60 kB queued at once: 2.4 MB, over the 1 MiB a POST body may be (one POST of it all was refused, 413).
    const sent = await Promise.all(Array.from({ length: 40 }, (_, n) => c.publish('burst', { n, pad })));
    expect(sent).toHaveLength(40);
    await until(() => got.length === 40, 10_000, '40 messages back');
    expect(got).toEqual(Array.from({ length: 40 }, (_, n) => n));
    expect(c.stats.resumes).toBe(0); // one stream, never cut
  });

  it('resumes the session after the stream is cut, from the last seq it received, nothing lost or doubled', async () => {
    const c = sseClient();
    const got: number[] = [];
    c.subscribe('ticks', (m) => got.push(m.data as number));
    await until(() => c.subscription('ticks')?.state === 'subscribed');
    const first = c.sessionId;
    for (let n = 1; n <= 60; n++) {
      await gw.publish('ticks', n);
      if (n === 20 || n === 40) {
        await until(() => c.state === 'connected' && gw.session(c.sessionId!)?.isConnected === true, 10_000, 'connected before the cut');
        expect(gw.dropConnection(c.sessionId!)).toBe(true); // the next ten are published while it reconnects
      }
      if (n === 30 || n === 50) await until(() => c.stats.resumes === (n === 30 ? 1 : 2), 10_000, 'the resume');
    }
    await until(() => got.length >= 60, 15_000, 'sixty');
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(c.sessionId).toBe(first);
    expect(c.stats.resumes).toBe(2);
    expect(c.transport).toBe('sse');
  });

  it('keeps an idle stream alive with comments and the heartbeat, and a close 1000 ends the session', async () => {
    const c = sseClient();
    await until(() => c.state === 'connected');
    const id = c.sessionId!;
    await new Promise((r) => setTimeout(r, 2500)); // past heartbeat_timeout (2 s): POSTed heartbeats keep it
    expect(c.state).toBe('connected');
    expect(c.stats.reconnects).toBe(2);
    c.close();
    await until(() => gw.session(id) === undefined, 5_000, 'the session to end');
  });

  it('a ticket flood from one address gets 429 and does not keep other addresses out', async () => {
    const port = Number(new URL(gw.url('/')).port);
    const post = (localAddress: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: '/api/sse', method: 'POST', localAddress, agent: false }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += String(d)));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const mine: string[] = [];
    for (let i = 0; i < 32; i++) {
      const r = await post('127.0.0.3');
      expect(r.status).toBe(200);
      mine.push((JSON.parse(r.body) as { ticket: string }).ticket);
    }
    expect((await post('127.0.0.3')).status).toBe(429);
    expect((await post('127.0.0.4')).status).toBe(200);
    // Spending a ticket gives the address one back.
    const ctl = new AbortController();
    const stream = await fetch(gw.url(`/api/sse/stream?ticket=${mine[0]!}`), { signal: ctl.signal });
    expect(stream.status).toBe(200);
    ctl.abort();
    expect((await post('127.0.0.3')).status).toBe(200);
  });

  it('refuses a spent ticket, an unknown key and a foreign origin; nothing secret in the stream URL', async () => {
    const open = await fetch(gw.url('/api/sse'), { method: 'POST' });
    const { ticket, key } = (await open.json()) as { ticket: string; key: string };
    const ctl = new AbortController();
    const stream = await fetch(gw.url(`/api/sse/stream?ticket=${ticket}`), { signal: ctl.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const again = await fetch(gw.url(`/api/sse/stream?ticket=${ticket}`));
    expect(again.status).toBe(404);
    const wrong = await fetch(gw.url('/api/sse/send'), { method: 'POST', headers: { 'x-wsgate-key': 'nope' }, body: '{}' });
    expect(wrong.status).toBe(404);
    const hello = await fetch(gw.url('/api/sse/send'), { method: 'POST', headers: { 'x-wsgate-key': key }, body: '{"event":"client/hello","payload":{}}' });
    expect(hello.status).toBe(204);
    const reader = stream.body!.getReader();
    let text = '';
    const readUntil = async (what: string): Promise<void> => {
      while (!text.includes(what)) text += new TextDecoder().decode((await reader.read()).value);
    };
    await readUntil('system/init');
    expect(text).toMatch(/^retry: \d+\n: open\n\n/);
    expect(text).toContain('\ndata: {"event":"system/init"');
    // Two frames in one POST, newline-separated; the stream frames carry their seq as the event id.
    const two = '{"event":"channel/subscribe","id":"a","payload":{"channel":"x"}}\n{"event":"client/heartbeat"}';
    expect((await fetch(gw.url('/api/sse/send'), { method: 'POST', headers: { 'x-wsgate-key': key }, body: two })).status).toBe(204);
    await readUntil('channel/subscribed');
    expect(text).toMatch(/\nid: (\d+)\ndata: \{"event":"channel\/subscribed","seq":\1,/);
    ctl.abort(); // the reader goes away: a quiet close
    await until(() => gw.sessions().every((s) => !s.isConnected), 5_000, 'the stream to close');
    const foreign = await fetch(gw.url('/api/sse'), { method: 'POST', headers: { origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
  });

  it('logs a reader that goes away as a quiet close: nothing at warn or above', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as { level: number; msg: string }) });
    const quiet = await startGateway({ logger });
    try {
      const { ticket, key } = (await (await fetch(quiet.url('/api/sse'), { method: 'POST' })).json()) as { ticket: string; key: string };
      const ctl = new AbortController();
      const stream = await fetch(quiet.url(`/api/sse/stream?ticket=${ticket}`), { signal: ctl.signal });
      await fetch(quiet.url('/api/sse/send'), { method: 'POST', headers: { 'x-wsgate-key': key }, body: '{"event":"client/hello","payload":{}}' });
      await until(() => quiet.sessions().some((x) => x.isConnected), 5_000, 'hello');
      ctl.abort();
      await stream.body?.cancel().catch(() => undefined);
      await until(() => lines.some((l) => l.msg === 'connection closed'), 5_000, 'the close to be logged');
      expect(lines.filter((l) => l.level >= 40)).toEqual([]);
      expect(quiet.sessions()).toHaveLength(1); // kept for session_ttl, resumable
    } finally {
      await quiet.close();
    }
  });

  it('drains an SSE connection like a WebSocket: close 1012, and no new stream while draining', async () => {
    const c = sseClient();
    await until(() => c.state === 'connected');
    const closed = new Promise<{ code: number }>((resolve) => c.once('disconnected', resolve));
    const drained = gatewayTestHooks(gw).drainConnections();
    await expect(closed).resolves.toMatchObject({ code: 1012 });
    await drained;
    expect((await fetch(gw.url('/api/sse'), { method: 'POST' })).status).toBe(503);
  });

  it('writes id: seq on stream frames and a close event with the code when the server closes', async () => {
    const c = sseClient();
    await until(() => c.state === 'connected');
    const failed = new Promise<{ code: number }>((resolve) => c.once('failed', resolve));
    await expect(gw.endSession(c.sessionId!)).resolves.toBe(true); // 4003 kicked: the client must stop
    await expect(failed).resolves.toMatchObject({ code: 4003 });
  });
});
