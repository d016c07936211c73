/** One stored outgoing message: its `seq` and the encoded frame exactly as sent. */
export interface BufferedFrame {
  seq: number;
  text: string;
}

/**
 * The un-acked server→client messages of one session, oldest first, bounded by count and bytes.
 * Overflow drops the oldest; a later resume that needs a dropped message is told `gap` — never
 * a silent loss.
 */
export class ReplayBuffer {
  private frames: BufferedFrame[] = [];
  private head = 0;
  private bytes = 0;
  /** Highest seq ever dropped by overflow (not by ack); a resume from below it is a gap. */
  private droppedUpTo = 0;

  constructor(
    /** Bound, messages. */
    private readonly maxMessages: number,
    /** Bound, bytes (UTF-16 length of the frame text, close to its UTF-8 size for JSON). */
    private readonly maxBytes: number,
  ) {}

  /** Store a frame just sent (or queued while disconnected). */
  push(seq: number, text: string): void {
    this.frames.push({ seq, text });
    this.bytes += text.length;
    while (this.length > this.maxMessages || (this.bytes > this.maxBytes && this.length > 1)) {
      const old = this.frames[this.head++]!;
      this.bytes -= old.text.length;
      this.droppedUpTo = old.seq;
    }
    this.compact();
  }

  /** The client has everything ≤ `seq`: forget it. */
  ack(seq: number): void {
    while (this.length > 0 && this.frames[this.head]!.seq <= seq) {
      this.bytes -= this.frames[this.head]!.text.length;
      this.head++;
    }
    this.compact();
  }

  /**
   * Everything after `lastSeq`, in order — or `'gap'` when some of it was dropped by overflow.
   * `currentSeq` is the session's last assigned seq.
   */
  since(lastSeq: number, currentSeq: number): BufferedFrame[] | 'gap' {
    if (lastSeq < 0 || lastSeq > currentSeq) return 'gap';
    if (lastSeq === currentSeq) return [];
    if (lastSeq < this.droppedUpTo) return 'gap';
    const out: BufferedFrame[] = [];
    for (let i = this.head; i < this.frames.length; i++) {
      const f = this.frames[i]!;
      if (f.seq > lastSeq) out.push(f);
    }
    // Acked frames are gone on purpose: a client resuming from before its own ack lied; call it a gap.
    if (out.length === 0 || out[0]!.seq !== lastSeq + 1) return 'gap';
    return out;
  }

  /**
   * Up to `limit` frames starting at `seq` (contiguous), for a replay pump. Empty when `seq` is
   * past the newest; starts later than `seq` when it was dropped (the caller treats that as a gap).
   */
  from(seq: number, limit: number): BufferedFrame[] {
    if (this.length === 0) return [];
    const first = this.frames[this.head]!.seq;
    const start = this.head + Math.max(0, seq - first);
    return this.frames.slice(start, Math.min(this.frames.length, start + limit));
  }

  /** Messages held. */
  get length(): number {
    return this.frames.length - this.head;
  }

  /** Bytes held. */
  get size(): number {
    return this.bytes;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
  }
}
