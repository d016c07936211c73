/**
 * What hostile clients send: random bytes, truncated, huge and deeply nested JSON, wrong types,
 * unknown events and Object.prototype names, huge ids, lone surrogates. Plain Math.random: the
 * fuzz run is about volume and variety, its findings are reproduced by the unit properties.
 */

/** Names every object inherits: a lookup table indexed by a client's string must not find them. */
export const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', '__defineGetter__', '__lookupSetter__', 'prototype'];

const EVENTS = ['client/hello', 'client/ack', 'client/heartbeat', 'channel/subscribe', 'channel/unsubscribe', 'channel/publish', 'send/unicast', 'send/broadcast', 'system/init', 'system/ack', 'session/joined'];

export const rnd = (n: number): number => Math.floor(Math.random() * n);
export const pick = <T>(a: readonly T[]): T => a[rnd(a.length)]!;
const chance = (p: number): boolean => Math.random() < p;

/** A random string: ASCII, any BMP code unit (lone surrogates included), or astral characters. */
export function randomString(max = 24): string {
  const n = rnd(max + 1);
  let s = '';
  const kind = rnd(4);
  for (let i = 0; i < n; i++) {
    if (kind === 0) s += String.fromCharCode(32 + rnd(95));
    else if (kind === 1) s += String.fromCharCode(rnd(0x10000));
    else if (kind === 2) s += pick(['\ud800', '\udfff', '\u0000', '"', '\\', '\u2028', 'é', '😀']);
    else s += String.fromCodePoint(rnd(0x110000));
  }
  return s;
}

/** `depth` levels of arrays and objects around a scalar, as JSON text. */
export function nestedJson(depth: number): string {
  let out = '0';
  for (let i = 0; i < depth; i++) out = i % 2 ? `{"k":${out}}` : `[${out}]`;
  return out;
}

/** A random JSON value (as a JS value) of bounded depth, wrong types welcome. */
export function randomValue(depth = 3): unknown {
  switch (rnd(depth > 0 ? 9 : 6)) {
    case 0: return null;
    case 1: return chance(0.5);
    case 2: return pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER + 2, -0]);
    case 3: return randomString();
    case 4: return pick(PROTO_NAMES);
    case 5: return 'x'.repeat(rnd(3) * 1000);
    case 6: return Array.from({ length: rnd(4) }, () => randomValue(depth - 1));
    case 7: return Object.fromEntries(Array.from({ length: rnd(4) }, () => [pick([...PROTO_NAMES, randomString(8)]), randomValue(depth - 1)]));
    default: return { event: randomString(8), payload: randomValue(depth - 1) };
  }
}

/** An event name: the protocol's, Object.prototype's, or random text. */
export function randomEvent(): string {
  return pick([() => pick(EVENTS), () => pick(PROTO_NAMES), () => randomString(16), () => `app/${randomString(6)}`])();
}

/** Hostile room and channel names: a small pool (Object.prototype names included) so nothing grows without bound. */
export const HOSTILE_NAMES = [...PROTO_NAMES.filter((n) => /^[A-Za-z0-9_]+$/.test(n)), 'main', 'hostile', 'h:1', 'h/2', 'a.b', '-'];

/** The text of one v3 frame that is well-formed JSON but wrong in some way (or plainly fine). */
export function v3Frame(sessionIds: readonly string[]): string {
  const target = sessionIds.length && chance(0.5) ? pick(sessionIds) : randomString(30);
  const id = pick([undefined, randomString(10), 'x'.repeat(65), 'x'.repeat(rnd(5000)), rnd(1e6), pick(PROTO_NAMES)]);
  const frames: (() => unknown)[] = [
    () => ({ event: 'send/broadcast', id, payload: { subject: randomString(8), body: randomValue() } }),
    () => ({ event: 'send/unicast', id, payload: { receiver: target, subject: randomString(4), body: randomValue() } }),
    () => ({ event: 'channel/subscribe', id, payload: { channel: pick([pick(HOSTILE_NAMES), randomString(20)]), since: randomValue(1) } }),
    () => ({ event: 'channel/unsubscribe', payload: { channel: pick(HOSTILE_NAMES) } }),
    () => ({ event: 'channel/publish', id, payload: { channel: pick(HOSTILE_NAMES), data: randomValue() } }),
    () => ({ event: 'client/ack', payload: { seq: randomValue(0) } }),
    () => ({ event: 'client/heartbeat', payload: randomValue(1) }),
    () => ({ event: randomEvent(), id, payload: randomValue(), seq: randomValue(0) }),
    () => randomValue(2),
  ];
  return JSON.stringify(pick(frames)()) ?? 'null';
}

/** Text that is not a well-formed frame: truncated, deep, huge, or not JSON at all. */
export function badText(maxPayload: number, sessionIds: readonly string[]): string {
  const good = v3Frame(sessionIds);
  return pick([
    () => good.slice(0, rnd(good.length)),
    () => `{"event":"send/broadcast","payload":${nestedJson(pick([63, 64, 65, 500, 5000]))}}`,
    () => `{"event":"x","payload":"${'y'.repeat(Math.max(0, maxPayload - 40 - rnd(64)))}"}`,
    () => randomString(200),
    () => `{"event":"${pick(PROTO_NAMES)}"}`,
    () => `{"event":"send/broadcast","payload":{"subject":"s","body":"\\ud800\\udc00\\udfff"}}`,
    () => `{"event":1e999,"id":${'9'.repeat(400)}}`,
    () => '',
  ])();
}

/** A v2 frame's text: flat objects with wrong types, unknown events, deep or cut JSON. */
export function v2Frame(): string {
  return pick([
    () => JSON.stringify({ event: 'chat/message', content: randomValue(1) }),
    () => JSON.stringify({ event: 'chat/emote', emote: randomValue(1) }),
    () => JSON.stringify({ event: 'client/heartbeat' }),
    () => JSON.stringify({ event: randomEvent(), ...Object.fromEntries([[pick(PROTO_NAMES), randomValue(1)]]) }),
    () => `{"event":"chat/message","content":${nestedJson(pick([62, 63, 64, 3000]))}}`,
    () => JSON.stringify({ event: 'chat/message', content: randomString(40) }).slice(0, rnd(40)),
    () => randomString(100),
  ])();
}

/** Close codes a client may not send (RFC 6455 §7.4), and some it may. */
export const CLOSE_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 2999, 3000, 4999, 5000, 65535, 1000, 1001, 4000];

/** A close frame's payload: an odd code, a 1-byte body, or a reason that is not UTF-8. */
export function closePayload(): Buffer {
  const code = Buffer.alloc(2);
  code.writeUInt16BE(pick(CLOSE_CODES));
  return pick([() => code, () => Buffer.from([3]), () => Buffer.concat([code, Buffer.from([0xff, 0xfe])]), () => Buffer.concat([code, Buffer.alloc(200, 97)])])();
}

/** A handshake's extra headers: mostly fine, sometimes hostile. */
export function upgradeHeaders(): string[] {
  return pick([
    () => [],
    () => ['Origin: http://evil.example'],
    () => ['Sec-WebSocket-Protocol: bearer, ' + randomString(20).replace(/[\r\n]/g, '')],
    () => ['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=7; server_max_window_bits=99'],
    () => [`X-Forwarded-For: ${randomString(40).replace(/[\r\n]/g, '')}`],
    () => [`Cookie: ${'a=b; '.repeat(rnd(2000))}`],
    () => ['Sec-WebSocket-Version: 8'],
  ])();
}
