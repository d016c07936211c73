import { randomBytes, timingSafeEqual } from 'node:crypto';
import { nanoid } from 'nanoid';
import { CloseCode, closeEndsSession } from '../protocol/codes.js';
import { EncodedPayload } from '../protocol/codec.js';
import { ServerEvent, type Profile, type SessionInfo } from '../protocol/events.js';
import type { Clock } from '../time/clock.js';
import { DisconnectedBudget } from './disconnected-budget.js';
import { RoomPresence } from './room-presence.js';
import { SmallSet } from './small-set.js';
import { Session, type SessionLimits, type SessionLink } from './session.js';
import type { DetachReason, EndReason, ResumeResult, RoomMembersPage, SessionService, SessionSummary } from './session-service.js';

export type { EndReason, ResumeResult } from './session-service.js';

/** Hooks the registry calls; the channel hub and the log plug in here. */
export interface RegistryHooks {
  onEnded?(session: Session, reason: EndReason): void;
  /** A disconnected session was ended early to keep the disconnected budget (before `onEnded`). */
  onEvicted?(session: Session): void;
}

/** Session limits plus the global budget of disconnected sessions (0 = no bound). */
export interface RegistryLimits extends SessionLimits {
  maxDisconnectedSessions: number;
  /** Bytes: replay buffers as held, profiles, and a fixed overhead per session. */
  maxDisconnectedBytes: number;
}

const TOMBSTONE_MAX = 10_000;
/** How often a big room hears its counts, ms: short enough to feel live, long enough to coalesce a join storm. */
export const PRESENCE_TICK_MS = 500;

/**
 * The in-memory SessionService: every session of this process, by id and by room. Owns presence
 * (`session/joined`, `session/state`, `session/left`), the `session_ttl` expiry (on the gateway's
 * Clock), and the resume rules of docs/protocol.md §4.3. Its promises settle synchronously. Rooms over
 * `presenceLimit` members get coalesced counts instead of per-member events (RoomPresence, §4.5).
 */
export class SessionRegistry implements SessionService {
  private readonly sessions = new Map<string, Session>();
  private readonly rooms = new Map<string, SmallSet<Session>>();
  /** Created sessions not attached yet, with their `session/joined` payload encoded up front. */
  private readonly unannounced = new WeakMap<Session, EncodedPayload>();
  /** Ids of sessions that expired recently, so a late resume hears `expired`, not `unknown_session`. */
  private readonly tombstones = new Set<string>();
  private readonly limits: SessionLimits;
  private readonly budget: DisconnectedBudget;
  private readonly presence: RoomPresence;

  constructor(
    limits: RegistryLimits,
    /** How long a disconnected session is kept, ms. */
    private readonly ttlMs: number,
    private readonly clock: Clock,
    private readonly hooks: RegistryHooks = {},
    /** Members above which a room gets counts instead of per-member presence events. */
    presenceLimit = 100,
  ) {
    this.limits = { ...limits, onHeld: (s) => this.budget.update(s) };
    this.budget = new DisconnectedBudget(limits.maxDisconnectedSessions, limits.maxDisconnectedBytes, (s) => {
      this.hooks.onEvicted?.(s);
      // Reported as expired: to its client (resume_error) and to its room, it is a session_ttl cut short.
      this.endNow(s, 'expired');
    });
    this.presence = new RoomPresence(clock, presenceLimit, PRESENCE_TICK_MS, (room) => this.rooms.get(room));
  }

  get presenceLimit(): number {
    return this.presence.limit;
  }

  async create(room: string, profile: Profile, resumable: boolean): Promise<Session> {
    const session = new Session(nanoid(), randomBytes(24).toString('base64url'), room, profile, resumable, this.limits, this.clock.now());
    // Encoded before anything is recorded: a profile the room cannot be sent fails here, leaving nothing.
    const joined = new EncodedPayload({ id: session.id, profile });
    this.unannounced.set(session, joined);
    session.profileBytes = joined.json.length;
    return session;
  }

