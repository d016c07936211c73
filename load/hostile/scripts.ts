/**
 * One hostile session per call: what a lane of the fuzz worker does on one connection. Each
 * script counts what it sent into `HostileCounts` and resolves when the connection is gone.
 */
import { connect } from 'node:net';
import { RawWs } from './raw-ws.js';
import { badText, closePayload, HOSTILE_NAMES, nestedJson, pick, PROTO_NAMES, randomString, randomValue, rnd, upgradeHeaders, v2Frame, v3Frame } from './payloads.js';

/** What the hostile clients sent and what they got back. Plain data: it crosses IPC. */
export interface HostileCounts {
  /** WebSocket frames written after a successful upgrade (hello included). */
  frames: number;
  /** Plain HTTP requests and upgrade requests with garbage. */
  httpRequests: number;
  /** WebSocket connections upgraded (101). */
  connections: number;
  /** Close codes the server sent, by code ('none': the TCP connection ended without one). */
  closes: Record<string, number>;
  /** HTTP statuses answered ('none': closed without an answer). */
  statuses: Record<string, number>;
}

/** Zeroed counts. */
export function emptyCounts(): HostileCounts {
  return { frames: 0, httpRequests: 0, connections: 0, closes: {}, statuses: {} };
}

const bump = (rec: Record<string, number>, key: string): void => {
  rec[key] = (rec[key] ?? 0) + 1;
};

/** Where the scripts aim, and the limits they probe. */
export interface Target {
  port: number;
  host: string;
  localAddress?: string;
  maxPayload: number;
  /** Session ids seen in hostile `system/init`s, to aim unicasts and resumes at. */
  sessionIds: string[];
}

const OPCODE_TEXT = 1;
const OPCODE_BINARY = 2;
const OPCODE_CLOSE = 8;
const OPCODE_PING = 9;

/** Protocol violations `ws` must refuse with 1002 (or that end the connection some other way). */
function violate(ws: RawWs): void {
  pick([
    () => ws.send(OPCODE_TEXT, '{"event":"client/heartbeat"}', { mask: false }),
    () => ws.send(OPCODE_TEXT, '{"event":"client/heartbeat"}', { rsv: 4 }),
    () => ws.send(pick([3, 4, 7, 11, 15]), 'x'),
    () => ws.send(OPCODE_PING, Buffer.alloc(126)),
    () => ws.send(OPCODE_PING, 'x', { fin: false }),
    () => ws.send(0, 'continuation without a start'),
    () => ws.send(OPCODE_TEXT, Buffer.from([0xc3, 0x28, 0xff])), // invalid UTF-8: 1007
    () => ws.write(Buffer.from([0x81, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), // a 2^63-byte frame
    () => ws.send(OPCODE_CLOSE, closePayload()),
    () => ws.send(OPCODE_TEXT, JSON.stringify({ event: 'client/hello', payload: randomValue(1) }) ?? 'null'), // a second hello: 4000
  ])();
}

async function hello(ws: RawWs, t: Target, c: HostileCounts): Promise<void> {
  const resume = rnd(3) === 0 ? { session_id: t.sessionIds.length ? pick(t.sessionIds) : randomString(21), resume_token: randomString(30), last_seq: pick([0, 1, -1, 2 ** 60, 'x']) } : undefined;
  const good = { room: pick(HOSTILE_NAMES), profile: { name: randomString(12), extra: randomValue(2) }, token: pick([undefined, randomString(40), 'a.b.c', 'x'.repeat(10_000)]) };
  // Mostly a hello that opens a session (so the frames after it reach the handlers), sometimes garbage.
  const payload = pick([
    () => good, () => good, () => good, () => ({ ...good, resume }), () => ({ ...good, resume: { session_id: pick(t.sessionIds.length ? t.sessionIds : ['x']), resume_token: 'x', last_seq: 0 } }),
    () => ({ room: randomString(10), resume }),
    () => randomValue(2),
    () => ({ profile: JSON.parse(nestedJson(60)) as unknown }),
  ])();
  c.frames++;
  ws.send(OPCODE_TEXT, JSON.stringify({ event: 'client/hello', payload }) ?? 'null');
  const init = await ws.waitText((m) => m.includes('"system/init"'), 3000);
  const id = init ? /"session_id":"([^"]+)"/.exec(init)?.[1] : undefined;
  if (id && t.sessionIds.length < 500) t.sessionIds.push(id);
  else if (id) t.sessionIds[rnd(500)] = id;
}

