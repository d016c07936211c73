/**
 * A client's messages are handled in order, one at a time; with --redis a publish waits on Redis. A client flooding
 * publishes faster than Redis takes them had the gateway read them all into its heap (2.5 GB in 30 s from one
 * connection). Now, past 64 waiting, the gateway stops reading that socket: the flood stays in the client's own
 * buffers, and once Redis answers again every message is handled, in order, none lost.
 */
import { jest } from '@jest/globals';
import type { Gateway } from '../../src/index.js';
import { startGateway } from '../support/gateway.js';
import { startRedis, type RedisHandle } from '../support/redis.js';
import { sleep, TestClient } from '../support/ws-client.js';

jest.setTimeout(60_000);

let redis: RedisHandle;
let gw: Gateway | undefined;
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  redis.thaw();
  for (const c of clients) c.kill();
  await gw?.close();
  await redis.stop();
});

test('a publish flood while Redis stalls is left in the client\'s buffers, not read into the gateway; all handled in order once Redis is back', async () => {
  gw = await startGateway({ redis: redis.url });
  const flood = new TestClient(gw.url('/api/ws'));
  clients.push(flood);
  await flood.hello({});
  const data = 'x'.repeat(10_000);
  const n = 5000; // 50 MB
  redis.freeze();
  try {
    for (let i = 0; i < n; i++) flood.send('channel/publish', { channel: 'flood', data }, `f${i}`);
    await sleep(1500); // time for the gateway to read whatever it would
    // What the gateway did not read is still queued in the client's socket (kernel buffers hold a few MB).
    expect(flood.ws.bufferedAmount).toBeGreaterThan(10_000_000);
  } finally {
    redis.thaw();
  }
  const last = await flood.next((f) => f.event === 'system/ack' && (f.payload as { id?: string }).id === `f${n - 1}`, 45_000);
  expect(last).toBeDefined();
  const acked = flood.all('system/ack').map((f) => (f.payload as { id: string }).id);
  expect(acked).toEqual(Array.from({ length: n }, (_, i) => `f${i}`));
  expect(flood.all('system/error')).toEqual([]);
});
