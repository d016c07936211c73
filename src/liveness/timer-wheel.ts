import type { Clock, TimerHandle } from '../time/clock.js';

/**
 * Work per wake-up, ms (see `perTick`): the system clock counts whole ms, so a wake-up stops at the first ms
 * boundary after 15 items; on a quiet machine that is still > 10,000 items a second (pings are 1,000 a second for
 * 10,000 connections at the default 10 s).
 */
const TICK_BUDGET_MS = 1;

/** What a wheel files: the item carries its own slot number (-1: not filed), so there is no side map per item. */
export interface WheelItem {
  wheelSlot: number;
}

/**
 * Many deadlines, one timer. Items are filed in slots of `resolutionMs`; a single re-armed timer
 * wakes for the earliest non-empty slot and hands each due item to `onDue`, which usually
 * re-schedules it. With 100k connections this is one timer instead of 100k, and because each
 * item keeps its own phase the work is spread over the interval instead of landing in one tick.
 */
export class TimerWheel<T extends WheelItem> {
  private readonly slots = new Map<number, Set<T>>();
  private count = 0;
  private timer: TimerHandle | undefined;
  private armedSlot = Infinity;
  /** The latest a due item was handled after its slot's time since `takeMaxLateness` (ms). */
  private maxLate = 0;
  /** Slots count from here, so a slot number stays a small integer (stored inline, not as a heap number per item). */
  private readonly epoch: number;

  constructor(
    private readonly clock: Clock,
    /** Slot width, ms: deadlines fire up to this late. */
    private readonly resolutionMs: number,
    private readonly onDue: (item: T) => void,
    /** Told when `onDue` throws for an item; the other due items still run. */
    private readonly onError: (err: unknown, item: T) => void = () => undefined,
    /**
     * Items handled per wake-up; more due at once (many connections, or a late timer) continue on the next turn,
     * so a tick never holds the event loop long. A wake-up also stops after TICK_BUDGET_MS of work: a ping frame is
     * one socket write, ~20-50 µs, and on a busy machine far more; both layers share a turn with a 2 ms fan-out
     * slice inside a 10 ms budget (128 items took up to 6 ms alone, the whole quiet-time block of a 10,000-connection
     * bench server).
     */
    private readonly perTick = 128,
  ) {
    this.epoch = clock.now();
  }

  /** File `item` to fire at `atMs` (clock time), replacing any earlier schedule of it. */
  schedule(item: T, atMs: number): void {
    this.cancel(item);
    const slot = Math.ceil((atMs - this.epoch) / this.resolutionMs);
    let set = this.slots.get(slot);
    if (!set) this.slots.set(slot, (set = new Set()));
    set.add(item);
    item.wheelSlot = slot;
    this.count++;
    if (slot < this.armedSlot) this.arm(slot);
  }

  /** Forget `item`. */
  cancel(item: T): void {
    const slot = item.wheelSlot;
    if (slot < 0) return;
    item.wheelSlot = -1;
    this.count--;
    const set = this.slots.get(slot);
    set?.delete(item);
    if (set && set.size === 0) this.slots.delete(slot);
  }

  /**
   * How late (ms) the latest-handled item ran after its slot's time, since the last call; resets. The wheel's own
   * rounding (up to one slot) is not counted: this is the time the event loop made the wheel wait (a long
   * synchronous job, a burst of I/O) plus the spill-over of a crowded slot.
   */
  takeMaxLateness(): number {
    const late = this.maxLate;
    this.maxLate = 0;
    return late;
  }

  /** Number of scheduled items. */
  get size(): number {
    return this.count;
  }

  /** Cancel everything and the timer. */
  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedSlot = Infinity;
    for (const set of this.slots.values()) for (const item of set) item.wheelSlot = -1;
    this.slots.clear();
    this.count = 0;
  }

  private arm(slot: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.armedSlot = slot;
    const delay = Math.max(0, this.epoch + slot * this.resolutionMs - this.clock.now());
    this.timer = this.clock.setTimeout(() => this.tick(), delay);
  }

  private tick(): void {
    this.timer = undefined;
    this.armedSlot = Infinity;
    const now = this.clock.now();
    const nowSlot = Math.floor((now - this.epoch) / this.resolutionMs);
    const due = [...this.slots.keys()].filter((s) => s <= nowSlot).sort((a, b) => a - b);
    let budget = this.perTick;
    const stopAt = now + TICK_BUDGET_MS;
    for (const slot of due) {
      const set = this.slots.get(slot);
      if (!set) continue;
      const late = now - (this.epoch + slot * this.resolutionMs);
      if (late > this.maxLate) this.maxLate = late;
      for (const item of set) {
        // The rest of this slot on the next turn: no long block. The clock is read every 16 items.
        if (budget-- === 0 || ((budget & 15) === 0 && this.clock.now() >= stopAt)) return this.arm(slot);
        set.delete(item);
        if (item.wheelSlot !== slot) continue; // cancelled by an earlier item's onDue
        item.wheelSlot = -1;
        this.count--;
        try {
          this.onDue(item);
        } catch (err) {
          // One item's failure must not stop the others; the owner of the wheel reports it.
          this.onError(err, item);
        }
      }
      if (set.size === 0 && this.slots.get(slot) === set) this.slots.delete(slot);
    }
    let next = Infinity;
    for (const s of this.slots.keys()) if (s < next) next = s;
    if (next !== Infinity) this.arm(next);
  }
}
