import type { Clock, TimerHandle } from '../../src/time/clock.js';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A clock for unit tests: time moves only by `advance` (firing due timers in order, each seeing
 * its own `now`) or by writing `time` (a jump that fires nothing, like a laptop waking up).
 * `throttleMs` aligns every timer to the next multiple of it, as Chrome does in hidden tabs.
 */
export class ManualClock implements Clock {
  throttleMs = 0;
  private timers: Pending[] = [];
  private nextId = 1;

  constructor(public time = 0) {}

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    let at = this.time + Math.max(0, ms);
    if (this.throttleMs > 0) at = Math.ceil(at / this.throttleMs) * this.throttleMs;
    const timer = { id: this.nextId++, at, fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Move time forward by `ms`, running every timer that falls due, earliest first. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = target;
  }

  /** Timers still pending (tests use it to prove nothing leaks). */
  get pending(): number {
    return this.timers.length;
  }
}
