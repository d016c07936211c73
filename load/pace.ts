/**
 * How many of `total` connects are due `elapsedMs` after a ramp at `rate` per second began (the first at once).
 * Counted from the start, not per tick: a per-tick batch rounded to a whole number was up to 3× the asked rate for
 * small per-worker rates (15/s per worker → 1 per 20 ms tick = 50/s).
 */
export function connectsDue(rate: number, elapsedMs: number, total: number): number {
  return Math.min(total, Math.floor((Math.max(0, elapsedMs) / 1000) * rate) + 1);
}
