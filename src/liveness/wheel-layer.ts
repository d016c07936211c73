import type { Clock } from '../time/clock.js';
import { TimerWheel } from './timer-wheel.js';

/**
 * What both liveness layers have in common: one entry per connection, filed on a TimerWheel of
 * their own and woken by `due`. Each layer keeps its own wheel, timer and settings.
 */
export abstract class WheelLayer<T, E extends { target: T }> {
  protected readonly entries = new Map<T, E>();
  protected readonly wheel: TimerWheel<E>;

  constructor(
    protected readonly clock: Clock,
    /** Wheel slot width, ms. */
    resolutionMs: number,
    /** Told when acting on one connection threw (the gateway logs it); the others are still served. */
    onError: (err: unknown) => void = () => undefined,
  ) {
    this.wheel = new TimerWheel(clock, resolutionMs, (e) => this.due(e), (err) => onError(err));
  }

  /** Stop watching `target` (its connection closed). */
  remove(target: T): void {
    const entry = this.entries.get(target);
    if (!entry) return;
    this.entries.delete(target);
    this.wheel.cancel(entry);
  }

  /** Connections watched. */
  get size(): number {
    return this.entries.size;
  }

  /** Forget everything and cancel the timer. */
  stop(): void {
    this.wheel.stop();
    this.entries.clear();
  }

  /** Start watching an entry (restarting it if its target was already watched), first due at `atMs`. */
  protected track(entry: E, atMs: number): void {
    this.remove(entry.target);
    this.entries.set(entry.target, entry);
    this.wheel.schedule(entry, atMs);
  }

  /** The entry's time came: act, then re-schedule or remove it. */
  protected abstract due(entry: E): void;
}
