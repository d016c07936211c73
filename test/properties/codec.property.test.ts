/**
 * Properties of the v3 codec, the v2 codec and the v2⇄v3 translation: decoding is total,
 * whatever decodes re-encodes, and encoding then decoding gives the same frame back.
 */
import fc from 'fast-check';
import { decodeV2, encodeV2, type V2Frame } from '../../legacy-adapter/v2-codec.js';
import { v2ToV3, v3ToV2 } from '../../legacy-adapter/translate.js';
import { decodeFrame, encodeFrame, encodeFrameRaw, encodePayload, encodeStreamFrame } from '../../src/protocol/codec.js';
import type { Frame } from '../../src/protocol/events.js';
import { MAX_JSON_DEPTH } from '../../src/protocol/json.js';
import { frameText, nested } from '../support/arbitraries.js';

const RUNS = { numRuns: 2000 };

/** A decoded frame must survive encode → decode unchanged (compared as wire text: -0 and 0 encode alike). */
function roundTrips(frame: Frame): void {
  const text = encodeFrame(frame);
  const again = decodeFrame(text);
  expect(again.ok).toBe(true);
  if (again.ok) expect(encodeFrame(again.frame)).toBe(text);
}

describe('v3 codec', () => {
  test('a stream frame encoded in one pass is the text of the payload encoded, then framed', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(), fc.option(fc.string({ minLength: 1, maxLength: 64 }), { nil: undefined }), fc.option(fc.jsonValue(), { nil: undefined }), (event, seq, id, payload) => {
        expect(encodeStreamFrame(event, seq, id, payload)).toBe(encodeFrameRaw(event, seq, id, encodePayload(payload)));
      }),
      RUNS,
    );
    expect(() => encodeStreamFrame('e', 1, undefined, { n: 1n })).toThrow('payload cannot be encoded as JSON');
  });

  test('decode is total: a frame or a message, never a throw', () => {
    fc.assert(
      fc.property(frameText, (text) => {
        const r = decodeFrame(text);
        if (!r.ok) expect(typeof r.message).toBe('string');
      }),
      RUNS,
    );
  });

  test('whatever decodes re-encodes, and decodes again to the same frame', () => {
    fc.assert(
      fc.property(frameText, (text) => {
        const r = decodeFrame(text);
        if (r.ok) roundTrips(r.frame);
      }),
      RUNS,
    );
  });

  test('encode ∘ decode is the identity on frames', () => {
    const frame = fc.record(
      { event: fc.string({ minLength: 1 }), seq: fc.maxSafeNat(), id: fc.string({ minLength: 1, maxLength: 64 }), payload: fc.jsonValue({ maxDepth: 8 }) },
      { requiredKeys: ['event'] },
    );
    fc.assert(
      fc.property(frame, (f) => {
        const r = decodeFrame(encodeFrame(f));
        expect(r.ok).toBe(true);
        if (r.ok) expect(encodeFrame(r.frame)).toBe(encodeFrame(f));
      }),
      RUNS,
    );
  });

  test('the depth bound: a frame at the bound decodes and re-encodes; one level more is refused', () => {
    // The frame object itself is level 1.
    const at = decodeFrame(`{"event":"x","payload":${nested(MAX_JSON_DEPTH - 1)}}`);
    expect(at.ok).toBe(true);
    if (at.ok) roundTrips(at.frame);
    expect(decodeFrame(`{"event":"x","payload":${nested(MAX_JSON_DEPTH)}}`)).toMatchObject({ ok: false });
  });
});

describe('v2 codec and translation', () => {
  test('v2 decode is total, and a decoded v2 frame re-encodes and decodes again', () => {
    fc.assert(
      fc.property(frameText, (text) => {
        const r = decodeV2(text);
        if (!r.ok) return void expect(r.error.event).toBe('system/error');
        const again = decodeV2(encodeV2(r.frame));
        expect(again.ok).toBe(true);
        if (again.ok) expect(encodeV2(again.frame)).toBe(encodeV2(r.frame));
      }),
      RUNS,
    );
  });

  test('v2 → v3 never throws, and its frame is one the gateway accepts', () => {
    fc.assert(
      fc.property(frameText, (text) => {
        const r = decodeV2(text);
        if (!r.ok) return;
        const t = v2ToV3(r.frame);
        if (!t.ok) return void expect(encodeV2(t.error)).toContain('"system/error"');
        const upstream = decodeFrame(encodeFrame(t.frame));
        expect(upstream).toMatchObject({ ok: true, frame: { event: t.frame.event } });
      }),
      RUNS,
    );
  });

  test('a v2 frame at the depth bound still translates to a v3 frame within it', () => {
    // v2 fields move one level down, into the v3 payload: the v2 bound is one level less.
    const deepest = decodeV2(`{"event":"x","a":${nested(MAX_JSON_DEPTH - 1)}}`);
    expect(decodeV2(`{"event":"x","a":${nested(MAX_JSON_DEPTH - 2)}}`).ok).toBe(true);
    expect(deepest.ok).toBe(false);
  });

  test('v3 → v2 never throws, and every v2 frame it makes re-encodes and decodes', () => {
    fc.assert(
      fc.property(frameText, (text) => {
        const r = decodeFrame(text);
        if (!r.ok) return;
        for (const out of v3ToV2(r.frame)) {
          const again = decodeV2(encodeV2(out as V2Frame));
          expect(again.ok).toBe(true);
        }
      }),
      RUNS,
    );
  });
});
