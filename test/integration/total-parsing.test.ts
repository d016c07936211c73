import { connect } from 'node:net';
import WebSocket from 'ws';
import { startWsgate, type WsgateProcess } from '../support/wsgate-process.js';

/**
 * Every class of outside input the gateway parses, sent to the real `wsgate` command: each gets its 4xx or its
 * protocol error, and none reaches the process-level safety net (no "uncaught exception" / "unhandled rejection"
 * and no error-level log line), so it is the parsing that holds, not the handler of last resort.
 */
let gw: WsgateProcess;
beforeAll(async () => {
  gw = await startWsgate(['--max-payload', '200000']);
});
afterAll(() => gw.kill());

afterEach(async () => {
  const res = await fetch(`${gw.base}/healthz`);
  expect(res.status).toBe(200);
  expect(gw.child.exitCode).toBeNull();
  const bad = gw.logs.filter((l) => (l.level as number) >= 50 || /uncaught|unhandled/.test(String(l.msg)));
  expect(bad).toEqual([]);
});

/** Raw bytes on a fresh TCP connection; what came back before the server closed or 2 s passed. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(gw.port, '127.0.0.1');
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

const status = (answer: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
const upgradeHead = (path: string, extra = ''): string =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;

describe('headers', () => {
  test.each([
    ['a malformed Origin', 'Origin: http://[\r\n', 403],
    ['Origin: null', 'Origin: null\r\n', 403],
    ['a 8 KB Origin', `Origin: http://${'a'.repeat(8000)}.example\r\n`, 403],
    ['a foreign Origin with a garbage Host', 'Origin: http://evil.example\r\nHost: ::::\r\n', 403],
    ['garbage X-Forwarded-For from a trusted peer', 'X-Forwarded-For: ,,,[::, 999.1.1.1, \u00ff\r\n', 101],
    ['a garbage Cookie', 'Cookie: =;;;=%%%\u00ff; a=\r\n', 101],
  ])('upgrade with %s → %p', async (_what, extra, want) => {
    expect(status(await raw(upgradeHead('/api/ws', extra)))).toBe(want);
  });

  test.each([
    ['a bad Sec-WebSocket-Key', upgradeHead('/api/ws').replace('dGhlIHNhbXBsZSBub25jZQ==', '%%%'), 400],
    ['an unknown Sec-WebSocket-Version', upgradeHead('/api/ws').replace('Version: 13', 'Version: 99'), 400],
    ['headers over 16 KB', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431],
    ['a header line without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nnonsense\r\n\r\n', 400],
    ['a cross-site Origin on the API', 'GET /api/sessions HTTP/1.1\r\nHost: x\r\nOrigin: http://[\r\nConnection: close\r\n\r\n', 403],
  ])('%s → %p', async (_what, request, want) => {
    expect(status(await raw(request))).toBe(want);
  });
});

describe('query strings and path parameters', () => {
  test.each([
    ['bad %-escapes in the session list filter', 'GET /api/sessions?room=%E0%A4%A&%ZZ=1 HTTP/1.1', 200],
    ['a bad %-escape as a session id', 'DELETE /api/sessions/%E0%A4%A HTTP/1.1', 404],
    ['a 10 KB session id', `DELETE /api/sessions/${'i'.repeat(10_000)} HTTP/1.1`, 404],
    ['dot segments in a session path', 'DELETE /api/sessions/../../nowhere HTTP/1.1', 404],
    ['a session id that names an Object.prototype key', 'DELETE /api/sessions/__proto__ HTTP/1.1', 404],
  ])('%s → %p', async (_what, line, want) => {
    expect(status(await raw(`${line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`))).toBe(want);
  });

  test('a v2 upgrade with bad %-escapes in username/password is still answered (no crash)', async () => {
    const answer = await raw(upgradeHead('/ws?username=%E0%A4%A&password=%'));
    expect([101, 400]).toContain(status(answer));
  });
});

/** Open /api/ws, send one hello payload, resolve with what ended it or the init it got. */
function hello(payload: unknown): Promise<{ close?: number; init?: Record<string, unknown> }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/api/ws`);
    ws.on('error', () => undefined);
    ws.once('open', () => ws.send(JSON.stringify({ event: 'client/hello', payload })));
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { event: string; payload: Record<string, unknown> };
      if (m.event !== 'system/init') return;
      ws.close();
      resolve({ init: m.payload });
    });
    ws.once('close', (code) => resolve({ close: code }));
  });
}

describe('hello and resume fields, tokens', () => {
  test.each([
    ['a payload that is an array', []],
    ['a token that is a number', { token: 42 }],
    ['a room with a space', { room: 'two words' }],
    ['a room of 200 characters', { room: 'r'.repeat(200) }],
    ['a room that is a number', { room: 7 }],
    ['a profile that is a string', { profile: 'me' }],
    ['a profile name that is an object', { profile: { name: { first: 'x' } } }],
    ['resumable as a string', { resumable: 'yes' }],
    ['resume without a token', { resume: { session_id: 'x', last_seq: 0 } }],
    ['resume with last_seq 1e300', { resume: { session_id: 'x', resume_token: 'y', last_seq: 1e300 } }],
    ['resume with last_seq -1', { resume: { session_id: 'x', resume_token: 'y', last_seq: -1 } }],
    ['resume with a session_id that is an object', { resume: { session_id: { $ne: null }, resume_token: 'y', last_seq: 0 } }],
  ])('%s → close 4000', async (_what, payload) => {
    expect(await hello(payload)).toEqual({ close: 4000 });
  });

  test.each([
    ['an unknown session id of 100 KB', { resume: { session_id: 'x'.repeat(100_000), resume_token: 'y', last_seq: 0 } }, 'unknown_session'],
    ['a session id named __proto__', { resume: { session_id: '__proto__', resume_token: 'y', last_seq: 0 } }, 'unknown_session'],
  ])('resume with %s → a new session, resume_error %p', async (_what, payload, error) => {
    expect((await hello(payload)).init).toMatchObject({ resumed: false, resume_error: error });
  });

  test('a 120 KB token of lone surrogates is accepted as a string (no authenticate hook on the command)', async () => {
    expect((await hello({ token: '\ud800'.repeat(20_000) })).init).toMatchObject({ resumed: false });
  });
});
