import { ChannelHub } from '../channels/channel-hub.js';
import { ErrorCode } from '../protocol/codes.js';
import { isObject } from '../protocol/codec.js';
import { ProtocolError } from '../protocol/errors.js';
import type { Frame, StreamPosition } from '../protocol/events.js';
import type { Session } from '../session/session.js';
import type { GatewayCore } from './core.js';

type Handler = (core: GatewayCore, session: Session, payload: unknown, frame: Frame) => void | Promise<void>;

const bad = (message: string): ProtocolError => new ProtocolError(ErrorCode.BadMessage, message);

function objectPayload(payload: unknown, event: string): Record<string, unknown> {
  if (!isObject(payload)) throw bad(`${event} needs an object payload`);
  return payload;
}

function parseSince(value: unknown): StreamPosition | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || !Number.isSafeInteger(value.offset) || typeof value.epoch !== 'string') {
    throw bad('since must be {offset: integer, epoch: string}');
  }
  return { offset: value.offset as number, epoch: value.epoch };
}

/** The gateway's own client events (PROTOCOL.md §2). Everything else goes to application handlers. */
const BUILTIN: Record<string, Handler> = {
  'client/heartbeat': (core) => {
    core.metrics.heartbeatsReceived.inc();
  },
  'client/ack': (core, session, payload) => {
    const p = objectPayload(payload, 'client/ack');
    if (!Number.isSafeInteger(p.seq) || (p.seq as number) < 0) throw bad('client/ack needs {seq: integer}');
    core.registry.ack(session, p.seq as number);
  },
  'channel/subscribe': async (core, session, payload) => {
    const p = objectPayload(payload, 'channel/subscribe');
    await core.hub.subscribe(session, ChannelHub.check(p.channel), parseSince(p.since));
  },
  'channel/unsubscribe': async (core, session, payload) => {
    const p = objectPayload(payload, 'channel/unsubscribe');
    await core.hub.unsubscribe(session, ChannelHub.check(p.channel));
  },
  'channel/publish': async (core, _session, payload) => {
    const p = objectPayload(payload, 'channel/publish');
    const channel = ChannelHub.check(p.channel);
    if (!core.options.clientPublish) throw new ProtocolError(ErrorCode.Forbidden, 'client publishing is disabled on this gateway');
    if (!('data' in p)) throw bad('channel/publish needs data');
    await core.broker.publish(channel, p.data);
  },
  'send/unicast': async (core, session, payload) => {
    const p = objectPayload(payload, 'send/unicast');
    if (typeof p.receiver !== 'string' || typeof p.subject !== 'string') throw bad('send/unicast needs {receiver, subject, body}');
    // Any session of the gateway: with a shared store the receiver may be on another process.
    const sent = await core.registry.sendTo(p.receiver, 'send/unicast', { sender: session.id, receiver: p.receiver, subject: p.subject, body: p.body });
    if (!sent) throw new ProtocolError(ErrorCode.UnknownSession, `no session ${p.receiver}`);
  },
  'send/broadcast': async (core, session, payload) => {
    const p = objectPayload(payload, 'send/broadcast');
    if (typeof p.subject !== 'string') throw bad('send/broadcast needs {subject, body}');
    await core.registry.toOthers(session, 'send/broadcast', { sender: session.id, subject: p.subject, body: p.body });
  },
};

/**
 * Run one client message of an open session: dedup by `id`, the built-in or application handler,
 * then `system/ack` — or `system/error` with the id left unrecorded so a retry is processed.
 * Returns the error code when the message failed (the caller counts it toward `max_errors`).
 */
export async function dispatch(core: GatewayCore, session: Session, frame: Frame): Promise<string | undefined> {
  const { id, event } = frame;
  try {
    // The in-memory store answers synchronously; only a shared store costs an await.
    const fresh = id === undefined ? true : core.registry.remember(session, id);
    if (!(typeof fresh === 'boolean' ? fresh : await fresh)) {
      core.metrics.dedupHits.inc();
      session.send('system/ack', { id, duplicate: true });
      return undefined;
    }
  } catch (err) {
    return fail(core, session, frame, err);
  }
  try {
    const builtin = BUILTIN[event];
    if (builtin) await builtin(core, session, frame.payload, frame);
    else await runApplication(core, session, frame);
    if (id !== undefined) session.send('system/ack', { id });
    return undefined;
  } catch (err) {
    if (id !== undefined) core.registry.forget(session, id);
    return fail(core, session, frame, err);
  }
}

/** Answer a failed message with `system/error`; returns its code. */
function fail(core: GatewayCore, session: Session, frame: Frame, err: unknown): string {
  const { id, event } = frame;
  const known = err instanceof ProtocolError;
  if (!known) core.logger.warn({ err, event, session: session.id }, 'handler failed');
  const code = known ? err.code : ErrorCode.Internal;
  const message = known ? err.message : 'internal error';
  core.metrics.errors.inc({ code });
  session.send('system/error', { code, message, event, ...(id !== undefined ? { id } : {}) });
  return code;
}

async function runApplication(core: GatewayCore, session: Session, frame: Frame): Promise<void> {
  const handler = core.handlers.get(frame.event);
  if (!handler) throw new ProtocolError(ErrorCode.UnknownEvent, `unknown event "${frame.event}"`);
  await handler({
    session,
    event: frame.event,
    payload: frame.payload,
    id: frame.id,
    reply: (event, payload) => session.send(event, payload),
  });
}
