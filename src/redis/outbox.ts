import type { HeldFrame } from '../session/replay-buffer.js';

/**
 * Writes one session's stream frames to its socket strictly in seq order, each once. Frames reach a
 * process by two paths — live over pub/sub, and read back from the replay stream (on resume, or
 * after the subscriber connection was lost) — in any order; the outbox holds early ones until the
 * gap before them is filled and drops what was already written.
 */
export class Outbox {
  private readonly held = new Map<number, HeldFrame>();

  constructor(
    /** The next seq to write (last_seq + 1 on resume, 1 for a new session). */
    private next: number,
    private readonly write: (seq: number, frame: HeldFrame) => void,
  ) {}

  /** Offer one frame; writes it and any held successors when it is the next one. */
  push(seq: number, text: HeldFrame): void {
    if (seq < this.next || this.held.has(seq)) return;
    if (seq > this.next) {
      this.held.set(seq, text);
      return;
    }
    this.write(seq, text);
    this.next++;
    for (let t = this.held.get(this.next); t !== undefined; t = this.held.get(this.next)) {
      this.held.delete(this.next);
      this.write(this.next, t);
      this.next++;
    }
  }

  /** The next seq it waits for. */
  get expected(): number {
    return this.next;
  }

  /** Frames held behind a gap. */
  get waiting(): number {
    return this.held.size;
  }

  /** The lowest seq held behind the gap (Infinity when none): the gap is expected … firstHeld − 1. */
  get firstHeld(): number {
    let min = Infinity;
    for (const seq of this.held.keys()) if (seq < min) min = seq;
    return min;
  }
}
