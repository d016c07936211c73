/**
 * A resync that keeps failing (Redis answers again, but refuses what the catch-up needs): the gateway retries with a
 * backoff of 1, 2, 4 … s on its clock, not every second, logs one warning for the whole series, and is back in touch
 * (messages flow again) with the first retry after Redis serves again. Real redis-server; the gateway's clock is a
 * ManualClock, so the retry times are exact. The refusal is an ACL change: scripts are denied to the gateway's user.
 */
import { jest } from '@jest/globals';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Gateway } from '../../src/index.js';
import { api, until } from '../support/http-api.js';
import { ClientPool, startGateway } from '../support/gateway.js';
import { ManualClock } from '../support/manual-clock.js';
import { startRedis, type RedisHandle } from '../support/redis.js';
import { sleep } from '../support/ws-client.js';

jest.setTimeout(60_000);

let redis: RedisHandle;
let admin: Redis;
let gw: Gateway | undefined;
const pool = new ClientPool();

beforeAll(async () => {
  redis = await startRedis();
  // The test's own user, so that what is taken from the default user (the gateway's) does not stop the test.
  const setup = new Redis(redis.url);
  await setup.call('ACL', 'SETUSER', 'admin', 'on', '>admin-pass', '~*', '&*', '+@all');
  setup.disconnect();
  admin = new Redis(`redis://admin:admin-pass@127.0.0.1:${redis.port}`);
});
afterAll(async () => {
  pool.killAll();
  await gw?.close();
  admin.disconnect();
  await redis.stop();
});

test('a failing resync retries after 1, 2, 4 s with one warning, and recovers on the first retry once Redis serves', async () => {
  const logs: { level: number; msg: string; failures?: number }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as (typeof logs)[number]) });
  const clock = new ManualClock(Date.now());
  gw = await startGateway({ redis: redis.url, clock, logger });
  const { client, init } = await pool.connect(gw, { room: 'resync' });
  const failures = (): number[] => logs.filter((l) => l.msg === 'resync with Redis failed; retrying').map((l) => l.failures!);

  // Redis stays up but refuses every script; the bus's subscriber connection is cut, its reconnect starts a resync.
  await admin.call('ACL', 'SETUSER', 'default', '-@scripting');
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
  await until(() => failures().length === 1, 10_000, 'first resync failure');

  // Step the clock one second at a time: a retry is due 1, 2 and 4 s after each failure (1, 3 and 7 s from the first).
  const seen: number[] = [];
  let expected = 1;
  for (let s = 1; s <= 7; s++) {
    clock.advance(1000);
    if ([1, 3, 7].includes(s)) {
      expected++;
      await until(() => failures().length >= expected, 10_000, `retry at ${s} s`);
    } else await sleep(200); // room for a retry that is not due to show up (it must not)
    seen.push(failures().length);
  }
  expect(seen).toEqual([2, 2, 3, 3, 3, 3, 4]);
  expect(failures()).toEqual([1, 2, 3, 4]);
  // One warning for the series; the retries are debug.
  const levels = logs.filter((l) => l.msg === 'resync with Redis failed; retrying').map((l) => l.level);
  expect(levels).toEqual([40, 20, 20, 20]);

  // Redis serves scripts again: the next retry (8 s after the last failure) succeeds, and the session works.
  await admin.call('ACL', 'SETUSER', 'default', '+@all');
  clock.advance(7999);
  await sleep(200);
  expect(logs.some((l) => l.msg === 'back in touch with Redis')).toBe(false);
  clock.advance(1);
  await until(() => logs.some((l) => l.msg === 'back in touch with Redis'), 10_000, 'back in touch');
  expect(failures()).toHaveLength(4);
  const sent = await api(gw, 'POST', `/api/sessions/${init.session_id as string}/send`, { event: 'app/after', payload: { ok: 1 } });
  expect(sent.status).toBe(202);
  expect((await client.next('app/after', 5000)).payload).toEqual({ ok: 1 });
});
