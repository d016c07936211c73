import { closeClass, type CloseClass } from '../protocol/codes.js';

/** Reconnect timing, all in milliseconds. */
export interface BackoffOptions {
  /** First ceiling of the full-jitter window. Default 500 ms. */
  minDelay: number;
  /** Largest ceiling. Default 20 000 ms. */
  maxDelay: number;
  /** Window for "reconnect at once" closes (1012 drain): a random delay in [0, restartJitter). Default 1000 ms. */
  restartJitter: number;
  /** Floor added for 4103 rate_limited before the usual jittered delay. Default 10 000 ms. */
  slowDelay: number;
}

/** Defaults: 0.5 s → 20 s, 1 s drain jitter, +10 s after rate limiting. */
export const DEFAULT_BACKOFF: BackoffOptions = { minDelay: 500, maxDelay: 20_000, restartJitter: 1000, slowDelay: 10_000 };

/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * a uniform delay in [0, min(maxDelay, minDelay · 2^attempt)). Pure: `random` is injected. Milliseconds.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  // Cap the exponent so 2^attempt never overflows into Infinity for long outages.
  const ceiling = Math.min(opts.maxDelay, opts.minDelay * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** What the client does after a close: stop, or reconnect after `delay` ms. */
export type ReconnectDecision = { action: 'stop'; kind: CloseClass } | { action: 'reconnect'; kind: CloseClass; delay: number };

/**
 * Decide what to do after a connection ended with `code` on reconnect attempt number `attempt`
 * (0 for the first retry after a working connection). docs/protocol.md §6 via `closeClass`.
 */
export function reconnectDecision(
  code: number,
  attempt: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): ReconnectDecision {
  const kind = closeClass(code);
  switch (kind) {
    case 'stop':
      return { action: 'stop', kind };
    case 'reconnect-now':
      // A drain closes every client at once: jitter spreads the herd, but no exponential wait.
      return { action: 'reconnect', kind, delay: Math.floor(random() * opts.restartJitter) };
    case 'reconnect-slow':
      return { action: 'reconnect', kind, delay: opts.slowDelay + backoffDelay(attempt, opts, random) };
    default:
      return { action: 'reconnect', kind, delay: backoffDelay(attempt, opts, random) };
  }
}
