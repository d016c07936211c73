import type { Frame } from './events.js';
import { parseJsonBounded } from './json.js';

/** The result of decoding one text frame: a frame, or why it is not one. */
export type DecodeResult = { ok: true; frame: Frame } | { ok: false; message: string; id?: string; event?: string };

const MAX_ID_LENGTH = 64;

/**
 * Decode one v3 text frame. Knows nothing about sockets: the caller has already refused binary
 * frames and frames over `max_payload`. Returns `ok: false` with a human message for `bad_message`
 * (and the frame's `id`/`event` where they could be read, so the error can name them).
 */
export function decodeFrame(text: string): DecodeResult {
  const parsed = parseJsonBounded(text);
  if (!parsed.ok) return { ok: false, message: `frame is ${parsed.message}` };
  const value = parsed.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, message: 'frame must be a JSON object' };
  }
  const obj = value as Record<string, unknown>;
  const id = typeof obj.id === 'string' && obj.id.length >= 1 && obj.id.length <= MAX_ID_LENGTH ? obj.id : undefined;
  const event = typeof obj.event === 'string' ? obj.event : undefined;
  if (event === undefined || event.length === 0) {
    return { ok: false, message: 'frame needs a non-empty string "event"', id };
  }
  if (obj.id !== undefined && id === undefined) {
    return { ok: false, message: `"id" must be a string of 1 to ${MAX_ID_LENGTH} characters`, event };
  }
  if (obj.seq !== undefined && !Number.isSafeInteger(obj.seq)) {
    return { ok: false, message: '"seq" must be an integer', id, event };
  }
  const frame: Frame = { event };
  if ('payload' in obj) frame.payload = obj.payload;
  if (id !== undefined) frame.id = id;
  if (obj.seq !== undefined) frame.seq = obj.seq as number;
  return { ok: true, frame };
}

/** Encode a frame as the JSON text sent on the wire. Fields in a stable order: event, seq, id, payload. */
export function encodeFrame(frame: Frame): string {
  const out: Frame = { event: frame.event };
  if (frame.seq !== undefined) out.seq = frame.seq;
  if (frame.id !== undefined) out.id = frame.id;
  if (frame.payload !== undefined) out.payload = frame.payload;
  return JSON.stringify(out);
}

/**
 * A payload encoded once for a fan-out: every recipient's frame differs only in `seq`, so the
 * payload's JSON is made once and spliced into each frame (same text as encodeFrame would make).
 */
export class EncodedPayload {
  readonly json: string;
  /** The frame's text before and after the seq, for the event it was last framed for (a fan-out: always one). */
  private event: string | undefined;
  private head = '';
  private tail = '';
  constructor(payload: unknown) {
    this.json = encodePayload(payload) as string;
  }

  /** The frame `{event, seq, payload}` (as encodeFrameRaw makes it), with only the seq put in per recipient. */
  frame(event: string, seq: number): string {
    if (event !== this.event) {
      this.event = event;
      this.head = `{"event":${JSON.stringify(event)},"seq":`;
      this.tail = this.json === undefined ? '}' : `,"payload":${this.json}}`;
    }
    return this.head + seq + this.tail;
  }
}

/**
 * A payload's JSON text, or undefined for none (as `encodeFrame` leaves it out). Throws a TypeError for a
 * value JSON cannot express (BigInt, a cycle, a throwing `toJSON`): callers encode first, then take a seq
 * or an offset.
 */
export function encodePayload(payload: unknown): string | undefined {
  if (payload === undefined) return undefined;
  try {
    return JSON.stringify(payload) as string | undefined;
  } catch (err) {
    throw new TypeError(`payload cannot be encoded as JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * A stream frame `{event, seq, id?, payload?}` in one JSON.stringify: the same text as encodePayload followed by
 * encodeFrameRaw (fields in the same order, an undefined payload or id left out), with one pass and one string.
 * Throws the TypeError encodePayload throws for a payload JSON cannot express.
 */
export function encodeStreamFrame(event: string, seq: number, id: string | undefined, payload: unknown): string {
  try {
    return JSON.stringify(id === undefined ? { event, seq, payload } : { event, seq, id, payload });
  } catch (err) {
    throw new TypeError(`payload cannot be encoded as JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/**
 * Encode a frame whose payload is already JSON text. Built with `join`, which makes one flat string:
 * `+=` would make a rope of pieces that a replay buffer then holds at several times the frame's length.
 */
export function encodeFrameRaw(event: string, seq: number | undefined, id: string | undefined, payloadJson: string | undefined): string {
  const parts = ['{"event":', JSON.stringify(event)];
  if (seq !== undefined) parts.push(',"seq":', String(seq));
  if (id !== undefined) parts.push(',"id":', JSON.stringify(id));
  if (payloadJson !== undefined) parts.push(',"payload":', payloadJson);
  parts.push('}');
  return parts.join('');
}

/** Is `value` a plain JSON object (not null, not an array)? */
export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
