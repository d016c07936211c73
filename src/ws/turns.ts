/**
 * At most `limit` holders at once; the others wait their turn in arrival order. For the hellos of a process: under
 * a reconnect storm over Redis, thousands answered at once all progress together and all finish late (every Redis
 * round trip of each waits behind everyone else's), so clients give up and retry; taken in turns, the first ones are
 * in within milliseconds and a client that left while waiting costs nothing.
 */
export class Turns {
  private busy = 0;
  /** Callers in arrival order; the ones before `head` have had their turn (cleared, compacted now and then). */
  private waiting: ((() => void) | undefined)[] = [];
  private head = 0;

  constructor(private readonly limit: number) {}

  /** Resolves when it is the caller's turn; call `done()` once after. */
  take(): Promise<void> | undefined {
    if (this.busy < this.limit) {
      this.busy++;
      return undefined;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** The caller's turn is over: the next waiting one gets it. */
  done(): void {
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      next();
      return;
    }
    this.busy--;
  }

  /** Holders now, and callers waiting. */
  get counts(): { active: number; waiting: number } {
    return { active: this.busy, waiting: this.waiting.length - this.head };
  }
}
