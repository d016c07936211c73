/**
 * hello_timeout is for a client that sends no client/hello, not for a gateway slow to answer one. With Redis stalled
 * (SIGSTOP) a hello waits for its session; the gateway's clock (a ManualClock) passes hello_timeout meanwhile. The
 * client must not be closed 4101; its system/init comes once Redis runs again.
 */
import { jest } from '@jest/globals';
import { pino } from 'pino';
import { ClosedWhileStarting, createGateway, type Gateway } from '../../src/gateway.js';
import { api, until } from '../support/http-api.js';
import { startGateway } from '../support/gateway.js';
import { ManualClock } from '../support/manual-clock.js';
import { startRedis, type RedisHandle } from '../support/redis.js';
import { sleep, TestClient } from '../support/ws-client.js';

jest.setTimeout(60_000);

let redis: RedisHandle;
let gw: Gateway | undefined;
let gw2: Gateway | undefined;
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  redis.thaw();
  for (const c of clients) c.kill();
  await gw?.close();
  await gw2?.close();
  await redis.stop();
});

test('a hello sent in time is answered however long Redis takes: no 4101 while it waits, system/init once Redis runs', async () => {
  const clock = new ManualClock(Date.now());
  gw = await startGateway({ redis: redis.url, clock, helloTimeout: 5 });
  // A client that never says hello is still closed 4101 after hello_timeout (the timer is live on this clock).
  const silent = new TestClient(gw.url('/api/ws'));
  clients.push(silent);
  await silent.open();
  const waiting = new TestClient(gw.url('/api/ws'));
  clients.push(waiting);
  await waiting.open();

  redis.freeze();
  let closedEarly: number | undefined;
  void waiting.closed.then((c) => (closedEarly = c.code));
  waiting.send('client/hello', { room: 'slow' });
  await sleep(300); // the hello reached the gateway, which now waits for Redis
  clock.advance(6000);
  expect((await silent.closed).code).toBe(4101);
  await sleep(300);
  expect(closedEarly).toBeUndefined();

  redis.thaw();
  const init = (await waiting.next('system/init', 15_000)).payload as { session_id?: string; room?: string };
  expect(typeof init.session_id).toBe('string');
  expect(init.room).toBe('slow');
  expect(closedEarly).toBeUndefined();
});

test('hellos are answered hello_concurrency at a time, the others wait their turn; a client that left while waiting gets no session', async () => {
  const logs: { msg: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as { msg: string }) });
  gw2 = await startGateway({ redis: redis.url, clock: new ManualClock(Date.now()), helloConcurrency: 4, logger });
  const cs = Array.from({ length: 20 }, () => new TestClient(gw2!.url('/api/ws')));
  clients.push(...cs);
  await Promise.all(cs.map((c) => c.open()));
  const hellos = async (): Promise<string> => {
    const text = (await api(gw2!, 'GET', '/metrics')).body as string;
    return ['answering', 'waiting'].map((s) => new RegExp(`^wsgate_hellos\\{state="${s}"\\} (\\d+)$`, 'm').exec(text)?.[1]).join('/');
  };

  redis.freeze();
  try {
    for (const c of cs) c.send('client/hello', { room: 'turns' });
    await until(async () => (await hellos()) === '4/16', 10_000, '4 answering, 16 waiting');
    const gone = cs.pop()!; // the last in line leaves before its turn
    gone.kill();
    await sleep(300);
  } finally {
    redis.thaw();
  }
  const inits = await Promise.all(cs.map((c) => c.next('system/init', 15_000)));
  expect(inits.filter((f) => typeof (f.payload as { session_id?: unknown }).session_id === 'string')).toHaveLength(19);
  await until(async () => (await hellos()) === '0/0', 10_000, 'no hello left');
  expect(logs.filter((l) => l.msg === 'hello accepted')).toHaveLength(19);
  // No session was made for the one that left: 19 connected here, and the room (in Redis, where a session made for a
  // connection already gone would stay, disconnected, for session_ttl) holds the 19 and a newcomer only.
  const text = (await api(gw2, 'GET', '/metrics')).body as string;
  expect(/^wsgate_sessions\{state="connected"\} (\d+)$/m.exec(text)?.[1]).toBe('19');
  const newcomer = new TestClient(gw2.url('/api/ws'));
  clients.push(newcomer);
  const init = (await newcomer.hello({ room: 'turns' })) as { sessions: unknown[] };
  expect(init.sessions).toHaveLength(20);
});

test('stopped while it waits for Redis at start: listen() binds nothing and says why, and the drain still finishes', async () => {
  const gw3 = createGateway({ port: 0, host: '127.0.0.1', logLevel: 'silent', legacy: false, processMetrics: false, redis: redis.url });
  redis.freeze();
  let listening: Promise<unknown>;
  let drained: Promise<unknown>;
  try {
    listening = gw3.listen().then(() => 'listening', (err: unknown) => err);
    await sleep(200); // the start now waits for Redis
    drained = gw3.drain(); // SIGTERM from a supervisor
    await sleep(200);
  } finally {
    redis.thaw();
  }
  expect(await listening).toBeInstanceOf(ClosedWhileStarting);
  await drained;
  expect(gw3.port).toBe(0); // nothing bound after the drain: no listener that nobody would close
});
