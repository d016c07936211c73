/**
 * Bounded JSON for everything that comes from outside (frames, v2 frames, API bodies).
 *
 * JSON.parse accepts any depth, but JSON.stringify (and every recursive walk after it) overflows
 * the stack somewhere past a few thousand levels. A document that parses but cannot be re-encoded
 * would be accepted and then fail later, far from the input (docs/protocol.md, "Limits"). So the
 * depth is checked here, before parsing: nothing accepted can fail to re-encode.
 */

/** Deepest nesting of objects and arrays accepted in any JSON from outside. */
export const MAX_JSON_DEPTH = 64;

/** The outcome of a bounded parse: the value, or a message for the client. */
export type JsonParseResult = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * Does `text` nest objects/arrays deeper than `max`? A linear scan that skips string contents
 * (escapes included); it never throws and never recurses.
 */
export function jsonDepthExceeds(text: string, max: number): boolean {
  // Going deeper than `max` takes more than `max` opening characters: a short text (acks, heartbeats) cannot.
  if (text.length <= max || openersAtMost(text, max)) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/**
 * Are there at most `max` opening brackets in `text`, strings included? Then it cannot nest deeper than `max`.
 * indexOf runs natively: an ordinary message (a few brackets) is let through without a loop over its characters.
 */
function openersAtMost(text: string, max: number): boolean {
  let n = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) if (++n > max) return false;
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) if (++n > max) return false;
  return true;
}

/** Parse JSON from outside: total (never throws), and at most `maxDepth` levels deep. */
export function parseJsonBounded(text: string, maxDepth: number = MAX_JSON_DEPTH): JsonParseResult {
  if (jsonDepthExceeds(text, maxDepth)) return { ok: false, message: `JSON nested deeper than ${maxDepth} levels` };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, message: 'not valid JSON' };
  }
}