  async resume(sessionId: string, token: string, lastSeq: number, userId?: string): Promise<ResumeResult> {
    const session = this.sessions.get(sessionId);
    if (!session) return { ok: false, error: this.tombstones.has(sessionId) ? 'expired' : 'unknown_session' };
    if (!tokensEqual(session.resumeToken, token)) return { ok: false, error: 'bad_token' };
    // Another user's session: checked before the gap rule, which would end it.
    if (userId !== undefined && session.auth && session.auth.userId !== userId) return { ok: false, error: 'bad_token' };
    const replayed = session.buffer.missingAfter(lastSeq, session.seq);
    if (replayed === 'gap') {
      session.link?.close(CloseCode.Replaced, 'resume failed (gap); session ended');
      this.endNow(session, 'gap');
      return { ok: false, error: 'gap' };
    }
    return { ok: true, session, replayed };
  }

  async attach(session: Session, link: SessionLink): Promise<void> {
    if (session.state === 'ended') throw new Error(`session ${session.id} has ended`);
    const joined = this.unannounced.get(session);
    if (session.link && session.link !== link) session.link.close(CloseCode.Replaced, 'session resumed by another connection');
    this.cancelExpiry(session);
    this.budget.remove(session);
    session.link = link;
    if (joined) {
      this.unannounced.delete(session);
      this.register(session, joined);
      return;
    }
    const wasDisconnected = session.state === 'disconnected';
    session.state = 'connected';
    if (wasDisconnected) this.tellRoom(session, 0, ServerEvent.State, { id: session.id, is_connected: true });
  }

  async detach(session: Session, link: SessionLink, how: DetachReason): Promise<void> {
    if (session.link !== link || session.state === 'ended') return;
    if (!session.resumable || closeEndsSession(how.code, how.byServer)) {
      this.endNow(session, how.code === CloseCode.Kicked ? 'kicked' : 'closed');
      return;
    }
    session.state = 'disconnected';
    session.link = undefined;
    session.disconnectedAt = this.clock.now();
    this.tellRoom(session, 0, ServerEvent.State, { id: session.id, is_connected: false });
    this.cancelExpiry(session);
    session.expiry = this.clock.setTimeout(() => void this.expire(session), this.ttlMs);
    this.budget.add(session);
  }

  async end(session: Session, reason: EndReason): Promise<void> {
    this.endNow(session, reason);
  }

