import { api, metric } from '../support/http-api.js';
import { hogPublish, recoverFromStart, stillPublishing } from '../support/history-hog.js';
import { TestClient } from '../support/ws-client.js';
import { startWsgate, type WsgateProcess } from '../support/wsgate-process.js';

// One connection publishing big messages to made-up channels held memory at its send rate × history_ttl (1.7 GB
// in 20 s; with a 400 MB heap the process aborted after 6,500 messages). The real `wsgate` process with a small
// --max-history-bytes: what it holds stays under it, the newest history is still there, the oldest is dropped.
let gw: WsgateProcess;
const clients: TestClient[] = [];
const client = async (): Promise<TestClient> => {
  const c = new TestClient(`ws://127.0.0.1:${gw.port}/api/ws`);
  clients.push(c);
  await c.hello();
  return c;
};

beforeAll(async () => {
  gw = await startWsgate(['--max-history-bytes', '2000000', '--max-payload', '65536']);
});
afterAll(() => {
  for (const c of clients) c.kill();
  gw.kill();
});

test('300 messages of 50 kB to 300 made-up channels under a 2 MB history budget: held ≤ 2 MB, the newest channels recover, the oldest start over', async () => {
  const hog = await client();
  await hogPublish(hog, 300, 50_000);

  const scraped = (await api(gw.base, 'GET', '/metrics')).body as string;
  const held = metric(scraped, 'wsgate_channel_history_bytes');
  expect(held).toBeGreaterThan(1_500_000);
  expect(held).toBeLessThanOrEqual(2_000_000);
  expect(metric(scraped, 'wsgate_channel_history_dropped_total')).toBeGreaterThanOrEqual(250);

  // The newest channel still has its message: a subscriber recovering from offset 0 of its epoch gets it.
  const newest = await recoverFromStart(await client(), await client(), 'hog.299');
  expect(newest.position.offset).toBe(1);
  expect(newest.answer.recovered).toBe(true);
  expect(newest.first).toHaveLength(50_000);
  // The oldest was dropped for the budget: nobody listened, so the channel starts over (offset 0).
  expect((await recoverFromStart(await client(), await client(), 'hog.0')).position.offset).toBe(0);
  await stillPublishing(hog); // the publisher was never cut off: its connection is open and it can go on
});
