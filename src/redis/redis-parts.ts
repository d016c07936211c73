import { hostname } from 'node:os';
import { nanoid } from 'nanoid';
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import { RedisBroker } from '../broker/redis-broker.js';
import type { GatewayOptions } from '../config.js';
import type { SessionLimits } from '../session/session.js';
import type { Clock } from '../time/clock.js';
import { ProcessBus } from './process-bus.js';
import { RedisSessionService, type RedisSessionHooks } from './redis-session-service.js';
import { RedisSessionStore } from './session-store.js';

/** How often a big room hears its counts, ms (as in memory, src/session/registry.ts). */
const PRESENCE_TICK_MS = 500;

/** What a gateway gives to build its Redis side. */
export interface RedisPartsInit {
  options: Pick<GatewayOptions, 'redis' | 'historySize' | 'historyTtl' | 'bufferMaxMessages' | 'dedupWindow' | 'sessionTtl' | 'presenceLimit'>;
  limits: SessionLimits;
  clock: Clock;
  logger: Logger;
  /** Key prefix; default `wsgate:`. */
  prefix?: string;
  /** A broker of the caller's own instead of the Redis one. */
  broker?: Broker;
}

/** The broker and session service of a gateway that shares a Redis with its other processes. */
export function createRedisParts(init: RedisPartsInit, hooks: RedisSessionHooks): { broker: Broker; sessions: RedisSessionService } {
  const { options: o, logger } = init;
  // Unique per run: a restarted process is a new owner, and the old one is reaped like a dead one.
  const proc = `${hostname()}:${process.pid}:${nanoid(6)}`;
  const store = new RedisSessionStore({
    url: o.redis,
    prefix: init.prefix,
    proc,
    bufferMaxMessages: o.bufferMaxMessages,
    dedupWindow: o.dedupWindow,
    sessionTtl: o.sessionTtl,
    presenceLimit: o.presenceLimit,
    presenceTickMs: PRESENCE_TICK_MS,
    now: () => init.clock.now(),
  });
  const bus = new ProcessBus(store, logger);
  const broker = init.broker ?? new RedisBroker({ url: o.redis, prefix: init.prefix, historySize: o.historySize, historyTtl: o.historyTtl, logger });
  return { broker, sessions: new RedisSessionService(store, bus, init.limits, init.clock, logger, hooks) };
}
