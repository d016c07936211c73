/**
 * fast-check arbitraries for hostile input: text that is almost a frame, frames with wrong types,
 * deep nesting around the depth bound, Object.prototype names, lone surrogates.
 */
import fc from 'fast-check';
import { MAX_JSON_DEPTH } from '../../src/protocol/json.js';

/** Names a naive `obj[event]` lookup would find on every object. */
export const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__', 'prototype'];

/** Strings a client can put on the wire, lone surrogates and control characters included. */
export const anyText = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.constantFrom('\ud800', '\udfff', 'a\ud83dz', '\u0000', ''));

/** Event names: the protocol's, Object.prototype's, and random ones. */
export const eventName = fc.oneof(
  fc.constantFrom('client/hello', 'client/ack', 'client/heartbeat', 'channel/subscribe', 'channel/publish', 'channel/unsubscribe', 'send/unicast', 'send/broadcast', 'system/init', 'chat/message', 'chat/emote'),
  fc.constantFrom(...PROTO_NAMES),
  anyText,
);

/** `depth` levels of arrays/objects around `inner`, as JSON text. */
export function nested(depth: number, inner = '1'): string {
  let out = inner;
  for (let i = 0; i < depth; i++) out = i % 2 === 0 ? `[${out}]` : `{"k":${out}}`;
  return out;
}

/** A value that is a frame field of any type, including the wrong ones. */
const anyField = fc.oneof(fc.jsonValue({ maxDepth: 3 }), anyText, fc.integer(), fc.double(), fc.constant(null));

/** JSON text shaped like a frame (or a v2 frame): the right keys with random, often wrong, values. */
export const frameLike = fc
  .record(
    { event: fc.oneof(eventName, anyField), id: fc.oneof(anyText, anyField), seq: anyField, payload: anyField, content: anyField, emote: anyField },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));

/** JSON nested around the bound: just under, at, and just over MAX_JSON_DEPTH, and far over it. */
export const deepJson = fc
  .constantFrom(MAX_JSON_DEPTH - 2, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 5000)
  .map((d) => `{"event":"send/broadcast","payload":${nested(d)}}`);

/** Anything a client could send as one text frame. */
export const frameText = fc.oneof(
  { weight: 4, arbitrary: frameLike },
  { weight: 2, arbitrary: fc.json() },
  { weight: 2, arbitrary: anyText },
  { weight: 1, arbitrary: deepJson },
  { weight: 1, arbitrary: frameLike.chain((t) => fc.nat(t.length).map((n) => t.slice(0, n))) },
);
