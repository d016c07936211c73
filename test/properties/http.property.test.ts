/**
 * Properties of the HTTP front and the backend API, against the real `wsgate` command: random
 * request lines, headers and targets as raw bytes over TCP always get an HTTP answer or a close,
 * random API bodies get 2xx/4xx and never 5xx, and after all of it the process still serves
 * /healthz, logged no error, and a v3 and a v2 client that received every accepted send are still connected.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import WebSocket from 'ws';
import { startWsgate, type WsgateProcess } from '../support/wsgate-process.js';
import { anyText, frameLike, nested } from '../support/arbitraries.js';

let gw: WsgateProcess;
beforeAll(async () => {
  gw = await startWsgate([], 25_000);
}, 30_000);
afterAll(() => gw?.kill());

/** Send raw bytes, half-close, and report what came back: an answer's status line, or 'closed' / 'timeout'. */
function exchange(bytes: Buffer, ms = 4000): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(gw.port, '127.0.0.1');
    let got = '';
    const done = (outcome: string): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done(got ? got.split('\r\n')[0]! : 'timeout'), ms);
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n')) done(got.split('\r\n')[0]!);
    });
    sock.on('close', () => done(got ? got.split('\r\n')[0]! : 'closed'));
    sock.on('error', () => done('closed'));
    sock.end(bytes);
  });
}

async function healthy(): Promise<void> {
  const res = await fetch(`${gw.base}/healthz`, { signal: AbortSignal.timeout(1000) });
  expect(res.status).toBe(200);
  expect(gw.child.exitCode).toBeNull();
}

/** Mostly `sane`, sometimes `hostile`: a request with every part random never gets past the parser's first byte. */
const mostly = <T>(sane: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.oneof({ weight: 6, arbitrary: sane }, { weight: 1, arbitrary: hostile });
const headerName = fc.oneof(
  fc.constantFrom('Host', 'Upgrade', 'Connection', 'Sec-WebSocket-Key', 'Sec-WebSocket-Version', 'Sec-WebSocket-Protocol', 'Sec-WebSocket-Extensions',
    'Origin', 'Content-Length', 'Transfer-Encoding', 'Content-Type', 'X-Forwarded-For', 'Cookie', 'Authorization', 'Expect', 'Sec-Fetch-Site'),
  fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/),
);
const headerValue = fc.oneof(
  fc.constantFrom('websocket', 'Upgrade', 'keep-alive, Upgrade', '13', '8', '-1', '99999999999999999999', 'dGhlIHNhbXBsZSBub25jZQ==', 'chunked', 'gzip, chunked',
    'http://evil.example', 'null', 'permessage-deflate; client_max_window_bits=7', '100-continue', 'application/json', ''),
  anyText,
  fc.string({ maxLength: 4000 }),
);
const target = mostly(fc.constantFrom('/healthz', '/api/ws', '/ws', '/api/publish', '/readyz', '/metrics'), fc.oneof(
  fc.constantFrom('/healthz', '/api/ws', '/ws', '/ws?username=a&password=b', '/api/publish', '/api/sessions', '/api/sessions/x/send', '*', '',
    'http://x:99999/healthz', 'http://[/', 'http://[::1]:80/api/ws', '//evil/api/ws', '/%', '/%zz', '/api/sessions/%ff', 'example.com:443'),
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.webPath().map((p) => `/${p}`),
  fc.string().map((p) => `/${p.replace(/[\s]/g, '')}`),
  anyText,
));
const method = mostly(fc.constantFrom('GET', 'GET', 'POST', 'HEAD', 'DELETE', 'PUT', 'OPTIONS', 'CONNECT', 'TRACE', 'PATCH'), fc.string({ maxLength: 10 }));
const version = mostly(fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'), fc.oneof(fc.constantFrom('HTTP/2.0', 'HTTP/0.9', 'HTTP/1.1 ', ''), fc.string({ maxLength: 10 })));
const eol = mostly(fc.constant('\r\n'), fc.constantFrom('\n', '\r'));
const upgradeHeaders: [string, string][] = [['Host', '127.0.0.1'], ['Upgrade', 'websocket'], ['Connection', 'Upgrade'], ['Sec-WebSocket-Version', '13'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==']];

const request = fc
  .record({
    method, target, version, eol, upgrade: fc.boolean(), body: fc.string({ maxLength: 200 }), utf8: fc.boolean(),
    headers: fc.array(mostly(fc.tuple(headerName, headerValue.filter((v) => !/[\r\n\0]/.test(v))), fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), headerValue)), { maxLength: 6 }),
  })
  .map(({ method, target, version, headers, eol, upgrade, body, utf8 }) => {
    const enc = utf8 ? 'utf8' : 'latin1';
    // A body only with its length: bytes after a request are the next pipelined request, whose parse error drops the socket.
    const sized = method === 'POST' || method === 'PUT' ? [['Content-Length', String(Buffer.byteLength(body, enc))]] : [];
    const all = [...(upgrade ? upgradeHeaders : [['Host', '127.0.0.1']]), ...sized, ...headers];
    const head = [`${method} ${target} ${version}`, ...all.map(([n, v]) => `${n}: ${v}`)].join(eol);
    return Buffer.from(`${head}${eol}${eol}${sized.length ? body : ''}`, enc);
  });
const randomBytes = fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a));

