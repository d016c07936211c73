import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isObject } from '../protocol/codec.js';
import { parseJsonBounded } from '../protocol/json.js';

/** An HTTP API refusal: status, message and (for 400s) the offending field. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  /** The JSON body docs/protocol.md §1.4 asks for: `{error, field?}`. */
  toJSON(): { error: string; field?: string } {
    return this.field === undefined ? { error: this.message } : { error: this.message, field: this.field };
  }
}

/**
 * Read a request body as one JSON object, at most `limit` bytes (413 beyond). Anything else →
 * 400 naming `body`. A lying or absent Content-Length is handled by counting while reading.
 */
export async function readJsonObject(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume(); // drain it so the keep-alive socket stays usable for the 413 answer
    throw new ApiError(413, `body larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        req.resume();
        throw new ApiError(413, `body larger than ${limit} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    // The client went away before its body was complete (`aborted`): its fault, not a server error.
    throw new ApiError(400, 'request body not received in full', 'body');
  }
  const parsed = parseJsonBounded(Buffer.concat(chunks).toString('utf8'));
  if (!parsed.ok) throw new ApiError(400, `body is ${parsed.message}`, 'body');
  const value = parsed.value;
  if (!isObject(value)) throw new ApiError(400, 'body must be a JSON object', 'body');
  return value;
}

/** Is this peer address on the loopback interface (127.0.0.0/8, ::1, IPv4-mapped 127.x)? */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

/**
 * Check `Authorization: Bearer <key>` in constant time. Both sides are hashed first so neither
 * the key's length nor its prefix leaks through timing.
 */
export function bearerMatches(header: string | undefined, key: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const given = createHash('sha256').update(m?.[1] ?? '').digest();
  const wanted = createHash('sha256').update(key).digest();
  return timingSafeEqual(given, wanted) && m !== null;
}
