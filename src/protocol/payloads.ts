import { CloseCode, ErrorCode } from './codes.js';
import { isObject } from './codec.js';
import { CloseError, ProtocolError } from './errors.js';
import { ClientEvent, type HelloPayload, type Profile, type StreamPosition } from './events.js';

/**
 * Decoders of the client → server payloads (docs/protocol.md §2.6): each takes the raw `payload` of a
 * decoded frame and returns it typed, or throws the error the protocol names for it — `bad_message`,
 * `bad_channel`, or close 4000 for a bad `client/hello`. The gateway and the HTTP API use these; no
 * other module checks payload shapes.
 */

/** Room and channel names (docs/protocol.md §5.1): the one name pattern of the protocol. */
export const NAME_PATTERN = /^[A-Za-z0-9_\-:./]{1,128}$/;
/** Channel names: the protocol's name pattern. */
export const CHANNEL_NAME = NAME_PATTERN;
const NAME_RULE = 'must match ^[A-Za-z0-9_\\-:./]{1,128}$';

/** `client/ack`. */
export interface AckPayload {
  seq: number;
}
/** `channel/subscribe`. */
export interface SubscribePayload {
  channel: string;
  since?: StreamPosition;
}
/** `channel/unsubscribe`. */
export interface UnsubscribePayload {
  channel: string;
}
/** `channel/publish`. */
export interface PublishPayload {
  channel: string;
  data: unknown;
}
/** `send/unicast` as a client sends it. */
export interface UnicastPayload {
  receiver: string;
  subject: string;
  body: unknown;
}
/** `send/broadcast` as a client sends it. */
export interface BroadcastPayload {
  subject: string;
  body: unknown;
}

const bad = (message: string): ProtocolError => new ProtocolError(ErrorCode.BadMessage, message);
const badHello = (message: string): CloseError => new CloseError(CloseCode.ProtocolError, message);

function objectPayload(payload: unknown, event: string): Record<string, unknown> {
  if (!isObject(payload)) throw bad(`${event} needs an object payload`);
  return payload;
}

/** A channel name, or `bad_channel`. */
export function decodeChannel(channel: unknown): string {
  if (typeof channel !== 'string' || !NAME_PATTERN.test(channel)) throw new ProtocolError(ErrorCode.BadChannel, `channel ${NAME_RULE}`);
  return channel;
}

function decodeSince(value: unknown): StreamPosition | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || !Number.isSafeInteger(value.offset) || typeof value.epoch !== 'string') {
    throw bad('since must be {offset: integer, epoch: string}');
  }
  return { offset: value.offset as number, epoch: value.epoch };
}

/** `client/ack` payload. */
export function decodeAck(payload: unknown): AckPayload {
  const p = objectPayload(payload, ClientEvent.Ack);
  if (!Number.isSafeInteger(p.seq) || (p.seq as number) < 0) throw bad(`${ClientEvent.Ack} needs {seq: integer}`);
  return { seq: p.seq as number };
}

/** `channel/subscribe` payload. */
export function decodeSubscribe(payload: unknown): SubscribePayload {
  const p = objectPayload(payload, ClientEvent.Subscribe);
  return { channel: decodeChannel(p.channel), since: decodeSince(p.since) };
}

/** `channel/unsubscribe` payload. */
export function decodeUnsubscribe(payload: unknown): UnsubscribePayload {
  const p = objectPayload(payload, ClientEvent.Unsubscribe);
  return { channel: decodeChannel(p.channel) };
}

/**
 * `channel/publish` payload. The channel is checked first and `data` is left to `requireData`,
 * so a gateway with client publishing off can answer `forbidden` before looking at the data.
 */
export function decodePublish(payload: unknown): { channel: string; requireData(): unknown } {
  const p = objectPayload(payload, ClientEvent.Publish);
  const channel = decodeChannel(p.channel);
  return {
    channel,
    requireData: () => {
      if (!('data' in p)) throw bad(`${ClientEvent.Publish} needs data`);
      return p.data;
    },
  };
}

/** `send/unicast` payload. */
export function decodeUnicast(payload: unknown): UnicastPayload {
  const p = objectPayload(payload, ClientEvent.Unicast);
  if (typeof p.receiver !== 'string' || typeof p.subject !== 'string') throw bad(`${ClientEvent.Unicast} needs {receiver, subject, body}`);
  return { receiver: p.receiver, subject: p.subject, body: p.body };
}

/** `send/broadcast` payload. */
export function decodeBroadcast(payload: unknown): BroadcastPayload {
  const p = objectPayload(payload, ClientEvent.Broadcast);
  if (typeof p.subject !== 'string') throw bad(`${ClientEvent.Broadcast} needs {subject, body}`);
  return { subject: p.subject, body: p.body };
}

/** `client/hello` payload; a bad one is a protocol error (close 4000). An absent payload is `{}`. */
export function decodeHello(payload: unknown): HelloPayload {
  const p = payload === undefined ? {} : payload;
  if (!isObject(p)) throw badHello(`${ClientEvent.Hello} payload must be an object`);
  const hello: HelloPayload = {};
  if (p.token !== undefined) {
    if (typeof p.token !== 'string') throw badHello('hello.token must be a string');
    hello.token = p.token;
  }
  if (p.room !== undefined) {
    if (typeof p.room !== 'string' || !NAME_PATTERN.test(p.room)) throw badHello(`hello.room ${NAME_RULE}`);
    hello.room = p.room;
  }
  if (p.profile !== undefined) hello.profile = decodeProfile(p.profile);
  if (p.resumable !== undefined) {
    if (typeof p.resumable !== 'boolean') throw badHello('hello.resumable must be a boolean');
    hello.resumable = p.resumable;
  }
  if (p.resume !== undefined) hello.resume = decodeResume(p.resume);
  return hello;
}

function decodeProfile(profile: unknown): Profile {
  if (!isObject(profile)) throw badHello('hello.profile must be an object');
  if (profile.name !== undefined && typeof profile.name !== 'string') throw badHello('hello.profile.name must be a string');
  return profile as Profile;
}

function decodeResume(r: unknown): NonNullable<HelloPayload['resume']> {
  if (!isObject(r) || typeof r.session_id !== 'string' || typeof r.resume_token !== 'string' || !Number.isSafeInteger(r.last_seq) || (r.last_seq as number) < 0) {
    throw badHello('hello.resume needs {session_id: string, resume_token: string, last_seq: integer >= 0}');
  }
  return { session_id: r.session_id, resume_token: r.resume_token, last_seq: r.last_seq as number };
}

/** `room/list` payload: a page of the room's members (`limit` capped by the caller at `presence_limit`). */
export interface RoomListPayload {
  offset: number;
  limit: number | undefined;
}

/** `room/list` payload; both fields optional. */
export function decodeRoomList(payload: unknown): RoomListPayload {
  const p = payload === undefined ? {} : objectPayload(payload, ClientEvent.RoomList);
  const offset = p.offset ?? 0;
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw bad(`${ClientEvent.RoomList} offset must be an integer >= 0`);
  if (p.limit !== undefined && (!Number.isSafeInteger(p.limit) || (p.limit as number) < 1)) throw bad(`${ClientEvent.RoomList} limit must be an integer >= 1`);
  return { offset: offset as number, limit: p.limit as number | undefined };
}
