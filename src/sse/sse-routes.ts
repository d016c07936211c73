import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ResolvedOptions } from '../config.js';
import { originAllowed } from '../http/origin.js';
import { sendJson, type RouteHandler } from '../http/http-front.js';
import { SSE_KEY_HEADER, SSE_PATH } from '../protocol/sse.js';
import type { Clock } from '../time/clock.js';
import { SseWire } from './sse-wire.js';

/** How long a stream ticket may wait for its `GET`. */
const TICKET_TTL_MS = 10_000;
/** At most this many tickets wait at once (an open flood cannot grow memory without bound). */
const MAX_TICKETS = 10_000;
/**
 * At most this many tickets of one client address wait at once: a flood from one address gets 429 and
 * cannot fill MAX_TICKETS and keep everybody else's SSE fallback out (a page opens one stream at a time).
 */
const MAX_TICKETS_PER_ADDRESS = 32;

/** What the SSE routes need from the gateway. */
export interface SseParts {
  options: Pick<ResolvedOptions, 'allowedOrigins' | 'maxPayload' | 'pingIntervalMs'>;
  clock: Clock;
  logger: Logger;
  route(method: string, path: string, handler: RouteHandler): void;
  /** Hand a new stream to the v3 endpoint as a connection. */
  accept(wire: SseWire, req: IncomingMessage): void;
  /** false while draining: no new streams (503), as upgrades are refused. */
  accepting(): boolean;
  /** The client's address as the connection limits count it (X-Forwarded-For only from trusted proxies). */
  addressOf(req: IncomingMessage): string;
  /**
   * The connection limits an upgrade passes (total, per client address, pending hellos): a refusal, or
   * undefined when the stream is counted in (until `res` closes).
   */
  admit?(req: IncomingMessage, res: ServerResponse): { status: number; text: string } | undefined;
}

/**
 * The SSE transport's routes under `base` (default `/api/sse`), docs/protocol.md §11:
 * `POST base` → `{ticket, key}`; `GET base/stream?ticket=` → the event stream (the ticket is
 * single-use and short-lived, so nothing secret sits in a URL); `POST base/send` → frames,
 * newline-separated; `POST base/close` → `{code, reason}`. The POSTs name the stream by the key in
 * the `x-wsgate-key` header.
 */
export function mountSse(parts: SseParts, base = SSE_PATH): void {
  const routes = new SseRoutes(parts);
  parts.route('POST', base, (req, res) => routes.open(req, res));
  parts.route('GET', `${base}/stream`, (req, res, url) => routes.stream(req, res, url));
  parts.route('POST', `${base}/send`, (req, res) => routes.send(req, res));
  parts.route('POST', `${base}/close`, (req, res) => routes.close(req, res));
}

/** The state behind the routes: tickets waiting for their stream, and open streams by key. */
class SseRoutes {
  /** In the order they were given; every ticket lives TICKET_TTL_MS, so the oldest is first. */
  private readonly tickets = new Map<string, { key: string; expires: number; address: string }>();
  private readonly perAddress = new Map<string, number>();
  private readonly wires = new Map<string, SseWire>();

  constructor(private readonly parts: SseParts) {}

  /** `POST /api/sse`: a single-use stream ticket and the key for the POSTs. */
  open(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    if (!originAllowed(req, this.parts.options.allowedOrigins)) return sendJson(res, 403, { error: 'origin not allowed' });
    if (!this.parts.accepting()) return sendJson(res, 503, { error: 'draining' });
    const now = this.parts.clock.now();
    this.expire(now);
    const address = this.parts.addressOf(req);
    const mine = this.perAddress.get(address) ?? 0;
    if (mine >= MAX_TICKETS_PER_ADDRESS) return sendJson(res, 429, { error: 'too many pending streams from this address' });
    if (this.tickets.size >= MAX_TICKETS) return sendJson(res, 503, { error: 'too many pending streams' });
    const ticket = randomBytes(18).toString('base64url');
    const key = randomBytes(24).toString('base64url');
    this.tickets.set(ticket, { key, expires: now + TICKET_TTL_MS, address });
    this.perAddress.set(address, mine + 1);
    res.setHeader('cache-control', 'no-store');
    sendJson(res, 200, { ticket, key, expires_in: TICKET_TTL_MS / 1000 });
  }

