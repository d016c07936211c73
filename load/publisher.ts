import { nowMs } from './clients/trackers.js';

/**
 * Publishes `{t}` (send time, ms) to one channel at a steady rate through `POST /api/publish`, as a backend would,
 * and remembers the highest offset the gateway answered (what every subscriber must end up with).
 */
export class Publisher {
  private readonly timer: NodeJS.Timeout;
  private readonly inflight = new Set<Promise<void>>();
  private lastOffset = 0;
  /** Publishes that failed (HTTP error or network), by reason. */
  readonly failures: Record<string, number> = {};
  published = 0;

  constructor(
    private readonly httpBase: string,
    private readonly channel: string,
    rate: number,
    private readonly apiKey = '',
  ) {
    this.timer = setInterval(() => this.publishOne(), 1000 / rate);
  }

  private publishOne(): void {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    const p = fetch(`${this.httpBase}/api/publish`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ channel: this.channel, data: { t: nowMs() } }),
    })
      .then(async (r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const body = (await r.json()) as { offset?: number };
        this.published++;
        if (typeof body.offset === 'number') this.lastOffset = Math.max(this.lastOffset, body.offset);
      })
      .catch((err: Error) => {
        this.failures[err.message] = (this.failures[err.message] ?? 0) + 1;
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  /** Stop publishing; resolves with the last offset once every request in flight has answered. */
  async stop(): Promise<number> {
    clearInterval(this.timer);
    await Promise.all([...this.inflight]);
    return this.lastOffset;
  }
}
