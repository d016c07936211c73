import type { TokenIdentity } from '../auth/jwt.js';
import { CloseCode } from '../protocol/codes.js';
import { encodeFrame } from '../protocol/codec.js';
import { CloseError } from '../protocol/errors.js';
import { ServerEvent, type Frame, type InitPayload, type Profile } from '../protocol/events.js';
import { decodeHello } from '../protocol/payloads.js';
import type { Session } from '../session/session.js';
import type { SessionService } from '../session/session-service.js';
import type { Connection } from './connection.js';
import type { GatewayCore } from './core.js';

/**
 * Turn a connection's `client/hello` into a session: authenticate, resume or create, attach (the
 * session service takes over from an old connection), then send `system/init` followed by the
 * replay. Returns the session. If it fails part-way, a newly created session is ended again.
 */
export async function acceptHello(core: GatewayCore, conn: Connection, frame: Frame): Promise<Session> {
  const hello = decodeHello(frame.payload);
  const identity = await verifyToken(core, hello.token);
  let room = hello.room ?? identity?.grants.defaultRoom('main') ?? 'main';
  let profile: Profile = hello.profile ?? {};
  if (identity) {
    if (!identity.grants.mayJoin(room)) throw new CloseError(CloseCode.Unauthorized, `the token does not grant room "${room}"`);
    // The token's name wins over the one the client claims.
    if (identity.name !== undefined) profile = { ...profile, name: identity.name };
  }
  if (core.authenticate) {
    const verdict = await core.authenticate(hello, conn.request!); // kept until the hello is accepted
    if (verdict === false) throw new CloseError(CloseCode.Unauthorized, 'credentials refused');
    if (typeof verdict === 'object') {
      room = verdict.room ?? room;
      profile = verdict.profile ?? profile;
    }
  }
  if (!conn.isOpen) throw new CloseError(CloseCode.GoingAway, 'connection closed during hello');
  const { sessions, metrics } = core;
  // A shared store that is unreachable cannot take a session: the client backs off and retries (1013).
  const unavailable = sessions.unavailable();
  if (unavailable) throw new CloseError(CloseCode.TryAgainLater, unavailable);
  let init: Omit<InitPayload, 'session_id' | 'resume_token' | 'room' | 'sessions'> = base(core, false);
  let session: Session | undefined;
  let replayed = 0;
  /** The first seq the client has not seen: after last_seq on resume, 1 for a new session. */
  let from = 1;
  if (hello.resume) {
    // With JWT, a stolen resume token is not enough: the token's `sub` must be the session's user too.
    const result = await sessions.resume(hello.resume.session_id, hello.resume.resume_token, hello.resume.last_seq, identity?.userId);
    metrics.resumes.inc({ outcome: result.ok ? 'resumed' : result.error });
    if (result.ok) {
      session = result.session;
      replayed = result.replayed;
      from = hello.resume.last_seq + 1;
      init = { ...base(core, true), replayed };
    } else {
      init = { ...init, resume_error: result.error };
      core.logger.debug({ error: result.error }, 'resume refused');
    }
  }
  const created = !session;
  if (!session) session = await sessions.create(room, profile, hello.resumable ?? true);
  // A resume renews the grants and the expiry with the fresher token.
  if (identity) session.auth = { userId: identity.userId, grants: identity.grants };
  conn.tokenExpiresAt = identity?.expiresAt;
  try {
    await sessions.attach(session, conn);
    // A shared store answers over the network: the socket may have gone meanwhile, unseen by the close handler.
    if (!conn.isOpen) throw new CloseError(CloseCode.GoingAway, 'connection closed during hello');
    conn.session = session;
    conn.sendText(
      encodeFrame({
        event: ServerEvent.Init,
        payload: { session_id: session.id, resume_token: session.resumeToken, room: session.room, ...init, ...roomList(sessions, session) },
      }),
    );
  } catch (err) {
    // All or nothing: a new session whose hello could not finish is ended, not left in its room without a connection.
    conn.session = undefined;
    if (created) await sessions.end(session, 'error');
    else await sessions.detach(session, conn, { code: CloseCode.GoingAway, byServer: false }); // resumable again, as after a drop
    throw err;
  }
  if (replayed > 0) metrics.replayed.inc(replayed);
  // Frames after last_seq (a new session: from 1) go out after system/init. A shared store may also have numbered
  // frames for a new session before init was sent (a member joining meanwhile): they are in its buffer too.
  if (session.seq >= from && session.buffer.length > 0) {
    conn.replay(session, from).catch((err: unknown) => conn.log.warn({ err }, 'replay failed'));
  }
  return session;
}

/** With a JWT option set, the hello's token must verify (else close 4001); without one, no identity. */
async function verifyToken(core: GatewayCore, token: string | undefined): Promise<TokenIdentity | undefined> {
  if (!core.jwt) return undefined;
  const check = await core.jwt.verify(token);
  if (!check.ok) throw new CloseError(CloseCode.Unauthorized, check.message);
  return check.identity;
}

function base(core: GatewayCore, resumed: boolean): Omit<InitPayload, 'session_id' | 'resume_token' | 'room' | 'sessions'> {
  const o = core.options;
  return { resumed, protocol: 3, ping_interval: o.pingInterval, heartbeat_interval: o.heartbeatInterval, session_ttl: o.sessionTtl };
}

/** `sessions` for system/init; in a room over `presence_limit` also `room_size` and `presence_limit` (the list is cut). */
function roomList(sessions: SessionService, session: Session): Pick<InitPayload, 'sessions' | 'room_size' | 'presence_limit'> {
  const size = sessions.roomSize(session.room, session);
  const list = sessions.roster(session.room, session);
  return size > sessions.presenceLimit ? { sessions: list, room_size: size, presence_limit: sessions.presenceLimit } : { sessions: list };
}
