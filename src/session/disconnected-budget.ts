import type { Session } from './session.js';

/**
 * What a disconnected session costs beyond its replay buffer, bytes: the Session, its buffer and dedup
 * objects, its id and token strings, its entries in the registry's maps and its expiry timer. Measured:
 * 2.1 KiB of heap per dropped session with an empty buffer (load/results/memory-abuse.md); its profile
 * is counted apart, by its JSON length.
 */
export const SESSION_OVERHEAD_BYTES = 2048;

/** The bytes a disconnected session holds: its replay buffer as really held, its profile, the overhead. */
export function sessionCost(session: Session): number {
  return session.buffer.size + session.profileBytes + SESSION_OVERHEAD_BYTES;
}

/**
 * The global budget of disconnected sessions, by count and by bytes. The oldest disconnected is evicted
 * first when either bound is passed: a flood of sessions dropped on purpose can take the place of older
 * ones, but never more memory than the budget. Insertion order of the Map is disconnect order.
 */
export class DisconnectedBudget {
  private readonly held = new Map<Session, number>();
  private bytes = 0;

  constructor(
    /** Most disconnected sessions kept; 0 = no bound. */
    private readonly maxSessions: number,
    /** Most bytes held by disconnected sessions; 0 = no bound. */
    private readonly maxBytes: number,
    /** Ends an evicted session (its resume then gets `expired`). */
    private readonly evict: (session: Session) => void,
  ) {}

  /** A session just disconnected. */
  add(session: Session): void {
    this.remove(session);
    const cost = sessionCost(session);
    this.held.set(session, cost);
    this.bytes += cost;
    this.enforce();
  }

  /** A disconnected session's buffer changed (a message was queued for it). */
  update(session: Session): void {
    const old = this.held.get(session);
    if (old === undefined) return;
    const cost = sessionCost(session);
    this.held.set(session, cost);
    this.bytes += cost - old;
    this.enforce();
  }

  /** A session reconnected or ended. */
  remove(session: Session): void {
    const old = this.held.get(session);
    if (old === undefined) return;
    this.held.delete(session);
    this.bytes -= old;
  }

  /** Disconnected sessions held. */
  get count(): number {
    return this.held.size;
  }

  /** Bytes they hold (as counted when each last changed). */
  get size(): number {
    return this.bytes;
  }

  private over(): boolean {
    return (this.maxSessions > 0 && this.held.size > this.maxSessions) || (this.maxBytes > 0 && this.bytes > this.maxBytes);
  }

  private enforce(): void {
    while (this.held.size > 0 && this.over()) {
      const oldest = this.held.keys().next().value as Session;
      this.remove(oldest);
      this.evict(oldest);
    }
  }
}
