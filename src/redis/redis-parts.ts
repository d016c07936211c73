import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { nanoid } from 'nanoid';
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import { RedisBroker } from '../broker/redis-broker.js';
import type { GatewayOptions } from '../config.js';
import type { SessionLimits } from '../session/session.js';
import type { Clock } from '../time/clock.js';
import type { IdempotencyStore } from '../http/idempotency.js';
import type { StreamPosition } from '../protocol/events.js';
import { DEFAULT_PREFIX } from './connection.js';
import { ProcessBus } from './process-bus.js';
import { RedisIdempotency } from './redis-idempotency.js';
import { RedisSessionService, type RedisSessionHooks } from './redis-session-service.js';
import { RedisSessionStore } from './session-store.js';

/** What a gateway gives to build its Redis side. */
export interface RedisPartsInit {
  options: Pick<GatewayOptions, 'redis' | 'redisTlsCa' | 'historySize' | 'historyTtl' | 'maxHistoryBytes' | 'bufferMaxMessages' | 'bufferMaxBytes' | 'dedupWindow' | 'sessionTtl' | 'presenceLimit'>;
  limits: SessionLimits;
  clock: Clock;
  logger: Logger;
  /** Key prefix; default `wsgate:`. */
  prefix?: string;
  /** A broker of the caller's own instead of the Redis one. */
  broker?: Broker;
  /** Told how many history entries the process's history budget deleted (a metric). */
  onHistoryDrop?: (entries: number) => void;
}

/** What a gateway that shares a Redis with its other processes runs on. */
export interface RedisParts {
  broker: Broker;
  sessions: RedisSessionService;
  /** `POST /api/publish` idempotency keys, shared by every process. */
  idempotency: IdempotencyStore<StreamPosition>;
}

/** The broker, session service and idempotency keys of a gateway that shares a Redis with its other processes. */
export function createRedisParts(init: RedisPartsInit, hooks: RedisSessionHooks): RedisParts {
  const { options: o, logger } = init;
  // Unique per run: a restarted process is a new owner, and the old one is reaped like a dead one.
  const proc = `${hostname()}:${process.pid}:${nanoid(6)}`;
  // Read once here; the option's check already read it at start.
  const tls = o.redisTlsCa ? { ca: readFileSync(o.redisTlsCa) } : undefined;
  const store = new RedisSessionStore({
    url: o.redis,
    tls,
    prefix: init.prefix,
    proc,
    bufferMaxMessages: o.bufferMaxMessages,
    bufferMaxBytes: o.bufferMaxBytes,
    dedupWindow: o.dedupWindow,
    sessionTtl: o.sessionTtl,
    presenceLimit: o.presenceLimit,
    now: () => init.clock.now(),
  });
  const bus = new ProcessBus(store, logger);
  const broker =
    init.broker ??
    new RedisBroker({
      url: o.redis,
      tls,
      prefix: init.prefix,
      historySize: o.historySize,
      historyTtl: o.historyTtl,
      maxHistoryBytes: o.maxHistoryBytes,
      onBudgetDrop: init.onHistoryDrop,
      now: () => init.clock.now(),
      logger,
    });
  return {
    broker,
    sessions: new RedisSessionService(store, bus, init.limits, init.clock, logger, hooks),
    // On the store's connection: its outage is the sessions' outage.
    idempotency: new RedisIdempotency(store.redis, { prefix: init.prefix ?? DEFAULT_PREFIX, clock: init.clock }),
  };
}
