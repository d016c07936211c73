import type { Logger } from 'pino';
import type { Clock } from '../time/clock.js';

/**
 * At most one warning per kind per interval; the ones held back go to debug and are counted into the next warning
 * (`suppressed`). A failure a client can repeat at its message rate (an application handler that throws, Redis
 * refusing writes at `maxmemory`) would otherwise write a warning with a stack per message: a log flood from
 * outside. Kinds are bounded (the map is emptied when full, which at worst lets a few warnings through again).
 */
export class WarnThrottle {
  private readonly kinds = new Map<string, { next: number; held: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly intervalMs = 10_000,
    private readonly maxKinds = 100,
  ) {}

  warn(kind: string, fields: Record<string, unknown>, msg: string): void {
    const now = this.clock.now();
    const key = kind.slice(0, 200);
    let k = this.kinds.get(key);
    if (k && now < k.next) {
      k.held++;
      this.logger.debug(fields, msg);
      return;
    }
    if (!k) {
      if (this.kinds.size >= this.maxKinds) this.kinds.clear();
      k = { next: 0, held: 0 };
      this.kinds.set(key, k);
    }
    this.logger.warn(k.held > 0 ? { ...fields, suppressed: k.held } : fields, msg);
    k.next = now + this.intervalMs;
    k.held = 0;
  }
}
