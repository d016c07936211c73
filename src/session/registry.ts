import { randomBytes, timingSafeEqual } from 'node:crypto';
import { nanoid } from 'nanoid';
import { EncodedPayload } from '../protocol/codec.js';
import { ServerEvent, type Profile, type SessionInfo } from '../protocol/events.js';
import type { ResumeError } from '../protocol/codes.js';
import { Session, type SessionLimits } from './session.js';

/** Why a session ended, as sent in `session/left.reason`. */
export type EndReason = 'closed' | 'expired' | 'kicked' | 'replaced' | 'gap' | 'error' | 'shutdown';

/** Outcome of a resume attempt. */
export type ResumeResult =
  | { ok: true; session: Session; /** Messages after `last_seq`, to be replayed. */ replayed: number }
  | { ok: false; error: ResumeError; old?: Session };

/** Hooks the registry calls; the channel hub and metrics plug in here. */
export interface RegistryHooks {
  onEnded?(session: Session, reason: EndReason): void;
}

const TOMBSTONE_MAX = 10_000;

/**
 * Every session of this process, by id and by room. Owns presence (`session/joined`,
 * `session/state`, `session/left`), the `session_ttl` expiry, and the resume rules of PROTOCOL.md §4.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  private readonly rooms = new Map<string, Set<Session>>();
  /** Ids of sessions that expired recently, so a late resume hears `expired`, not `unknown_session`. */
  private readonly tombstones = new Set<string>();

  constructor(
    private readonly limits: SessionLimits,
    /** How long a disconnected session is kept, ms. */
    private readonly ttlMs: number,
    private readonly hooks: RegistryHooks = {},
  ) {}

  /** Create a session, tell the room it joined. */
  create(room: string, profile: Profile, resumable: boolean): Session {
    const session = new Session(nanoid(), randomBytes(24).toString('base64url'), room, profile, resumable, this.limits);
    this.sessions.set(session.id, session);
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Set()));
    this.toOthers(session, ServerEvent.Joined, { id: session.id, profile });
    members.add(session);
    return session;
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** All live (not ended) sessions. */
  all(): IterableIterator<Session> {
    return this.sessions.values();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** The room's sessions as listed in `system/init.sessions`. */
  roster(room: string): SessionInfo[] {
    return [...(this.rooms.get(room) ?? [])].map((s) => ({ id: s.id, profile: s.profile, is_connected: s.isConnected }));
  }

  /** The other sessions of `session`'s room. */
  others(session: Session): Session[] {
    return [...(this.rooms.get(session.room) ?? [])].filter((s) => s !== session);
  }

  /** Check a resume request; on success the caller attaches the new connection and replays. */
  resume(sessionId: string, token: string, lastSeq: number): ResumeResult {
    const session = this.sessions.get(sessionId);
    if (!session) return { ok: false, error: this.tombstones.has(sessionId) ? 'expired' : 'unknown_session' };
    if (!tokensEqual(session.resumeToken, token)) return { ok: false, error: 'bad_token' };
    const replayed = session.buffer.missingAfter(lastSeq, session.seq);
    if (replayed === 'gap') return { ok: false, error: 'gap', old: session };
    return { ok: true, session, replayed };
  }

  /** The session's connection went away but the session is kept for `session_ttl`. */
  markDisconnected(session: Session): void {
    if (session.state === 'ended') return;
    session.state = 'disconnected';
    session.link = undefined;
    session.disconnectedAt = Date.now();
    this.toOthers(session, ServerEvent.State, { id: session.id, is_connected: false });
    clearTimeout(session.expiry);
    session.expiry = setTimeout(() => this.end(session, 'expired'), this.ttlMs);
    session.expiry.unref();
  }

  /** A resumed session is connected again. */
  markConnected(session: Session): void {
    clearTimeout(session.expiry);
    session.expiry = undefined;
    const wasDisconnected = session.state === 'disconnected';
    session.state = 'connected';
    if (wasDisconnected) this.toOthers(session, ServerEvent.State, { id: session.id, is_connected: true });
  }

  /** End a session: it leaves its room, its buffer and subscriptions go. Idempotent. */
  end(session: Session, reason: EndReason): void {
    if (session.state === 'ended') return;
    session.state = 'ended';
    clearTimeout(session.expiry);
    session.link = undefined;
    this.sessions.delete(session.id);
    const members = this.rooms.get(session.room);
    members?.delete(session);
    if (members && members.size === 0) this.rooms.delete(session.room);
    if (reason === 'expired') this.remember(session.id);
    this.toOthers(session, ServerEvent.Left, { id: session.id, reason });
    this.hooks.onEnded?.(session, reason);
  }

  /** Send a stream message to every other session of `session`'s room (connected or not: buffered). */
  toOthers(session: Session, event: string, payload: unknown): void {
    const members = this.rooms.get(session.room);
    if (!members || members.size === 0 || (members.size === 1 && members.has(session))) return;
    const encoded = new EncodedPayload(payload);
    for (const other of this.rooms.get(session.room) ?? []) if (other !== session) other.send(event, encoded);
  }

  /** Drop every session at shutdown, without telling each room about each leaver (O(n²) otherwise). */
  clear(): void {
    for (const s of this.sessions.values()) {
      s.state = 'ended';
      clearTimeout(s.expiry);
      s.link = undefined;
      this.hooks.onEnded?.(s, 'shutdown');
    }
    this.sessions.clear();
    this.rooms.clear();
  }

  private remember(id: string): void {
    this.tombstones.add(id);
    if (this.tombstones.size > TOMBSTONE_MAX) this.tombstones.delete(this.tombstones.values().next().value as string);
  }
}

function tokensEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
