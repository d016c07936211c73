/**
 * The v2 ⇄ v3 translation tables of docs/protocol.md §7.2 and §7.3, as data: one entry per event that is not
 * passed through generically. Pure functions, no sockets — the proxy only looks things up here.
 */
import { ClientEvent, ErrorCode, ServerEvent, isObject, type Frame } from '../src/protocol/index.js';
import { V2Event, v2Disconnect, v2Error, type V2Frame } from './v2-codec.js';

type Fields = Record<string, unknown>;

/** A v2 frame turned into the v3 frame to send upstream, or the v2 error to answer with. */
export type V2ToV3Result = { ok: true; frame: Frame } | { ok: false; error: V2Frame };

/** How one v2 event becomes a v3 frame; gets the v2 fields other than `event`. */
export type V2ToV3Rule = (fields: Fields) => V2ToV3Result;

/** How one v3 event becomes zero or more v2 frames; gets the v3 payload (always an object here). */
export type V3ToV2Rule = (payload: Fields) => V2Frame[];

const ok = (frame: Frame): V2ToV3Result => ({ ok: true, frame });
const broadcast = (subject: string, body: Fields): V2ToV3Result =>
  ok({ event: ClientEvent.Broadcast, payload: { subject, body } });
// v2 chat fields are strings; anything else is refused here, where the v2 client can be told in its own dialect.
const needString = (event: string, field: string): V2ToV3Result => ({
  ok: false,
  error: v2Error(ErrorCode.BadMessage, `${event} needs a string "${field}"`),
});

/** v2 (client → server) events with their own translation. Any other event: `{event, payload:{...fields}}`. */
export const V2_TO_V3: Readonly<Record<string, V2ToV3Rule>> = {
  // Keeps the v3 session's application heartbeat alive (the gateway counts any client message).
  [V2Event.Heartbeat]: () => ok({ event: ClientEvent.Heartbeat }),
  [V2Event.ChatMessage]: ({ content }) =>
    typeof content === 'string' ? broadcast(V2Event.ChatMessage, { text: content }) : needString(V2Event.ChatMessage, 'content'),
  [V2Event.ChatEmote]: ({ emote }) =>
    typeof emote === 'string' ? broadcast(V2Event.ChatEmote, { emote }) : needString(V2Event.ChatEmote, 'emote'),
};

/** `send/broadcast` subjects that v2 understands, keyed by subject. Other subjects are not sent. */
export const BROADCAST_TO_V2: Readonly<Record<string, (sender: unknown, body: Fields) => V2Frame>> = {
  [V2Event.ChatMessage]: (sender, body) => ({ event: V2Event.ChatMessage, id: sender, content: body.text }),
  [V2Event.ChatEmote]: (sender, body) => ({ event: V2Event.ChatEmote, id: sender, emote: body.emote }),
};

const DROP: V3ToV2Rule = () => [];
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const displayname = (profile: unknown): string => (isObject(profile) ? str(profile.name) : '');

/** v3 (server → client) events with their own translation. Any other event: `{event, ...payload}`. */
export const V3_TO_V2: Readonly<Record<string, V3ToV2Rule>> = {
  [ServerEvent.Init]: (p) => [
    {
      event: V2Event.MemberList,
      members: (Array.isArray(p.sessions) ? p.sessions : [])
        .filter((s): s is Fields => isObject(s) && s.is_connected === true)
        .map((s) => ({ id: s.id, displayname: displayname(s.profile) })),
    },
    { event: V2Event.Init, id: p.session_id, heartbeat_interval: p.heartbeat_interval },
  ],
  // v2 has no such events.
  [ServerEvent.Heartbeat]: DROP,
  [ServerEvent.Ack]: DROP,
  [ServerEvent.State]: DROP,
  [ServerEvent.Error]: (p) => [v2Error(str(p.code), str(p.message))],
  [ServerEvent.Disconnect]: (p) => [v2Disconnect(str(p.reason), str(p.message))],
  [ServerEvent.Joined]: (p) => [{ event: V2Event.MemberConnected, id: p.id, displayname: displayname(p.profile) }],
  [ServerEvent.Left]: (p) => [{ event: V2Event.MemberDisconnected, id: p.id }],
  [ServerEvent.Broadcast]: (p) => {
    const rule = typeof p.subject === 'string' && Object.hasOwn(BROADCAST_TO_V2, p.subject) ? BROADCAST_TO_V2[p.subject] : undefined;
    return rule ? [rule(p.sender, isObject(p.body) ? p.body : {})] : [];
  },
};

/** v3 event-name prefixes never sent to v2 (`channel/subscribed`, `channel/message`, big rooms' `room/presence`, …). */
export const V3_DROPPED_PREFIXES: readonly string[] = ['channel/', 'room/'];

/** Translate one v2 frame into the v3 frame to send upstream (or the v2 error to answer with). */
export function v2ToV3(frame: V2Frame): V2ToV3Result {
  const { event, ...fields } = frame;
  const rule = Object.hasOwn(V2_TO_V3, event) ? V2_TO_V3[event] : undefined;
  return rule ? rule(fields) : ok({ event, payload: fields });
}

/**
 * Translate one v3 frame into the v2 frames to send (none for events v2 does not have).
 * `seq` and `id` are dropped: v2 has neither. A payload that is not an object reaches v2 as `{event, payload}`.
 */
export function v3ToV2(frame: Frame): V2Frame[] {
  const { event, payload } = frame;
  if (V3_DROPPED_PREFIXES.some((prefix) => event.startsWith(prefix))) return [];
  const rule = Object.hasOwn(V3_TO_V2, event) ? V3_TO_V2[event] : undefined;
  if (rule) return rule(isObject(payload) ? payload : {});
  if (isObject(payload)) return [{ ...payload, event }];
  return payload === undefined ? [{ event }] : [{ event, payload }];
}
