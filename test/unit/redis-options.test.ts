import { resolveOptions } from '../../src/config.js';

test('--redis takes redis:// and rediss:// URLs (AUTH in them) and names itself when the URL is wrong', () => {
  expect(resolveOptions({ redis: 'redis://:secret@10.0.0.5:6379/2' }).redis).toBe('redis://:secret@10.0.0.5:6379/2');
  expect(resolveOptions({ redis: 'rediss://user:pw@redis.internal:6380' }).redis).toBe('rediss://user:pw@redis.internal:6380');
  expect(resolveOptions({}).redis).toBe('');
  expect(() => resolveOptions({ redis: 'http://localhost:6379' })).toThrow(/^--redis: .*redis:\/\/ or rediss:\/\//);
  expect(() => resolveOptions({ redis: 'not a url' })).toThrow(/^--redis: /);
});

test('--workers needs --redis and takes a number or auto', () => {
  expect(() => resolveOptions({ workers: '4' })).toThrow('--workers: needs --redis URL');
  expect(resolveOptions({ workers: 'auto', redis: 'redis://127.0.0.1:6379' }).workers).toBe('auto');
  expect(() => resolveOptions({ workers: 'many', redis: 'redis://127.0.0.1:6379' })).toThrow(/^--workers: /);
  expect(() => resolveOptions({ workers: '0', redis: 'redis://127.0.0.1:6379' })).toThrow(/^--workers: /);
});
