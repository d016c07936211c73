import { systemClock, type Clock } from '../time/clock.js';

/** One remembered request: what it asked for (to spot a reused key) and its (pending) result. */
interface Entry<T> {
  fingerprint: string;
  result: Promise<T>;
  expires: number;
}

/** How long a key is remembered by default, ms (5 minutes), in memory and in Redis. */
export const IDEMPOTENCY_TTL_MS = 5 * 60_000;
/** How many keys are remembered at most by default (oldest dropped first), in memory and in Redis. */
export const IDEMPOTENCY_MAX_KEYS = 100_000;

/** What `run` answers: the result and whether it was replayed, or `conflict` (the key was used for another request). */
export type IdempotentOutcome<T> = { value: T; replayed: boolean } | 'conflict';

/** Where idempotency keys are remembered: this process (IdempotencyCache) or a store all processes share (Redis). */
export interface IdempotencyStore<T> {
  /** Run `fn` once per key (and fingerprint of the request); a repeat gets the first result. */
  run(key: string, fingerprint: string, fn: () => Promise<T>): Promise<IdempotentOutcome<T>>;
}

/** A repeat whose first call, on some process, is still running after the wait: the client should retry later. */
export class IdempotencyPending extends Error {
  constructor() {
    super('a request with this idempotency_key is still in progress');
  }
}

/**
 * Remembers results by idempotency key for `ttlMs` (default 5 min), at most `max` keys (oldest
 * dropped first). The result is stored as a promise, so a repeat that arrives while the first
 * call is still running waits for it instead of running twice. A failed call is forgotten, so
 * the client may retry with the same key.
 */
export class IdempotencyCache<T> implements IdempotencyStore<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    /** Milliseconds a key is remembered. Default 5 minutes. */
    private readonly ttlMs = IDEMPOTENCY_TTL_MS,
    /** Keys remembered at most. Default 100,000. */
    private readonly max = IDEMPOTENCY_MAX_KEYS,
    /** Time source of the ttl. */
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Run `fn` once per key. Returns its result and whether it was replayed; `conflict` when the
   * key was used before for a different request (different fingerprint).
   */
  async run(key: string, fingerprint: string, fn: () => Promise<T>): Promise<IdempotentOutcome<T>> {
    this.sweep();
    const known = this.entries.get(key);
    if (known) {
      if (known.fingerprint !== fingerprint) return 'conflict';
      return { value: await known.result, replayed: true };
    }
    const result = fn();
    this.entries.set(key, { fingerprint, result, expires: this.clock.now() + this.ttlMs });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
    try {
      return { value: await result, replayed: false };
    } catch (err) {
      if (this.entries.get(key)?.result === result) this.entries.delete(key);
      throw err;
    }
  }

  /** Keys currently remembered. */
  get size(): number {
    return this.entries.size;
  }

  /** Map iteration is insertion order and every entry has the same ttl: expired ones are at the front. */
  private sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) {
      if (entry.expires > now) break;
      this.entries.delete(key);
    }
  }
}
