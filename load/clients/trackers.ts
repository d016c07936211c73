import type { WorkerStats } from '../types.js';

/** Wall-clock milliseconds with sub-ms precision, comparable across the processes of one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A chat line as sent on the wire: `sender|n|sentAtMs`. */
export function chatText(sender: string, n: number): string {
  return `${sender}|${n}|${nowMs().toFixed(3)}`;
}

/** Parse a chat line; undefined when it is not one of ours. */
export function parseChatText(text: unknown): { sender: string; n: number; sentAt: number } | undefined {
  if (typeof text !== 'string') return undefined;
  const [sender, n, t] = text.split('|');
  const num = Number(n);
  const sentAt = Number(t);
  if (!sender || !Number.isInteger(num) || !Number.isFinite(sentAt)) return undefined;
  return { sender, n: num, sentAt };
}

/**
 * Per receiver: which numbered messages of each sender arrived. Sender numbers start at 1 and go up by one, so a
 * gap is remembered as missing until it shows up late (out of order) or the run ends (lost).
 */
export class ChatTracker {
  private readonly bySender = new Map<string, { next: number; missing: Set<number> }>();

  /** Record message `n` of `sender`. */
  add(sender: string, n: number, m: WorkerStats['messages']): void {
    let st = this.bySender.get(sender);
    if (!st) this.bySender.set(sender, (st = { next: 1, missing: new Set() }));
    m.received++;
    if (n === st.next) st.next++;
    else if (n > st.next) {
      for (let i = st.next; i < n; i++) st.missing.add(i);
      st.next = n + 1;
    } else if (st.missing.delete(n)) m.outOfOrder++;
    else m.duplicated++;
  }

  /** At the end: everything a sender sent that never arrived is lost. */
  finish(self: string, sentBySender: Record<string, number>, m: WorkerStats['messages']): void {
    for (const [sender, sent] of Object.entries(sentBySender)) {
      if (sender === self) continue;
      const st = this.bySender.get(sender);
      m.lost += st ? st.missing.size + Math.max(0, sent - (st.next - 1)) : sent;
    }
  }
}

/** Per client: which channel offsets arrived since its subscription began. */
export class OffsetTracker {
  private base: number | undefined;
  private readonly seen = new Set<number>();

  /** The channel's offset when the client first subscribed: everything after it is expected. */
  setBase(offset: number): void {
    if (this.base === undefined) this.base = offset;
  }

  /** Record one delivered offset. */
  add(offset: number, m: WorkerStats['messages']): void {
    m.received++;
    if (this.base !== undefined && offset <= this.base) return;
    if (this.seen.has(offset)) m.duplicated++;
    else this.seen.add(offset);
  }

  /** Offsets after the base up to `lastOffset` that never arrived. */
  finish(lastOffset: number, m: WorkerStats['messages']): void {
    if (this.base === undefined) return;
    let got = 0;
    for (const o of this.seen) if (o <= lastOffset) got++;
    m.lost += Math.max(0, lastOffset - this.base - got);
  }
}
