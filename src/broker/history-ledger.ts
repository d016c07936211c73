/** One history entry this process added to a shared store: where it is, what it costs there, and when it was added. */
interface LedgerEntry {
  key: string;
  id: string;
  cost: number;
  at: number;
}

/**
 * The history entries one gateway process added to Redis that may still be there (younger than `history_ttl`), in
 * the order they were added, with their total cost. Over `max_history_bytes` the oldest are handed back to be
 * deleted: what one process can make Redis hold in channel history is then bounded, whatever channel names its
 * clients make up (a global bound would need one key every publish touches, which Redis Cluster cannot run in one
 * script). Entries trimmed meanwhile by `history_size` or age are still counted until they age out here: the bound
 * is an upper one.
 */
export class HistoryLedger {
  private entries: LedgerEntry[] = [];
  private head = 0;
  private bytes = 0;

  constructor(
    /** Bytes (0: no bound). */
    private readonly maxBytes: number,
    /** Milliseconds an entry can live in Redis (history_ttl): older ones are gone there and leave the ledger. */
    private readonly ttlMs: number,
  ) {}

  /** Bytes counted now. */
  get held(): number {
    return this.bytes;
  }

  /** Record an entry added at `at` (ms); returns the oldest entries to delete so that the total is within the bound. */
  add(key: string, id: string, cost: number, at: number): Array<{ key: string; id: string }> {
    if (this.maxBytes <= 0) return [];
    this.expire(at);
    this.entries.push({ key, id, cost, at });
    this.bytes += cost;
    const drop: Array<{ key: string; id: string }> = [];
    while (this.bytes > this.maxBytes && this.head < this.entries.length) {
      const e = this.entries[this.head++]!;
      this.bytes -= e.cost;
      drop.push({ key: e.key, id: e.id });
    }
    this.compact();
    return drop;
  }

  /** Forget entries older than the TTL at `now`: Redis has trimmed or expired them. */
  expire(now: number): void {
    const cutoff = now - this.ttlMs;
    while (this.head < this.entries.length && this.entries[this.head]!.at < cutoff) this.bytes -= this.entries[this.head++]!.cost;
    this.compact();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
