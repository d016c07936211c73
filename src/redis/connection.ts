import { Redis, type RedisOptions } from 'ioredis';

/** What a Redis-backed part of the gateway needs to reach Redis. */
export interface RedisTarget {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). */
  url: string;
  /** Prefix of every key and pub/sub channel; default `wsgate:`. Lets several gateways share one Redis. */
  prefix?: string;
}

/** Default key prefix. */
export const DEFAULT_PREFIX = 'wsgate:';

/**
 * One ioredis connection, set up for a gateway that must stay up while Redis is down: it
 * reconnects forever (backoff capped at 2 s), and a command issued while disconnected fails at
 * once (no offline queue) instead of piling up in memory and running late, out of order with
 * what the gateway already told its clients. ioredis reads AUTH and TLS (`rediss:`) from the URL.
 */
export function openRedis(url: string, name: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    // A half-open TCP connection to Redis must be noticed; keepalive probes after 5 s idle.
    keepAlive: 5000,
    connectTimeout: 5000,
    // A socket to a Redis that is down may never finish closing; do not hold shutdown for it.
    disconnectTimeout: 200,
    lazyConnect: false,
    ...extra,
  });
}

/** Resolve when `redis` is ready, or reject after `timeoutMs` naming the URL's host. */
export function whenReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis at ${redis.options.host}:${redis.options.port} not reachable within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** Close a connection without waiting for a Redis that may be gone. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  await redis.quit().catch(() => redis.disconnect());
}
