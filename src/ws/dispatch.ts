import { ErrorCode } from '../protocol/codes.js';
import { ProtocolError } from '../protocol/errors.js';
import { ClientEvent, ServerEvent, type Frame } from '../protocol/events.js';
import { decodeAck, decodeBroadcast, decodePublish, decodeRoomList, decodeSubscribe, decodeUnicast, decodeUnsubscribe } from '../protocol/payloads.js';
import type { Session } from '../session/session.js';
import type { GatewayCore } from './core.js';

/** A `channels` claim of the session's token does not cover `channel` (docs/security.md §3). */
const forbidden = (what: string, channel: string): ProtocolError => new ProtocolError(ErrorCode.Forbidden, `the token does not allow to ${what} "${channel}"`);

type Handler = (core: GatewayCore, session: Session, payload: unknown, frame: Frame) => void | Promise<void>;

/**
 * The gateway's own client events (docs/protocol.md §2.6). Everything else goes to application handlers.
 * A Map, not an object: an event named `constructor` or `__proto__` must not find Object.prototype.
 */
const BUILTIN = new Map<string, Handler>([
  [ClientEvent.Heartbeat, (core) => void core.metrics.heartbeatsReceived.inc()],
  [ClientEvent.Ack, (core, session, payload) => core.sessions.ack(session, decodeAck(payload).seq)],
  [
    ClientEvent.Subscribe,
    async (core, session, payload) => {
      const p = decodeSubscribe(payload);
      if (session.auth && !session.auth.grants.maySubscribe(p.channel)) throw forbidden('subscribe to', p.channel);
      await core.hub.subscribe(session, p.channel, p.since);
    },
  ],
  [ClientEvent.Unsubscribe, async (core, session, payload) => core.hub.unsubscribe(session, decodeUnsubscribe(payload).channel)],
  [
    ClientEvent.Publish,
    async (core, session, payload) => {
      const p = decodePublish(payload);
      if (!core.options.clientPublish) throw new ProtocolError(ErrorCode.Forbidden, 'client publishing is disabled on this gateway');
      if (session.auth && !session.auth.grants.mayPublish(p.channel)) throw forbidden('publish on', p.channel);
      await core.hub.publish(p.channel, p.requireData());
    },
  ],
  [
    ClientEvent.Unicast,
    async (core, session, payload) => {
      const p = decodeUnicast(payload);
      // Any session of the gateway: with a shared store the receiver may be on another process.
      const sent = await core.sessions.sendTo(p.receiver, ServerEvent.Unicast, { sender: session.id, receiver: p.receiver, subject: p.subject, body: p.body });
      if (!sent) throw new ProtocolError(ErrorCode.UnknownSession, `no session ${p.receiver}`);
    },
  ],
  [
    ClientEvent.Broadcast,
    async (core, session, payload) => {
      const p = decodeBroadcast(payload);
      await core.sessions.toOthers(session, ServerEvent.Broadcast, { sender: session.id, subject: p.subject, body: p.body });
    },
  ],
  [
    ClientEvent.RoomList,
    async (core, session, payload) => {
      const p = decodeRoomList(payload);
      const limit = Math.min(p.limit ?? core.sessions.presenceLimit, core.sessions.presenceLimit);
      // With a shared store the page and its total are read from Redis together (a bounded range, never the room).
      const { total, sessions } = await core.sessions.page(session.room, p.offset, limit);
      session.send(ServerEvent.RoomPage, { room: session.room, offset: p.offset, total, sessions });
    },
  ],
]);

/** Something a handler may return: nothing (it finished), or a promise-like to wait for. */
type Pending = PromiseLike<unknown>;
const isPending = (v: unknown): v is Pending =>
  v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';

/**
 * Run one client message of an open session: dedup by `id`, the built-in or application handler,
 * then `system/ack` — or `system/error` with the id left unrecorded so a retry is processed.
 * Returns the error code when the message failed (the caller counts it toward `max_errors`).
 * Synchronous when the store and the handler are (the common case: no promise per message); a promise
 * only once something awaited.
 */
export function dispatch(core: GatewayCore, session: Session, frame: Frame): string | undefined | Promise<string | undefined> {
  const id = frame.id;
  let fresh: boolean | Promise<boolean>;
  try {
    // The in-memory store answers synchronously; only a shared store costs an await.
    fresh = id === undefined ? true : core.sessions.remember(session, id);
  } catch (err) {
    return fail(core, session, frame, err);
  }
  if (fresh === true) return run(core, session, frame);
  if (fresh === false) return duplicate(core, session, id!);
  return fresh.then((f) => (f ? run(core, session, frame) : duplicate(core, session, id!)), (err: unknown) => fail(core, session, frame, err));
}

function duplicate(core: GatewayCore, session: Session, id: string): undefined {
  core.metrics.dedupHits.inc();
  session.send(ServerEvent.Ack, { id, duplicate: true });
  return undefined;
}

/** The handler, then the ack; waits only when the handler returned a promise. */
function run(core: GatewayCore, session: Session, frame: Frame): string | undefined | Promise<string | undefined> {
  let pending: unknown;
  try {
    const builtin = BUILTIN.get(frame.event);
    pending = builtin ? builtin(core, session, frame.payload, frame) : runApplication(core, session, frame);
    if (!isPending(pending)) return acked(session, frame);
  } catch (err) {
    return failed(core, session, frame, err);
  }
  return Promise.resolve(pending).then(
    () => acked(session, frame),
    (err: unknown) => failed(core, session, frame, err),
  );
}

function acked(session: Session, frame: Frame): undefined {
  if (frame.id !== undefined) session.send(ServerEvent.Ack, { id: frame.id });
  return undefined;
}

/** The handler (or the ack after it) threw: the id is forgotten so a retry is processed. */
function failed(core: GatewayCore, session: Session, frame: Frame, err: unknown): string {
  if (frame.id !== undefined) core.sessions.forget(session, frame.id);
  return fail(core, session, frame, err);
}

/** Answer a failed message with `system/error`; returns its code. */
function fail(core: GatewayCore, session: Session, frame: Frame, err: unknown): string {
  const { id, event } = frame;
  const known = err instanceof ProtocolError;
  if (!known) {
    // With a shared store that is away, failures are expected (the store logs the outage once): no warning each.
    if (core.sessions.unavailable()) core.logger.debug({ err: (err as Error).message, event, session: session.id }, 'handler failed while the store is unreachable');
    else core.warnings.warn(`${event} ${(err as Error)?.message}`, { err, event, session: session.id }, 'handler failed');
  }
  const code = known ? err.code : ErrorCode.Internal;
  const message = known ? err.message : 'internal error';
  core.metrics.errors.inc({ code });
  session.send(ServerEvent.Error, { code, message, event, ...(id !== undefined ? { id } : {}) });
  return code;
}

function runApplication(core: GatewayCore, session: Session, frame: Frame): void | Promise<void> {
  const handler = core.handlers.get(frame.event);
  if (!handler) throw new ProtocolError(ErrorCode.UnknownEvent, `unknown event "${frame.event}"`);
  return handler({
    session,
    event: frame.event,
    payload: frame.payload,
    id: frame.id,
    reply: (event, payload) => session.send(event, payload),
  });
}
