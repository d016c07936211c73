import { IdempotencyCache } from '../../src/http/idempotency.js';
import { ManualClock } from '../support/manual-clock.js';

test('a key is remembered for its ttl, then forgotten; failures are not remembered; the map is bounded', async () => {
  const clock = new ManualClock();
  const cache = new IdempotencyCache<number>(5 * 60_000, 3, clock);
  let calls = 0;
  const run = (key: string, fp = 'same') => cache.run(key, fp, async () => ++calls);

  expect(await run('k')).toEqual({ value: 1, replayed: false });
  clock.advance(5 * 60_000 - 1);
  expect(await run('k')).toEqual({ value: 1, replayed: true });
  expect(await run('k', 'other request')).toBe('conflict');
  clock.advance(1);
  expect(await run('k')).toEqual({ value: 2, replayed: false });

  await expect(cache.run('bad', 'x', () => Promise.reject(new Error('broker down')))).rejects.toThrow('broker down');
  expect(await run('bad', 'x')).toEqual({ value: 3, replayed: false });

  await run('c');
  await run('d');
  expect(cache.size).toBe(3);
  expect(await run('k')).toMatchObject({ replayed: false }); // the oldest key was dropped for the bound
});
