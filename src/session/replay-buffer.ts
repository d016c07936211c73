/** One stored outgoing message: its `seq` and the encoded frame exactly as sent. */
export interface BufferedFrame {
  seq: number;
  text: string;
}

/**
 * The un-acked server→client messages of one session, oldest first, bounded by count and bytes.
 * Overflow drops the oldest; a later resume that needs a dropped message is told `gap` — never
 * a silent loss. Seqs are contiguous (a session pushes every stream message it numbers), so only the
 * texts are kept and a frame's seq is `firstSeq` + its index: no object per buffered message.
 */
export class ReplayBuffer {
  private texts: string[] = [];
  /** Seq of `texts[0]`. */
  private firstSeq = 0;
  private head = 0;
  private bytes = 0;

  constructor(
    /** Bound, messages. */
    private readonly maxMessages: number,
    /** Bound, bytes (UTF-16 length of the frame text, close to its UTF-8 size for JSON). */
    private readonly maxBytes: number,
  ) {}

  /** Store a frame just sent (or queued while disconnected). */
  push(seq: number, text: string): void {
    if (this.texts.length === 0) this.firstSeq = seq;
    else if (seq !== this.firstSeq + this.texts.length) throw new Error(`replay buffer: seq ${seq} does not follow ${this.firstSeq + this.texts.length - 1}`);
    this.texts.push(text);
    this.bytes += text.length;
    while (this.length > this.maxMessages || (this.bytes > this.maxBytes && this.length > 1)) {
      this.bytes -= this.texts[this.head++]!.length;
    }
    this.compact();
  }

  /** The client has everything ≤ `seq`: forget it. */
  ack(seq: number): void {
    while (this.length > 0 && this.firstSeq + this.head <= seq) {
      this.bytes -= this.texts[this.head]!.length;
      this.head++;
    }
    this.compact();
  }

  /**
   * How many messages a resume from `lastSeq` replays — or `'gap'` when some of them are gone
   * (dropped by overflow, or acked by a client now claiming it never got them). Frames are
   * contiguous and the newest is `currentSeq` (every stream message is pushed), so the oldest held
   * seq decides. `currentSeq` is the session's last assigned seq.
   */
  missingAfter(lastSeq: number, currentSeq: number): number | 'gap' {
    if (lastSeq < 0 || lastSeq > currentSeq) return 'gap';
    if (lastSeq === currentSeq) return 0;
    const oldest = this.length > 0 ? this.firstSeq + this.head : Infinity;
    return oldest <= lastSeq + 1 ? currentSeq - lastSeq : 'gap';
  }

  /** The frames a resume from `lastSeq` replays, in order, or `'gap'`. */
  since(lastSeq: number, currentSeq: number): BufferedFrame[] | 'gap' {
    const missing = this.missingAfter(lastSeq, currentSeq);
    return missing === 'gap' ? 'gap' : this.from(lastSeq + 1, missing);
  }

  /**
   * Up to `limit` frames starting at `seq` (contiguous), for a replay pump. Empty when `seq` is
   * past the newest; starts later than `seq` when it was dropped (the caller treats that as a gap).
   */
  from(seq: number, limit: number): BufferedFrame[] {
    if (this.length === 0) return [];
    const start = this.head + Math.max(0, seq - (this.firstSeq + this.head));
    const end = Math.min(this.texts.length, start + limit);
    const out: BufferedFrame[] = [];
    for (let i = start; i < end; i++) out.push({ seq: this.firstSeq + i, text: this.texts[i]! });
    return out;
  }

  /** Messages held. */
  get length(): number {
    return this.texts.length - this.head;
  }

  /** Bytes held. */
  get size(): number {
    return this.bytes;
  }

  /** Let acked frames go: all of them once everything is acked (the usual idle state), else in halves. */
  private compact(): void {
    if (this.head > 0 && this.head === this.texts.length) {
      this.texts = [];
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.texts.length) {
      this.texts = this.texts.slice(this.head);
      this.firstSeq += this.head;
      this.head = 0;
    }
  }
}
