import type { Logger } from 'pino';
import { isConnectionError } from './connection.js';

/**
 * Tells the failures a Redis outage causes (every client that drops, every message, while Redis is away) from real
 * ones. They are expected, and what Redis missed is caught up when it is back, so an outage is logged once, as a
 * warning without a stack, instead of once per failure with one.
 */
export class OutageLog {
  private logged = false;

  constructor(
    /** Whether the connections to Redis are up now. */
    private readonly healthy: () => boolean,
    private readonly logger: Logger,
  ) {}

  /** Whether `err` is an outage failure (the caller then handles it quietly); the first of an outage is logged. */
  expected(err: unknown): boolean {
    if (this.healthy() && !isConnectionError(err)) return false;
    if (!this.logged) {
      this.logged = true;
      this.logger.warn({ err: (err as Error).message }, 'Redis unreachable: what it missed is caught up when it is back');
    }
    return true;
  }

  /** Redis is back and caught up: the next outage is logged again. */
  over(): void {
    this.logged = false;
  }
}
