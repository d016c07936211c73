import type { ResumeError } from '../protocol/codes.js';
import type { Profile, SessionInfo } from '../protocol/events.js';
import type { Session, SessionLink } from './session.js';

/** Why a session ended, as sent in `session/left.reason`. */
export type EndReason = 'closed' | 'expired' | 'kicked' | 'replaced' | 'gap' | 'error' | 'shutdown';

/** Outcome of a resume check. On a gap the service has already ended the old session (and closed its link). */
export type ResumeResult =
  | { ok: true; session: Session; /** Messages after `last_seq`, to be replayed. */ replayed: number }
  | { ok: false; error: ResumeError };

/** One page of a room's members (`room/page`) and the room's size when it was read. */
export interface RoomMembersPage {
  total: number;
  sessions: SessionInfo[];
}

/** How a connection ended, as the session service needs it to decide between ending and keeping. */
export interface DetachReason {
  /** The close code that ended the connection. */
  code: number;
  /** true when the server started the close. */
  byServer: boolean;
}

/** One session as `GET /api/sessions` lists it (any process's, with a shared store). */
export interface SessionSummary {
  id: string;
  room: string;
  profile: Profile;
  /** The JWT `sub` the session was opened (or last resumed) with; undefined without JWT. */
  user?: string;
  is_connected: boolean;
  /** Last seq sent to the session. */
  seq: number;
  /** Un-acked messages held for replay, and their bytes (0 when the store does not count bytes). */
  buffered: number;
  bufferedBytes: number;
  subscriptions: string[];
  /** Clock times, ms; disconnectedAt 0 while connected. */
  createdAt: number;
  disconnectedAt: number;
}

/**
 * The one owner of the session lifecycle: create, attach, detach, resume, end, expire, and the
 * presence events each step tells the room. The ws layer and the HTTP API only call this.
 *
 * Lifecycle steps return promises: the in-memory implementation (SessionRegistry) settles them
 * at once, a store shared by several processes (Redis, the scale-out issue) needs the network for
 * them. Lookups of this process's sessions stay synchronous: a Session object is local (it holds
 * the replay buffer and the link to a socket), a shared store would keep only its record remotely.
 */
export interface SessionService {
  /**
   * A new session, not yet in any room: `attach` announces it. Throws, leaving nothing behind,
   * when the session cannot be described to its room (e.g. a profile that cannot be encoded).
   */
  create(room: string, profile: Profile, resumable: boolean): Promise<Session>;
  /**
   * Check a resume request (token in constant time, then the user, then the replay window); on success the caller
   * attaches. `userId`: the hello token's `sub` (JWT); a session another user holds is refused `bad_token`, before
   * anything about it changes (a stolen resume token alone must not take over, nor end, someone else's session).
   */
  resume(sessionId: string, token: string, lastSeq: number, userId?: string): Promise<ResumeResult>;
  /**
   * Bind `link` to the session: the session is connected, an older link is closed 4002, the room
   * hears `session/joined` (new) or `session/state` (resumed), and any expiry is cancelled.
   */
  attach(session: Session, link: SessionLink): Promise<void>;
  /** `link` went away: end the session, or keep it `session_ttl` for a resume (docs/protocol.md §4.2). */
  detach(session: Session, link: SessionLink, how: DetachReason): Promise<void>;
  /** End a session now: it leaves its room, its buffer and subscriptions go. Idempotent. */
  end(session: Session, reason: EndReason): Promise<void>;
  /** `session_ttl` passed while disconnected (the service's own timer calls it; a shared store's sweeper may too). */
  expire(session: Session): Promise<void>;
  /** A live session of this process. */
  get(id: string): Session | undefined;
  /** Every live session of this process. */
  all(): Iterable<Session>;
  /**
   * The room's sessions as listed in `system/init.sessions`: all of them, or in a room over `presenceLimit` that
   * many, `self` first (docs/protocol.md §4.6).
   */
  roster(room: string, self?: Session): SessionInfo[];
  /** Members of the room (with `self`, the size read with its `roster`, when that came from a shared store). */
  roomSize(room: string, self?: Session): number;
  /** Up to `limit` of the room's sessions from `offset` on, in joining order (`room/list`), and the room's size. */
  page(room: string, offset: number, limit: number): RoomMembersPage | Promise<RoomMembersPage>;
  /** Members above which a room gets counts instead of per-member presence events. */
  readonly presenceLimit: number;
  /** Send a stream message to every other session of `session`'s room (buffered for the disconnected ones). */
  toOthers(session: Session, event: string, payload: unknown): void | Promise<void>;
  /** Send a stream message to any session of the gateway (with a shared store, another process's too); `payload` may be an EncodedPayload. undefined: unknown session. */
  sendTo(sessionId: string, event: string, payload: unknown): Promise<{ seq: number; connected: boolean } | undefined>;
  /** End any session of the gateway by id; its connection, wherever it is, closes 4003 (kicked) or 1000. false: unknown. */
  endById(sessionId: string, reason: EndReason): Promise<boolean>;
  /** Every session of the gateway, optionally of one room. */
  list(room: string | null): Promise<SessionSummary[]>;
  /** The client has every message up to `seq`: drop them from its replay buffer. */
  ack(session: Session, seq: number): void;
  /** Record a client message id: false when it was processed before (the dedup window, docs/protocol.md §2.4). */
  remember(session: Session, id: string): boolean | Promise<boolean>;
  /** Un-record an id whose message failed, so a retry is processed. */
  forget(session: Session, id: string): void;
  /** Why this process cannot take new sessions now (its shared store is unreachable), or undefined when it can. */
  unavailable(): string | undefined;
  /** Drop every session at shutdown (no `session/left` per leaver). */
  close(): Promise<void>;
}
