import { parseCli } from '../../src/cli.js';
import { ConfigError, resolveOptions } from '../../src/config.js';
import { closeClass, closeEndsSession } from '../../src/protocol/codes.js';
import { decodeFrame, encodeFrame } from '../../src/protocol/codec.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('codec', () => {
  test.each([
    ['not json', 'not valid JSON'],
    ['[1,2]', 'JSON object'],
    ['"str"', 'JSON object'],
    ['{"payload":1}', 'string "event"'],
    ['{"event":""}', 'string "event"'],
    ['{"event":"x","id":""}', '"id"'],
    [`{"event":"x","id":"${'a'.repeat(65)}"}`, '"id"'],
    ['{"event":"x","seq":1.5}', '"seq"'],
  ])('%s is a bad_message explaining why', (text, why) => {
    const r = decodeFrame(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(why);
  });

  test('a good frame round-trips', () => {
    const r = decodeFrame('{"event":"a/b","payload":{"x":[1]},"id":"m1"}');
    expect(r).toEqual({ ok: true, frame: { event: 'a/b', payload: { x: [1] }, id: 'm1' } });
    expect(encodeFrame({ event: 'e', seq: 3, payload: null })).toBe('{"event":"e","seq":3,"payload":null}');
  });
});

describe('close codes', () => {
  test('which closes end the session (docs/protocol.md §4.2)', () => {
    expect(closeEndsSession(1000, false)).toBe(true);
    expect(closeEndsSession(1001, false)).toBe(false);
    expect(closeEndsSession(1006, false)).toBe(false);
    expect(closeEndsSession(4003, true)).toBe(true);
    expect(closeEndsSession(4100, true)).toBe(false);
    expect(closeEndsSession(1012, true)).toBe(false);
    expect(closeEndsSession(1009, true)).toBe(true);
  });
  test('client reconnect classes (§6)', () => {
    expect(closeClass(1000)).toBe('stop');
    expect(closeClass(4002)).toBe('stop');
    expect(closeClass(1012)).toBe('reconnect-now');
    expect(closeClass(4100)).toBe('reconnect');
    expect(closeClass(1006)).toBe('reconnect');
    expect(closeClass(4103)).toBe('reconnect-slow');
  });
});

describe('configuration', () => {
  test('embedded defaults match docs/protocol.md §9', () => {
    const o = resolveOptions();
    expect(o).toMatchObject({ port: 8080, pingInterval: 10, pingTimeout: 10, heartbeatInterval: 60, heartbeatTimeout: 120, sessionTtl: 120, helloTimeout: 5, maxPayload: 65536, maxErrors: 10, bufferMaxMessages: 1000, bufferMaxBytes: 1048576, historySize: 100, historyTtl: 300, maxSubscriptions: 128 });
  });

  test('flags beat env beat file; fractions allowed; heartbeat timeout follows the interval', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-cfg-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'ping_interval: 3\nsession_ttl: 7\nheartbeat-interval: 5\n');
    const r = parseCli(['--config', file, '--ping-interval=0.5', '--no-legacy'], { WSGATE_SESSION_TTL: '9', WSGATE_PING_INTERVAL: '4' });
    expect(r.kind).toBe('run');
    if (r.kind !== 'run') return;
    expect(r.options.pingInterval).toBe(0.5);
    expect(r.options.sessionTtl).toBe(9);
    expect(r.options.heartbeatInterval).toBe(5);
    expect(r.options.heartbeatTimeout).toBe(10);
    expect(r.options.legacy).toBe(false);
  });

  test.each([
    [['--ping-interval', 'soon'], '--ping-interval'],
    [['--ping-interval', '-1'], '--ping-interval'],
    [['--max-payload', '1.5'], '--max-payload'],
    [['--port', '70000'], '--port'],
    [['--heartbeat-interval', '60', '--heartbeat-timeout', '30'], '--heartbeat-timeout'],
    [['--log-level', 'loud'], '--log-level'],
    [['--tls-cert', '/x.pem'], '--tls-key'],
    [['--bogus', '1'], '--bogus'],
  ])('%j fails naming %s', (argv, name) => {
    expect(() => parseCli(argv, {})).toThrow(ConfigError);
    expect(() => parseCli(argv, {})).toThrow(name);
  });

  test('a bad env value names the option', () => {
    expect(() => parseCli([], { WSGATE_HISTORY_SIZE: 'lots' })).toThrow('--history-size');
  });

  test('--help lists every option with default and unit', () => {
    const r = parseCli(['--help'], {});
    expect(r.kind).toBe('help');
    if (r.kind === 'help') {
      expect(r.text).toMatch(/--ping-interval[\s\S]*default 10 s; env WSGATE_PING_INTERVAL/);
      expect(r.text).toContain('--buffer-max-messages');
    }
  });
});

test('a payload encoded once for a fan-out gives the same frame text as encoding it per recipient', async () => {
  const { EncodedPayload, encodeFrameRaw } = await import('../../src/protocol/codec.js');
  const payload = { channel: 'c', offset: 3, epoch: 'e', data: { text: 'hé "q"', n: [1, null] } };
  const once = new EncodedPayload(payload);
  expect(encodeFrameRaw('channel/message', 7, undefined, once.json)).toBe(encodeFrame({ event: 'channel/message', seq: 7, payload }));
  expect(encodeFrameRaw('system/ack', 2, 'id"1', undefined)).toBe(encodeFrame({ event: 'system/ack', seq: 2, id: 'id"1' }));
});

test('toFlags gives flags that parse back to the same options (the load driver runs the real command with them)', async () => {
  const { parseFlags, toFlags } = await import('../../src/cli.js');
  const options = { port: 0, host: '127.0.0.1', pingInterval: 0.5, legacy: false, allowedOrigins: ['https://a.example', 'https://b.example'], logLevel: 'warn' as const };
  expect(parseFlags(toFlags(options)).options).toEqual(options);
});
