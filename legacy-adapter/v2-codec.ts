import { ErrorCode, isObject, MAX_JSON_DEPTH, parseJsonBounded } from '../src/protocol/index.js';

/**
 * A v2 frame (docs/protocol.md §7.1): one flat JSON object, `{"event": "...", ...fields}`.
 * There is no `payload` wrapper, no `seq` and no `id` in v2.
 */
export interface V2Frame {
  event: string;
  [field: string]: unknown;
}

/** The result of decoding one v2 text frame: a frame, or the v2 error to answer with. */
export type V2DecodeResult = { ok: true; frame: V2Frame } | { ok: false; error: V2Frame };

/** v2 event names the adapter itself produces. */
export const V2Event = {
  Init: 'system/init',
  Error: 'system/error',
  Disconnect: 'system/disconnect',
  MemberList: 'member/list',
  MemberConnected: 'member/connected',
  MemberDisconnected: 'member/disconnected',
  ChatMessage: 'chat/message',
  ChatEmote: 'chat/emote',
  Heartbeat: 'client/heartbeat',
} as const;

/** A v2 `system/error {title, message}`. `title` carries what v3 calls `code`. */
export function v2Error(title: string, message: string): V2Frame {
  return { event: V2Event.Error, title, message };
}

/** A v2 `system/disconnect {title, message}`. `title` carries what v3 calls `reason`. */
export function v2Disconnect(title: string, message: string): V2Frame {
  return { event: V2Event.Disconnect, title, message };
}

/** Deepest nesting accepted in a v2 frame: one less than the v3 bound (see decodeV2). */
export const V2_MAX_JSON_DEPTH = MAX_JSON_DEPTH - 1;

/**
 * Decode one v2 text frame. Anything that is not a JSON object with a non-empty string `event`
 * yields the v2 `system/error {title:"bad_message", message}` to send back (the connection stays open).
 */
export function decodeV2(text: string): V2DecodeResult {
  // v2 fields move one level down, into the v3 payload: one level less here keeps the translated
  // frame within the gateway's bound (else the adapter would forward what the gateway refuses).
  const parsed = parseJsonBounded(text, V2_MAX_JSON_DEPTH);
  if (!parsed.ok) return { ok: false, error: v2Error(ErrorCode.BadMessage, `frame is ${parsed.message}`) };
  const value = parsed.value;
  if (!isObject(value)) return { ok: false, error: v2Error(ErrorCode.BadMessage, 'frame must be a JSON object') };
  if (typeof value.event !== 'string' || value.event.length === 0) {
    return { ok: false, error: v2Error(ErrorCode.BadMessage, 'frame needs a non-empty string "event"') };
  }
  return { ok: true, frame: value as V2Frame };
}

/** Encode a v2 frame as wire text, `event` first. */
export function encodeV2(frame: V2Frame): string {
  const { event, ...fields } = frame;
  return JSON.stringify({ event, ...fields });
}