  /** `GET /api/sse/stream?ticket=`: spends the ticket and hands the stream to the endpoint. */
  stream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const t = url.searchParams.get('ticket') ?? '';
    const entry = this.tickets.get(t);
    if (entry) this.spend(t, entry.address);
    // 404 (not 5xx): EventSource gives up instead of retrying a spent ticket; the SDK asks for a new one.
    if (!entry || entry.expires <= this.parts.clock.now()) return sendJson(res, 404, { error: 'unknown or expired ticket' });
    if (!this.parts.accepting()) return sendJson(res, 503, { error: 'draining' });
    const refusal = this.parts.admit?.(req, res);
    if (refusal) return sendJson(res, refusal.status, { error: refusal.text });
    openStream(this.parts, req, res, entry.key, this.wires);
  }

  /** `POST /api/sse/send`: the client's frames, newline-separated, in order. */
  async send(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const wire = this.wireOf(req);
    if (!wire) return refuse(req, res);
    // While the connection's queue is full the POST waits, its body not yet read (it stays in the client's TCP
    // buffers, as a paused WebSocket's frames do): the client's backpressure.
    await wire.whenReading();
    const max = this.parts.options.maxPayload;
    const body = await readText(req, max * 16);
    if (body === undefined) return sendJson(res, 413, { error: 'body too large' });
    const frames = body.split('\n').filter((f) => f.length > 0);
    if (frames.some((f) => Buffer.byteLength(f) > max)) {
      // As a WebSocket refuses an oversized frame: close 1009.
      wire.close(1009, 'message_too_big');
      return sendJson(res, 413, { error: `frame larger than ${max} bytes` });
    }
    wire.receive(frames);
    res.writeHead(204).end();
  }

  /** `POST /api/sse/close`: the client's close, `{code, reason}`. */
  async close(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const wire = this.wireOf(req);
    if (!wire) return refuse(req, res);
    const body = (await readText(req, 1024)) ?? '';
    wire.peerClose(peerCode(body));
    res.writeHead(204).end();
  }

  /** Drop expired tickets: they are in expiry order, so stop at the first one still valid. */
  private expire(now: number): void {
    for (const [t, v] of this.tickets) {
      if (v.expires > now) return;
      this.spend(t, v.address);
    }
  }

  private spend(ticket: string, address: string): void {
    this.tickets.delete(ticket);
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, left);
  }

  private wireOf(req: IncomingMessage): SseWire | undefined {
    const key = req.headers[SSE_KEY_HEADER];
    return typeof key === 'string' ? this.wires.get(key) : undefined;
  }
}

function openStream(parts: SseParts, req: IncomingMessage, res: ServerResponse, key: string, wires: Map<string, SseWire>): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store, no-transform',
    // nginx: pass each event at once even where proxy_buffering is on.
    'x-accel-buffering': 'no',
  });
  // retry: how long EventSource would wait to reconnect by itself (the SDK reconnects on its own terms).
  const retry = Math.max(1000, Math.min(parts.options.pingIntervalMs || 3000, 10_000));
  res.write(`retry: ${retry}\n: open\n\n`);
  req.socket.setNoDelay(true);
  const wire = new SseWire(res, key);
  wires.set(key, wire);
  wire.once('close', () => {
    wires.delete(key);
    parts.logger.debug({ remote: req.socket.remoteAddress }, 'sse stream ended');
  });
  parts.accept(wire, req);
}

function refuse(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  sendJson(res, 404, { error: 'no such SSE stream (ended, or a wrong key)' });
}

/** A close code as a WebSocket peer may send it (1000, 1001, 3000–4999); anything else reads as 1005 (none). */
function peerCode(body: string): number {
  try {
    const code = (JSON.parse(body) as { code?: unknown }).code;
    if (typeof code === 'number' && Number.isInteger(code) && (code === 1000 || code === 1001 || (code >= 3000 && code <= 4999))) return code;
  } catch {
    /* no body, or not JSON */
  }
  return 1005;
}

/** The body as UTF-8 text, or undefined beyond `limit` bytes. */
async function readText(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