/** A frame of exactly `size` bytes: a broadcast whose body pads it out (max_payload − 1, max_payload, max_payload + 1). */
function sized(size: number): string {
  const head = '{"event":"send/broadcast","payload":{"subject":"s","body":"';
  return `${head}${'z'.repeat(Math.max(0, size - head.length - 3))}"}}`;
}

/** Yield to the event loop, and wait for the socket to drain when the kernel stopped taking bytes. */
async function pace(ws: RawWs): Promise<void> {
  if (ws.socket.writableLength > 256 * 1024) await Promise.race([new Promise((r) => ws.socket.once('drain', r)), ws.done]);
  else await new Promise((r) => setImmediate(r));
}

/** A v3 session: hello (good, garbage or resume), then a burst of frames, some of them violations; then a close of some kind. */
export async function v3Session(t: Target, c: HostileCounts, frames: number): Promise<void> {
  const ws = new RawWs(t.port, t.host, t.localAddress);
  const status = await ws.open(pick(['/api/ws', '/api/ws?x=%ff', '/api/ws/../api/ws']), upgradeHeaders());
  if (status !== 101) return settle(ws, c, status);
  c.connections++;
  if (rnd(10) > 0) await hello(ws, t, c);
  for (let i = 0; i < frames && ws.isOpen; i++) {
    c.frames++;
    const r = rnd(100);
    if (r < 85) ws.send(OPCODE_TEXT, v3Frame(t.sessionIds));
    else if (r < 96) ws.send(OPCODE_TEXT, badText(t.maxPayload, t.sessionIds));
    else if (r < 97) ws.send(OPCODE_TEXT, sized(t.maxPayload + pick([-1, 0, 1])));
    else if (r < 98) ws.send(OPCODE_BINARY, Buffer.from(randomString(50)));
    else if (r < 99 || i < frames / 2) ws.send(OPCODE_TEXT, v3Frame(t.sessionIds));
    else violate(ws);
    if (i % 16 === 15) await pace(ws);
  }
  endSession(ws, c);
  await settle(ws, c, status);
}

/** A v2 client through the adapter: a hostile query string, then frames. */
export async function v2Session(t: Target, c: HostileCounts, frames: number): Promise<void> {
  const ws = new RawWs(t.port, t.host, t.localAddress);
  const name = encodeURIComponent(pick([randomString(12), pick(PROTO_NAMES), 'x'.repeat(3000)]));
  const query = pick([`?username=${name}&password=${encodeURIComponent(randomString(20))}`, '?password=', '', `?username=${name}&username=b&password[]=c`, '?%zz']);
  const status = await ws.open(`/ws${query}`, upgradeHeaders());
  if (status !== 101) return settle(ws, c, status);
  c.connections++;
  await ws.waitText((m) => m.includes('"system/init"'), 3000);
  for (let i = 0; i < frames && ws.isOpen; i++) {
    c.frames++;
    if (rnd(100) === 0 && i > frames / 2) violate(ws);
    else ws.send(rnd(100) === 0 ? OPCODE_BINARY : OPCODE_TEXT, v2Frame());
    if (i % 16 === 15) await pace(ws);
  }
  endSession(ws, c);
  await settle(ws, c, status);
}

function endSession(ws: RawWs, c: HostileCounts): void {
  if (!ws.isOpen) return;
  c.frames++;
  const how = rnd(3);
  if (how === 0) ws.send(OPCODE_CLOSE, closePayload());
  else if (how === 1) ws.kill();
  else ws.send(OPCODE_CLOSE, Buffer.from([0x03, 0xe8]));
}

