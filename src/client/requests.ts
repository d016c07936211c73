import type { ErrorPayload } from '../protocol/events.js';
import { Timer, type Clock } from '../time/clock.js';

/** Why a `send()` promise was rejected: a `system/error` code, or one of the client's own. */
export class WsgateError extends Error {
  constructor(
    /** `system/error.code`, or `timeout`, `closed` (the client stopped), `session_lost` (see docs/client.md). */
    readonly code: string,
    message: string,
    /** The event the server named in `system/error`, when it did. */
    readonly event?: string,
  ) {
    super(message);
    this.name = 'WsgateError';
  }
}

/** A settled `send()`: the server's `system/ack`. */
export interface SendResult {
  id: string;
  /** True when the server had already processed this id (a re-send after a reconnect). */
  duplicate: boolean;
}

interface Pending {
  id: string;
  event: string;
  payload: unknown;
  /** Written to some socket at least once: the server may have applied it. */
  written: boolean;
  /** The client's own channel request: rebuilt from subscription state after a session loss. */
  internal: boolean;
  resolve(result: SendResult): void;
  reject(err: WsgateError): void;
}

/**
 * Client messages that carry an `id` and wait for `system/ack`, in send order.
 * They survive reconnects: after a resume each one is written again (the server's dedup window
 * turns a repeat into `duplicate:true`, so nothing is applied twice).
 */
export class RequestQueue {
  private readonly pending = new Map<string, Pending>();
  private counter = 0;
  private readonly prefix: string;

  constructor(randomId: () => string) {
    // A random prefix: ids must stay unique within a session even across page reloads that resume it.
    this.prefix = randomId();
  }

  /** Queue a message until `system/ack`; the caller writes it now if connected, `drain()` rewrites it after each resume. */
  add(event: string, payload: unknown, internal = false): { id: string; promise: Promise<SendResult> } {
    const id = `${this.prefix}.${(++this.counter).toString(36)}`;
    let entry!: Pending;
    const promise = new Promise<SendResult>((resolve, reject) => {
      entry = { id, event, payload, written: false, internal, resolve, reject };
    });
    this.pending.set(id, entry);
    return { id, promise };
  }

  /** Mark one entry written (sent right away on a live connection). */
  markWritten(id: string): void {
    const p = this.pending.get(id);
    if (p) p.written = true;
  }

  /** Entries to (re)write, oldest first; each is marked written. */
  drain(): Array<{ id: string; event: string; payload: unknown }> {
    const out = [];
    for (const p of this.pending.values()) {
      p.written = true;
      out.push({ id: p.id, event: p.event, payload: p.payload });
    }
    return out;
  }

  /** `system/ack {id, duplicate?}`. Returns false for an id we do not know. */
  ack(id: string, duplicate: boolean): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    p.resolve({ id, duplicate });
    return true;
  }

  /** `system/error` naming one of our ids. Returns false for an id we do not know. */
  error(id: string, err: ErrorPayload): boolean {
    return this.fail(id, new WsgateError(err.code, err.message, err.event));
  }

  /**
   * The session was lost (a fresh one started): entries already written may or may not have been
   * applied, and the new session's dedup window does not know them, so re-sending could apply them
   * twice. Reject those; keep the never-written ones for the new session. Internal channel requests
   * are all dropped: the client resubscribes from its own state.
   */
  sessionLost(reason: string): void {
    for (const p of [...this.pending.values()]) {
      if (p.written || p.internal) this.fail(p.id, new WsgateError('session_lost', `session lost (${reason}); ${p.event} may or may not have been applied`, p.event));
    }
  }

  /** Reject everything (the client stopped). */
  rejectAll(code: string, message: string): void {
    for (const p of [...this.pending.values()]) this.fail(p.id, new WsgateError(code, message, p.event));
  }

  get size(): number {
    return this.pending.size;
  }

  /** Reject `id` with `timeout` unless it settles within `ms`; returns its promise. */
  expire(id: string, promise: Promise<SendResult>, ms: number, clock: Clock): Promise<SendResult> {
    const event = this.pending.get(id)?.event ?? '';
    const t = new Timer(clock, () => this.fail(id, new WsgateError('timeout', `no system/ack for ${event} within ${ms} ms`, event)));
    t.arm(ms);
    return promise.finally(() => t.cancel());
  }

  /** Reject one entry (e.g. its timeout expired); a later ack for it is ignored. */
  fail(id: string, err: WsgateError): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    this.pending.delete(id);
    p.reject(err);
    return true;
  }
}
