import type { Clock } from '../time/clock.js';
import { TimerWheel, type WheelItem } from './timer-wheel.js';

/**
 * What both liveness layers have in common: one entry per connection, filed on a TimerWheel of
 * their own and woken by `due`. Each layer keeps its own wheel, timer and settings.
 */
export abstract class WheelLayer<T, E extends { target: T } & WheelItem> {
  protected readonly entries = new Map<T, E>();
  protected readonly wheel: TimerWheel<E>;
  /**
   * Entries keep times as whole ms since this layer started (`now()`): small integers are stored inline in the
   * entry, where clock times (beyond 2³⁰) would cost a heap number per field per connection.
   */
  protected readonly epoch: number;

  constructor(
    protected readonly clock: Clock,
    /** Wheel slot width, ms. */
    resolutionMs: number,
    /** Told when acting on one connection threw (the gateway logs it); the others are still served. */
    onError: (err: unknown) => void = () => undefined,
  ) {
    this.wheel = new TimerWheel(clock, resolutionMs, (e) => this.due(e), (err) => onError(err));
    this.epoch = clock.now();
  }

  /** Whole ms since the layer started. */
  protected now(): number {
    return Math.round(this.clock.now() - this.epoch);
  }

  /** File `entry` on the wheel for `at` (layer time, see `now`). */
  protected fileAt(entry: E, at: number): void {
    this.wheel.schedule(entry, this.epoch + at);
  }

  /** Stop watching `target` (its connection closed). */
  remove(target: T): void {
    const entry = this.entries.get(target);
    if (!entry) return;
    this.entries.delete(target);
    this.wheel.cancel(entry);
  }

  /** How late (ms) this layer's wheel ran against its schedule since the last call (see TimerWheel). */
  takeMaxLateness(): number {
    return this.wheel.takeMaxLateness();
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

  /** Start watching an entry (restarting it if its target was already watched), first due at `at` (layer time). */
  protected track(entry: E, at: number): void {
    this.remove(entry.target);
    this.entries.set(entry.target, entry);
    this.fileAt(entry, at);
  }

  /** The entry's time came: act, then re-schedule or remove it. */
  protected abstract due(entry: E): void;
}