async function settle(ws: RawWs, c: HostileCounts, status: number): Promise<void> {
  if (status !== 101) {
    c.httpRequests++;
    bump(c.statuses, status ? String(status) : 'none');
  }
  const killer = setTimeout(() => ws.kill(), 4000);
  const out = await ws.done;
  clearTimeout(killer);
  if (status === 101) bump(c.closes, out.closeCode ? String(out.closeCode) : 'none');
}

const GARBAGE_REQUESTS: (() => string)[] = [
  () => `GET http://x:${pick([99999, -1, 0, 65536])}/healthz HTTP/1.1\r\nHost: x\r\n\r\n`,
  () => 'GET http://[/ HTTP/1.1\r\nHost: x\r\n\r\n',
  () => `${randomString(8).replace(/\s/g, '')} /${randomString(30).replace(/\s/g, '')} HTTP/1.1\r\nHost: x\r\n\r\n`,
  () => `GET /api/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: ${pick(['13', '8', 'x', ''])}\r\n${pick(['', 'Sec-WebSocket-Key: short\r\n'])}\r\n`,
  () => `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: ${pick(['websocket', 'h2c', 'WebSocket, foo'])}\r\nConnection: ${pick(['Upgrade', 'close', 'keep-alive'])}\r\n\r\n`,
  () => `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(pick([100, 20_000, 70_000]))}\r\n\r\n`,
  () => `POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Type: ${pick(['application/json', 'text/plain'])}\r\nContent-Length: ${pick([5, 100, 2 ** 40])}\r\n\r\n${JSON.stringify(randomValue())}`,
  () => apiRequest(),
  () => `GET /${randomString(10).replace(/\s/g, '')} HTTP/${pick(['1.1', '1.0', '2.0', '9'])}\r\n\r\n`,
  () => randomString(300),
  () => 'GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nzzz',
  () => sseRequest(),
];

/** The SSE transport's routes: tickets, streams and sends with garbage tickets, keys and bodies. */
function sseRequest(): string {
  const key = pick(['', randomString(32).replace(/[\r\n]/g, ''), 'x'.repeat(5000)]);
  const body = pick([v3Frame([]), `${v3Frame([])}\n${badText(1024, [])}`, randomString(300)]);
  const len = Buffer.byteLength(body);
  return pick([
    () => `POST /api/sse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    () => `GET /api/sse/stream?ticket=${encodeURIComponent(randomString(24))} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    () => `POST /api/sse/${pick(['send', 'close'])} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-wsgate-key: ${key}\r\nContent-Length: ${len}\r\nConnection: close\r\n\r\n${body}`,
  ])();
}

function apiRequest(): string {
  const body = pick([
    () => JSON.stringify({ channel: pick([...HOSTILE_NAMES, randomString(10)]), data: randomValue() }),
    () => JSON.stringify({ event: pick(['app/x', 'system/init', ...PROTO_NAMES]), payload: randomValue() }),
    () => `{"channel":"c","data":${nestedJson(pick([62, 63, 64, 10_000]))}}`,
    () => randomString(100),
  ])();
  const path = pick(['/api/publish', `/api/sessions/${encodeURIComponent(randomString(10))}/send`, '/api/sessions/%ff/send', `/api/sessions/${pick(PROTO_NAMES)}/send`]);
  const len = Buffer.byteLength(body);
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${len}\r\nConnection: close\r\n\r\n${body}`;
}

/** One plain HTTP request (garbage, oversized, hostile API call) on its own connection. */
export function httpRequest(t: Target, c: HostileCounts): Promise<void> {
  c.httpRequests++;
  return new Promise((resolve) => {
    const sock = connect({ port: t.port, host: t.host, localAddress: t.localAddress });
    let status = '';
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      bump(c.statuses, status || 'none');
      resolve();
    };
    const timer = setTimeout(done, 4000);
    sock.on('data', (d: Buffer) => {
      status ||= /^HTTP\/1\.[01] (\d{3})/.exec(d.subarray(0, 16).toString('latin1'))?.[1] ?? 'junk';
      done();
    });
    sock.on('close', done);
    sock.on('error', () => undefined);
    sock.end(pick(GARBAGE_REQUESTS)());
  });
}
