/**
 * What the Redis scale-out costs, measured against a real Redis: memory per session (idle, and
 * with a replay buffer), Redis commands per unicast / room broadcast / channel publish (from
 * INFO commandstats, scripts' inner calls included), and how many deliveries/s one process gets
 * through Redis. Run: `node dist/load/redis-cost.js --redis redis://127.0.0.1:6379 [--sessions 2000]`
 * (use an empty Redis: it flushes the prefix it writes and reads global INFO counters).
 */
import { Redis } from 'ioredis';
import { scriptArg } from './script-arg.js';
import { RedisBroker } from '../src/broker/redis-broker.js';
import { RedisSessionStore } from '../src/redis/session-store.js';

const USAGE = 'usage: redis-cost --redis URL [--sessions N] [--room N] [--buffered N]';

const arg = (name: string, fallback?: string): string => scriptArg(USAGE, name, fallback);

async function commands(r: Redis): Promise<number> {
  const info = await r.info('commandstats');
  let n = 0;
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) if (!['info', 'config'].includes(m[1]!)) n += Number(m[2]);
  return n;
}

async function measure(r: Redis, what: string, fn: () => Promise<unknown>, per = 1): Promise<void> {
  await r.config('RESETSTAT');
  await fn();
  // `config resetstat` and `info` themselves are excluded; the rest is the operation.
  console.log(`${what.padEnd(44)} ${((await commands(r)) / per).toFixed(1)} Redis commands`);
}

async function main(): Promise<void> {
  const url = arg('redis');
  const sessions = Number(arg('sessions', '2000'));
  const roomSize = Number(arg('room', '100'));
  const buffered = Number(arg('buffered', '10'));
  const prefix = `cost${Date.now()}:`;
  const r = new Redis(url);
  const store = new RedisSessionStore({ url, prefix, proc: 'p1', bufferMaxMessages: 1000, dedupWindow: 1024, sessionTtl: 120 });
  const broker = new RedisBroker({ url, prefix, historySize: 100, historyTtl: 300 });
  await Promise.all([store.ready(), broker.ready()]);

  const before = Number((await r.info('memory')).match(/used_memory:(\d+)/)![1]);
  for (let i = 0; i < sessions; i++) await store.create(`s${i}`, `token-${i}`, `room${Math.floor(i / roomSize)}`, { name: `user ${i}` }, true);
  const idle = Number((await r.info('memory')).match(/used_memory:(\d+)/)![1]);
  for (let i = 0; i < sessions; i++) for (let j = 0; j < buffered; j++) await store.deliver([`s${i}`], 'app/notice', { text: 'a message of about sixty bytes, as chat apps send' });
  const full = Number((await r.info('memory')).match(/used_memory:(\d+)/)![1]);
  console.log(`sessions                                     ${sessions} in rooms of ${roomSize}`);
  console.log(`Redis memory per session, idle              ${Math.round((idle - before) / sessions)} B`);
  console.log(`… with ${buffered} un-acked ~100 B messages        ${Math.round((full - before) / sessions)} B`);

  await measure(r, 'unicast (deliver to one session)', () => store.deliver(['s0'], 'send/unicast', { body: 1 }));
  await measure(r, `room broadcast to ${roomSize - 1} others`, () => store.toRoom('room0', 's0', 'send/broadcast', { body: 1 }));
  await measure(r, 'dedup check of a client message id', () => store.dedup('s0', 'm1'));
  await measure(r, 'channel publish (history + live)', () => broker.publish('news', { n: 1 }));
  const ids = Array.from({ length: roomSize }, (_, i) => `s${i}`);
  for (const id of ids) await store.subscribed(id, 'news', { offset: 1, epoch: 'x' });
  await measure(r, `channel fan-out into ${roomSize} session streams`, () => store.channelDeliver(ids, { channel: 'news', offset: 2, epoch: 'x', data: 1 }));
  // A burst: 10 consecutive messages of one tick go in one script, one HMGET/RPUSH/HSET per session for all of them.
  const burst = Array.from({ length: 10 }, (_, k) => ({ ids, channel: 'news', offset: 3 + k, epoch: 'x', json: JSON.stringify({ channel: 'news', offset: 3 + k, epoch: 'x', data: k }) }));
  await measure(r, `… a burst of 10 such messages, per message`, () => store.channelDeliverMany(burst), 10);

  const n = 20_000;
  const t0 = process.hrtime.bigint();
  const batch: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) batch.push(store.deliver([`s${i % sessions}`], 'app/n', i));
  await Promise.all(batch);
  const unicastRate = n / (Number(process.hrtime.bigint() - t0) / 1e9);
  const t1 = process.hrtime.bigint();
  const rounds = 200;
  const b2: Promise<unknown>[] = [];
  for (let i = 0; i < rounds; i++) b2.push(store.toRoom(`room${i % Math.max(1, Math.floor(sessions / roomSize))}`, 'none', 'app/b', i));
  await Promise.all(b2);
  const roomRate = (rounds * roomSize) / (Number(process.hrtime.bigint() - t1) / 1e9);
  console.log(`unicast deliveries/s (pipelined, one process) ${Math.round(unicastRate)}`);
  console.log(`room deliveries/s (rooms of ${roomSize})          ${Math.round(roomRate)}`);

  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await r.del(...keys);
  } while (cursor !== '0');
  await Promise.all([store.close(), broker.close()]);
  r.disconnect();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
