/** One stored outgoing message: its `seq` and the encoded frame exactly as sent. */
export interface BufferedFrame {
  seq: number;
  text: string;
}

/**
 * One frame every subscriber of a publish gets, differing only in its seq: a replay buffer keeps this one shared
 * object instead of a text per subscriber (a fan-out to 10,000 made 10,000 strings per message that lived until
 * the acks came, and the young-generation GC copied them all), and makes the text again only for a replay.
 */
export interface SharedFrame {
  /** The frame's text with this seq. */
  text(seq: number): string;
  /** What one session is charged for holding it (as frameCost of its text), so the buffer's bounds stay the same. */
  readonly cost: number;
}

/** A frame as a replay buffer holds it: its own text, or a fan-out's shared frame. */
export type HeldFrame = string | SharedFrame;
type Held = HeldFrame;
const costOf = (f: Held): number => (typeof f === 'string' ? frameCost(f) : f.cost);

/**
 * What one held frame costs beyond its characters, bytes: the string's header (16), its slot in the
 * array (8), V8's 8-byte alignment and the array's spare capacity. Measured: 31.7 bytes per frame over
 * 1.5 million held frames of about 100 characters (load/results/memory-abuse.md).
 */
export const FRAME_OVERHEAD_BYTES = 32;

/**
 * The memory a frame's text really takes in V8: one byte per character when every character is
 * Latin-1, two otherwise, plus FRAME_OVERHEAD_BYTES. The text must be flat (see `encodeFrameRaw`):
 * a rope of concatenated pieces costs several times its length.
 */
export function frameCost(text: string): number {
  return (WIDE_CHAR.test(text) ? text.length * 2 : text.length) + FRAME_OVERHEAD_BYTES;
}

// A one-byte (Latin-1) string cannot match, and V8 knows it without scanning: 10,000 tests of a 64 KB ASCII
// frame take ~6 ms, so the cost is paid only by two-byte text, once per push and once per drop.
const WIDE_CHAR = /[^\u0000-\u00ff]/;

/**
 * The un-acked server→client messages of one session, oldest first, bounded by count and bytes.
 * Overflow drops the oldest; a later resume that needs a dropped message is told `gap` — never
 * a silent loss. Frames are contiguous (every stream message is pushed), so only their texts are
 * stored, from `first` on: no object per frame.
 */
export class ReplayBuffer {
  private texts: Held[] = [];
  private head = 0;
  /** seq of texts[head]. */
  private first = 1;
  private bytes = 0;

  constructor(
    /** Bound, messages. */
    private readonly maxMessages: number,
    /** Bound, bytes as really held (frameCost: characters by their width in memory, plus overhead). */
    private readonly maxBytes: number,
  ) {}

  /** Store a frame just sent (or queued while disconnected). `seq` follows the last one pushed. */
  push(seq: number, text: Held): void {
    if (this.length === 0) this.first = seq;
    else if (seq !== this.first + this.length) throw new Error(`replay buffer: seq ${seq} does not follow ${this.first + this.length - 1}`);
    this.texts.push(text);
    this.bytes += costOf(text);
    while (this.length > this.maxMessages || (this.bytes > this.maxBytes && this.length > 1)) this.dropOldest();
    this.compact();
  }

  /** The client has everything ≤ `seq`: forget it. */
  ack(seq: number): void {
    while (this.length > 0 && this.first <= seq) this.dropOldest();
    this.compact();
  }

  /**
   * How many messages a resume from `lastSeq` replays — or `'gap'` when some of them are gone
   * (dropped by overflow, or acked by a client now claiming it never got them). Frames are
   * contiguous and the newest is `currentSeq`, so the oldest held seq decides. `currentSeq` is the
   * session's last assigned seq.
   */
  missingAfter(lastSeq: number, currentSeq: number): number | 'gap' {
    if (lastSeq < 0 || lastSeq > currentSeq) return 'gap';
    if (lastSeq === currentSeq) return 0;
    const oldest = this.length > 0 ? this.first : Infinity;
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
    const skip = Math.max(0, seq - this.first);
    const start = this.head + skip;
    const end = Math.min(this.texts.length, start + limit);
    const out: BufferedFrame[] = [];
    for (let i = start; i < end; i++) {
      const seqAt = this.first + (i - this.head);
      const held = this.texts[i]!;
      out.push({ seq: seqAt, text: typeof held === 'string' ? held : held.text(seqAt) });
    }
    return out;
  }

  /** Messages held. */
  get length(): number {
    return this.texts.length - this.head;
  }

  /** Bytes held, as really taken in memory (frameCost of each frame). */
  get size(): number {
    return this.bytes;
  }

  private dropOldest(): void {
    this.bytes -= costOf(this.texts[this.head]!);
    // Release the string now, not at the next compaction.
    this.texts[this.head] = '';
    this.head++;
    this.first++;
  }

  private compact(): void {
    // Compacted once a fifth of the array is dropped slots: a full buffer that drops one frame per push keeps
    // its array near its live length (slack is memory too), at an amortised copy of four slots per push.
    if (this.length === 0) {
      this.texts = [];
      this.head = 0;
    } else if (this.head >= 16 && this.head * 5 >= this.texts.length) {
      this.texts = this.texts.slice(this.head);
      this.head = 0;
    }
  }
}
