import type { ConnectionOptions } from 'node:tls';
import { Redis, type RedisOptions } from 'ioredis';

/** What a Redis-backed part of the gateway needs to reach Redis. */
export interface RedisTarget {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). */
  url: string;
  /** Prefix of every key and pub/sub channel; default `wsgate:`. Lets several gateways share one Redis. */
  prefix?: string;
  /** TLS options of a `rediss://` connection, e.g. `{ca}` for a private CA (`--redis-tls-ca`). */
  tls?: ConnectionOptions;
}

/** Default key prefix. */
export const DEFAULT_PREFIX = 'wsgate:';

/**
 * One ioredis connection, set up for a gateway that must stay up while Redis is down: it
 * reconnects forever (backoff capped at 2 s), and a command issued while disconnected fails at
 * once (no offline queue) instead of piling up in memory and running late, out of order with
 * what the gateway already told its clients. ioredis reads AUTH and TLS (`rediss:`) from the URL;
 * `target.tls` adds to TLS (a CA to trust).
 */
export function openRedis(target: Pick<RedisTarget, 'url' | 'tls'>, name: string, extra: RedisOptions = {}): Redis {
  return new Redis(target.url, {
    ...(target.tls ? { tls: target.tls } : {}),
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

/**
 * Resolve when `redis` is ready; reject after `timeoutMs` naming the URL's host (never its password), or at once
 * when Redis refuses the credentials or its TLS certificate does not verify: waiting cannot mend those.
 */
export function whenReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  const where = `Redis at ${redis.options.host}:${redis.options.port}`;
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      redis.off('end', onEnd);
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => done(new Error(`${where} not reachable within ${timeoutMs} ms`)), timeoutMs);
    const onReady = (): void => done();
    const onError = (err: Error & { code?: string }): void => {
      const hopeless = refusal(err);
      if (hopeless) done(new Error(`${where}: ${hopeless}`));
    };
    // Closed for good (quit or disconnect: the gateway stopped while it started): no ready will come.
    const onEnd = (): void => done(new Error(`${where}: the connection was closed`));
    redis.once('ready', onReady);
    redis.on('error', onError);
    redis.once('end', onEnd);
  });
}

/** TLS verification failures Node reports by code (a certificate no trusted CA signed, or for another name). */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS/;

/** What a connection error means when retrying cannot help (credentials, certificate), or undefined. */
function refusal(err: Error & { code?: string }): string | undefined {
  if (/^(WRONGPASS|NOPERM)/.test(err.message)) return `the user/password in the URL were refused (${err.message})`;
  if (/^NOAUTH/.test(err.message)) return 'it requires a password: give it in the URL (redis://:PASSWORD@host:port or redis://USER:PASSWORD@host:port)';
  if (err.code && TLS_CODES.test(err.code)) {
    return `its TLS certificate does not verify (${err.message}); give the CA that signed it with --redis-tls-ca FILE`;
  }
  return undefined;
}

/** Whether a command failed because the connection to Redis is down (an outage), not by its own fault. */
export function isConnectionError(err: unknown): boolean {
  return err instanceof Error && /Stream isn't writeable|Connection is closed|max retries per request/i.test(err.message);
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