  async expire(session: Session): Promise<void> {
    if (session.state === 'disconnected') this.endNow(session, 'expired');
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  all(): IterableIterator<Session> {
    return this.sessions.values();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Disconnected sessions held, and the bytes the disconnected budget counts for them. */
  get disconnected(): { count: number; bytes: number } {
    return { count: this.budget.count, bytes: this.budget.size };
  }

  roster(room: string, self?: Session): SessionInfo[] {
    const members = this.rooms.get(room);
    if (!members) return [];
    if (!this.presence.isBig(members.size)) return [...members].map(info);
    // A big room's list is cut to presence_limit entries, the asking session's own first.
    const out: SessionInfo[] = self && members.has(self) ? [info(self)] : [];
    for (const s of members) {
      if (out.length >= this.presence.limit) break;
      if (s !== self) out.push(info(s));
    }
    return out;
  }

  roomSize(room: string): number {
    return this.rooms.get(room)?.size ?? 0;
  }

  page(room: string, offset: number, limit: number): RoomMembersPage {
    const out: SessionInfo[] = [];
    let i = 0;
    for (const s of this.rooms.get(room) ?? []) {
      if (out.length >= limit) break;
      if (i++ >= offset) out.push(info(s));
    }
    return { total: this.roomSize(room), sessions: out };
  }

  toOthers(session: Session, event: string, payload: unknown): void {
    const members = this.rooms.get(session.room);
    if (!members || members.size === 0 || (members.size === 1 && members.has(session))) return;
    const encoded = payload instanceof EncodedPayload ? payload : new EncodedPayload(payload);
    for (const other of members) if (other !== session) other.send(event, encoded);
  }

  async sendTo(sessionId: string, event: string, payload: unknown): Promise<{ seq: number; connected: boolean } | undefined> {
    const session = this.sessions.get(sessionId);
    if (!session) return undefined;
    return { seq: session.send(event, payload), connected: session.isConnected };
  }

  async endById(sessionId: string, reason: EndReason): Promise<boolean> {
    const session = this.sessions.get(sessionId);
    if (!session) return false;
    session.link?.close(reason === 'kicked' ? CloseCode.Kicked : CloseCode.Normal, 'session ended by the server');
    this.endNow(session, reason);
    return true;
  }

  async list(room: string | null): Promise<SessionSummary[]> {
    const out: SessionSummary[] = [];
    for (const s of this.sessions.values()) if (room === null || s.room === room) out.push(summary(s));
    return out;
  }

  ack(session: Session, seq: number): void {
    session.ack(seq);
  }

  remember(session: Session, id: string): boolean {
    if (session.dedup.has(id)) return false;
    session.dedup.add(id);
    return true;
  }

  forget(session: Session, id: string): void {
    session.dedup.delete(id);
  }

  unavailable(): string | undefined {
    return undefined;
  }

  /** Drop every session at shutdown, without telling each room about each leaver (O(n²) otherwise). */
  async close(): Promise<void> {
    this.presence.stop();
    for (const s of this.sessions.values()) {
      s.state = 'ended';
      this.cancelExpiry(s);
      this.budget.remove(s);
      s.link = undefined;
      this.hooks.onEnded?.(s, 'shutdown');
    }
    this.sessions.clear();
    this.rooms.clear();
  }

  private register(session: Session, joined: EncodedPayload): void {
    session.state = 'connected';
    this.sessions.set(session.id, session);
    let members = this.rooms.get(session.room);
    if (!members) this.rooms.set(session.room, (members = new SmallSet()));
    this.tellRoom(session, 1, ServerEvent.Joined, joined);
    members.add(session);
  }

  private endNow(session: Session, reason: EndReason): void {
    if (session.state === 'ended') return;
    session.state = 'ended';
    this.cancelExpiry(session);
    this.budget.remove(session);
    session.link = undefined;
    this.unannounced.delete(session);
    if (this.sessions.get(session.id) !== session) return; // never attached: nobody heard of it
    this.sessions.delete(session.id);
    const members = this.rooms.get(session.room);
    const big = this.presence.isBig(members?.size ?? 0); // counted with the leaver
    members?.delete(session);
    if (members && members.size === 0) this.rooms.delete(session.room);
    if (reason === 'expired') this.tombstone(session.id);
    if (big) this.presence.changed(session.room);
    else this.toOthers(session, ServerEvent.Left, { id: session.id, reason });
    this.hooks.onEnded?.(session, reason);
  }

  /**
   * A presence event about `session` for the rest of its room, or — in a big room — a note for the next count.
   * `joining` is 1 when the session is not a member yet (the room's size counts it).
   */
  private tellRoom(session: Session, joining: 0 | 1, event: string, payload: unknown): void {
    if (this.presence.isBig((this.rooms.get(session.room)?.size ?? 0) + joining)) this.presence.changed(session.room);
    else this.toOthers(session, event, payload);
  }

  private cancelExpiry(session: Session): void {
    if (session.expiry !== undefined) this.clock.clearTimeout(session.expiry);
    session.expiry = undefined;
  }

  private tombstone(id: string): void {
    this.tombstones.add(id);
    if (this.tombstones.size > TOMBSTONE_MAX) this.tombstones.delete(this.tombstones.values().next().value as string);
  }
}

/** A local session as `GET /api/sessions` lists it. */
export function summary(s: Session): SessionSummary {
  return {
    id: s.id,
    room: s.room,
    profile: s.profile,
    user: s.auth?.userId,
    is_connected: s.isConnected,
    seq: s.seq,
    buffered: s.buffer.length,
    bufferedBytes: s.buffer.size,
    subscriptions: [...s.subscriptions],
    createdAt: s.createdAt,
    disconnectedAt: s.isConnected ? 0 : s.disconnectedAt,
  };
}

function info(s: Session): SessionInfo {
  return { id: s.id, profile: s.profile, is_connected: s.isConnected };
}

function tokensEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
