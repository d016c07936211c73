import type { Redis } from 'ioredis';
import { IDEMPOTENCY_MAX_KEYS, IDEMPOTENCY_TTL_MS, IdempotencyPending, type IdempotencyStore, type IdempotentOutcome } from '../http/idempotency.js';
import { systemClock, type Clock } from '../time/clock.js';

/**
 * ARGV: entry key, index key, record JSON, now, ttl ms, max keys. Claims the key: returns nothing when it was free
 * (the record is stored, PX ttl), else the record already there. The index (a zset key → time) bounds the keys:
 * expired ones leave it, and past `max` the oldest are dropped with their entries.
 */
const BEGIN_LUA = `
local k, idx = ARGV[1], ARGV[2]
local got = redis.call('GET', k)
if got then return got end
local now, ttl, max = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('SET', k, ARGV[3], 'PX', ttl)
redis.call('ZREMRANGEBYSCORE', idx, '-inf', now - ttl)
redis.call('ZADD', idx, now, k)
while redis.call('ZCARD', idx) > max do redis.call('DEL', redis.call('ZPOPMIN', idx)[1]) end
redis.call('PEXPIRE', idx, ttl)
return false
`;

type Scripted = Redis & { wsIdemBegin(...args: (string | number)[]): Promise<unknown> };

/** A stored key: the request's fingerprint and, once it succeeded, its result. */
interface Entry<T> {
  fp: string;
  v?: T;
}

/** Timings and bounds of RedisIdempotency. */
export interface RedisIdempotencyOptions {
  /** Key prefix (the gateway's, e.g. `wsgate:`); entries are `PREFIXi:KEY`, the index `PREFIXi`. */
  prefix: string;
  /** Milliseconds a key is remembered. Default 5 minutes, as in memory. */
  ttlMs?: number;
  /** Keys remembered at most (oldest dropped). Default 100,000, as in memory. */
  max?: number;
  /** How long a repeat waits for a first call still running elsewhere before IdempotencyPending. Default 10 s. */
  waitMs?: number;
  clock?: Clock;
}

/**
 * Idempotency keys shared by every process of a gateway on one Redis, so a retry the load balancer sends to another
 * process finds the first result instead of publishing twice. The first request claims the key with SET NX semantics
 * (a Lua script, which also bounds the number of keys); a repeat meanwhile polls until the result is stored, the
 * first call failed (the key is freed: the repeat runs it), or `waitMs` passes.
 */
export class RedisIdempotency<T> implements IdempotencyStore<T> {
  private readonly ttl: number;
  private readonly max: number;
  private readonly waitMs: number;
  private readonly clock: Clock;

  constructor(
    private readonly redis: Redis,
    private readonly opts: RedisIdempotencyOptions,
  ) {
    this.ttl = opts.ttlMs ?? IDEMPOTENCY_TTL_MS;
    this.max = opts.max ?? IDEMPOTENCY_MAX_KEYS;
    this.waitMs = opts.waitMs ?? 10_000;
    this.clock = opts.clock ?? systemClock;
    if (!('wsIdemBegin' in redis)) redis.defineCommand('wsIdemBegin', { numberOfKeys: 0, lua: BEGIN_LUA });
  }

  async run(key: string, fingerprint: string, fn: () => Promise<T>): Promise<IdempotentOutcome<T>> {
    const k = `${this.opts.prefix}i:${key}`;
    const deadline = this.clock.now() + this.waitMs;
    const claim = JSON.stringify({ fp: fingerprint } satisfies Entry<T>);
    for (;;) {
      const got = await this.begin(k, claim);
      if (got === null) return { value: await this.first(k, fingerprint, fn), replayed: false };
      if (got.fp !== fingerprint) return 'conflict';
      if (got.v !== undefined) return { value: got.v, replayed: true };
      if (this.clock.now() >= deadline) throw new IdempotencyPending();
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, 50));
    }
  }

  /** Claim the key with `record` (a pending entry, JSON); null when this call is the first, else the entry stored. */
  private async begin(k: string, record: string): Promise<Entry<T> | null> {
    const got = (await (this.redis as Scripted).wsIdemBegin(k, `${this.opts.prefix}i`, record, this.clock.now(), this.ttl, this.max)) as string | null;
    return got === null ? null : (JSON.parse(got) as Entry<T>);
  }

  /** Run the first call; store its result for the repeats, or free the key when it failed so a retry runs. */
  private async first(k: string, fingerprint: string, fn: () => Promise<T>): Promise<T> {
    let value: T;
    try {
      value = await fn();
    } catch (err) {
      await this.redis.del(k).catch(() => undefined); // unreachable Redis: the pending entry expires with its ttl
      throw err;
    }
    // XX: an entry dropped meanwhile (the bound) stays dropped. Should Redis fail here, the publish still happened: the
    // client gets its result, and repeats find the key pending (409) until it expires — never a second publish.
    await this.redis.set(k, JSON.stringify({ fp: fingerprint, v: value } satisfies Entry<T>), 'PX', this.ttl, 'XX').catch(() => undefined);
    return value;
  }
}