test('raw requests: always an HTTP answer or a close, and /healthz keeps answering', async () => {
  const seen: Record<string, number> = {};
  await fc.assert(
    fc.asyncProperty(fc.oneof({ weight: 5, arbitrary: request }, { weight: 1, arbitrary: randomBytes }), async (bytes) => {
      const outcome = await exchange(bytes);
      const key = outcome.startsWith('HTTP/1.1 ') ? outcome.slice(9, 12) : outcome;
      seen[key] = (seen[key] ?? 0) + 1;
      expect(outcome === 'closed' || /^HTTP\/1\.1 [1-4]\d\d/.test(outcome)).toBe(true);
    }),
    { numRuns: Number(process.env.FC_RUNS ?? 500), endOnFailure: true },
  );
  await healthy();
  expect(Object.keys(seen).length).toBeGreaterThan(3); // the generator reaches several outcomes, not one
}, 60_000);

/** Open `url` and wait for its first `event`; the listener is on before the upgrade, so a frame in the 101's segment is not missed. */
async function openFor(url: string, event: string, hello?: unknown): Promise<{ ws: WebSocket; first: Record<string, unknown> }> {
  const ws = new WebSocket(url);
  const first = firstMessage(ws, event);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  if (hello !== undefined) ws.send(JSON.stringify(hello));
  return { ws, first: await first };
}

function firstMessage(ws: WebSocket, event: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (data: WebSocket.RawData): void => {
      const m = JSON.parse(data.toString()) as Record<string, unknown>;
      if (m.event === event) {
        ws.off('message', on);
        resolve(m);
      }
    };
    ws.on('message', on);
  });
}

const apiBody = fc.oneof(
  fc.record({ channel: fc.oneof(fc.constantFrom('news', 'a:b/c', ''), anyText, fc.jsonValue()), data: fc.jsonValue(), idempotency_key: fc.oneof(fc.string(), fc.jsonValue()) }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
  fc.record({ event: fc.oneof(fc.constantFrom('app/x', 'system/init', 'constructor', '__proto__'), anyText), payload: fc.jsonValue() }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
  fc.constantFrom(`{"event":"app/deep","payload":${nested(63)}}`, `{"event":"app/deep","payload":${nested(64)}}`, `{"channel":"c","data":${nested(62)}}`, '{"__proto__":{"channel":"x"},"data":1}'),
  frameLike,
  anyText,
  fc.json(),
);

test('API bodies: 2xx or 4xx, never 5xx; a v3 and a v2 client receiving the accepted sends stay connected', async () => {
  const three = await openFor(`ws://127.0.0.1:${gw.port}/api/ws`, 'system/init', { event: 'client/hello', payload: { room: 'fuzz' } });
  const v3 = three.ws;
  const id3 = (three.first.payload as { session_id: string }).session_id;
  const two = await openFor(`ws://127.0.0.1:${gw.port}/ws?username=fuzz2&password=x`, 'system/init');
  const v2 = two.ws;
  const id2 = two.first.id as string;
  const closes: number[] = [];
  for (const ws of [v3, v2]) ws.on('close', (code) => closes.push(code));
  const statuses: Record<string, number> = {};
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(`/api/publish`, `/api/sessions/${id3}/send`, `/api/sessions/${id2}/send`, '/api/sessions/nope/send', '/api/sessions/%E0%A4%A/send'),
      apiBody,
      fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1', ''),
      async (path, body, type) => {
        const res = await fetch(`${gw.base}${path}`, { method: 'POST', headers: type ? { 'content-type': type } : {}, body, signal: AbortSignal.timeout(5000) });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        expect(res.status).toBeLessThan(500);
      },
    ),
    { numRuns: Number(process.env.FC_RUNS ?? 500), endOnFailure: true },
  );
  for (const path of ['/api/sessions/%ff', '/api/sessions/nope', '/api/sessions/..%2f..']) expect((await fetch(`${gw.base}${path}`, { method: 'DELETE' })).status).toBe(404);
  expect((await fetch(`${gw.base}/api/sessions?room=%ff%fe`)).status).toBe(200);
  expect(statuses['202']).toBeGreaterThan(0); // some sends were accepted and delivered
  expect(closes).toEqual([]);
  await healthy();
  const errors = gw.logs.filter((l) => (l.level as number) >= 50);
  expect(errors).toEqual([]);
  v3.close();
  v2.close();
}, 60_000);
