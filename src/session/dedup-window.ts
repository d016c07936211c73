/**
 * The client message ids a session has processed, newest `capacity` kept (insertion order is
 * eviction order). Lives on the session, so it survives resume.
 */
export class DedupWindow {
  /** Made on the first id: most sessions never send one, and an empty Set still costs its hash table. */
  private ids: Set<string> | undefined;

  constructor(
    /** Ids remembered; default 1024 (docs/protocol.md §2.4: at least the last 1024). */
    private readonly capacity = 1024,
  ) {}

  has(id: string): boolean {
    return this.ids?.has(id) ?? false;
  }

  add(id: string): void {
    this.ids ??= new Set();
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
    }
  }

  /** Un-record an id whose message failed, so a retry is processed. */
  delete(id: string): void {
    this.ids?.delete(id);
  }

  get size(): number {
    return this.ids?.size ?? 0;
  }
}
