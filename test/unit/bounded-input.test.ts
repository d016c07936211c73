import { jsonDepthExceeds, parseJsonBounded, MAX_JSON_DEPTH, decodeFrame } from '../../src/protocol/index.js';
import { parseRequestTarget } from '../../src/http/request-target.js';

describe('bounded JSON', () => {
  const nest = (n: number, open = '[', close = ']'): string => open.repeat(n) + close.repeat(n);
  test('depth is counted over objects and arrays, not inside strings', () => {
    expect(jsonDepthExceeds(nest(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(jsonDepthExceeds(nest(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(jsonDepthExceeds(JSON.stringify({ s: '[[[[[[[[[[' }), 2)).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify({ s: 'a\\"[[[[[[' }), 2)).toBe(false);
  });
  test('a frame at the bound decodes and re-encodes; one level deeper is bad_message', () => {
    const ok = decodeFrame(`{"event":"e","payload":${nest(MAX_JSON_DEPTH - 1)}}`);
    expect(ok.ok).toBe(true);
    const deep = decodeFrame(`{"event":"e","payload":${nest(MAX_JSON_DEPTH)}}`);
    expect(deep).toMatchObject({ ok: false, message: `frame is JSON nested deeper than ${MAX_JSON_DEPTH} levels` });
  });
  test('never throws', () => {
    expect(parseJsonBounded('{')).toEqual({ ok: false, message: 'not valid JSON' });
    expect(parseJsonBounded(nest(100_000))).toMatchObject({ ok: false });
  });
});

describe('request target', () => {
  test.each([
    ['/healthz?x=1', '/healthz', 'x=1'],
    ['http://example.com:8080/api/ws?room=a', '/api/ws', 'room=a'],
    ['http://example.com', '/', ''],
    ['//healthz', '//healthz', ''],
  ])('%s → path %s', (raw, path, query) => {
    const url = parseRequestTarget(raw);
    expect(url?.pathname).toBe(path);
    expect(url?.searchParams.toString()).toBe(query);
  });
  test.each(['http://x:99999/healthz', 'http://[/', '*', 'example.com:443', 'healthz'])('%s → null (400)', (raw) => {
    expect(parseRequestTarget(raw)).toBeNull();
  });
});
