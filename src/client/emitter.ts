/** A listener for one event of the map `M`. */
export type Listener<T> = (value: T) => void;

/**
 * A tiny typed event emitter (no Node `events` import: the SDK also runs in browsers).
 * A throwing listener does not stop the others; its error is reported through `onListenerError`.
 */
export class Emitter<M extends object> {
  private readonly listeners = new Map<keyof M, Set<Listener<never>>>();
  private held: [keyof M, unknown][] | undefined;

  constructor(private readonly onListenerError: (err: unknown) => void = defaultListenerError) {}

  /** Add a listener; returns a function that removes it. */
  on<K extends keyof M>(event: K, fn: Listener<M[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => this.off(event, fn);
  }

  /** Add a listener that runs once. */
  once<K extends keyof M>(event: K, fn: Listener<M[K]>): () => void {
    const off = this.on(event, (value) => {
      off();
      fn(value);
    });
    return off;
  }

  off<K extends keyof M>(event: K, fn: Listener<M[K]>): void {
    this.listeners.get(event)?.delete(fn as Listener<never>);
  }

  /**
   * Queue what is emitted from now until {@link release} or the next microtask, whichever comes first: events of a
   * constructor would otherwise fire before the caller could attach a listener.
   */
  protected holdUntilNextTick(): void {
    this.held ??= [];
    queueMicrotask(() => this.release());
  }

  /** Deliver the held events, in order (no-op when nothing is held). */
  protected release(): void {
    const held = this.held;
    this.held = undefined;
    for (const [event, value] of held ?? []) this.emit(event, value as M[keyof M]);
  }

  protected emit<K extends keyof M>(event: K, value: M[K]): void {
    if (this.held) {
      this.held.push([event, value]);
      return;
    }
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<M[K]>)(value);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  protected removeAllListeners(): void {
    this.listeners.clear();
  }
}

function defaultListenerError(err: unknown): void {
  // Report it like a DOM event listener error would be, without breaking the client's state.
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof report === 'function') report(err);
  else console.error('wsgate client: a listener threw', err);
}
