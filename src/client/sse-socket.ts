import { SSE_KEY_HEADER } from '../protocol/sse.js';
import type { WebSocketLike } from './environment.js';

/** The part of `EventSource` the SSE transport uses (browsers and workers; an npm polyfill in Node). */
export interface EventSourceLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  addEventListener(type: string, fn: (ev: { data: string }) => void): void;
  close(): void;
}
/** `new EventSource(url)`. */
export type EventSourceConstructor = new (url: string) => EventSourceLike;

/** The part of `fetch` the SSE transport uses. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; keepalive?: boolean; credentials?: 'same-origin' },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/** Where and how the SSE transport talks to the gateway. */
export interface SseEndpoint {
  /** `http(s)://host/api/sse`: POST opens, `/stream` is the event stream, `/send` and `/close` take frames. */
  url: string;
  EventSource: EventSourceConstructor;
  fetch: FetchLike;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;


/**
 * A WebSocket look-alike over Server-Sent Events and HTTP POSTs, for networks whose proxies do not
 * pass upgrades (docs/protocol.md §11). `POST url` returns a single-use stream ticket
 * and the connection key; the stream (`EventSource`, `url/stream?ticket=…`) carries the server's
 * frames, one per event; `send()` POSTs frames to `url/send` in order, newline-separated when several
 * wait, with the key in a header. The client above it runs the same hello, resume and acks as over a
 * WebSocket — a broken stream is a socket close, and the client resumes from the last seq it got.
 */
export class SseSocket implements WebSocketLike {
  readyState = CONNECTING;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  private source: EventSourceLike | undefined;
  private key: string | undefined;
  private readonly queue: string[] = [];
  private posting = false;

  constructor(private readonly endpoint: SseEndpoint) {
    this.start().catch((err: unknown) => this.finish(1006, `sse open failed: ${err instanceof Error ? err.message : String(err)}`));
  }

  /** Queue a frame; POSTs go one at a time, so the server reads them in order. */
  send(data: string): void {
    if (this.readyState !== OPEN) throw new Error('send on an SSE transport that is not open');
    this.queue.push(data);
    void this.pump();
  }

  /** Tell the gateway (1000 ends the session, like a WebSocket close) and stop reading. */
  close(code = 1000, reason = ''): void {
    if (this.readyState === CLOSED) return;
    const key = this.key;
    if (key) {
      // keepalive: the request outlives a page that is being unloaded.
      this.post('/close', key, JSON.stringify({ code, reason }), true).catch(() => undefined);
    }
    this.finish(code, reason);
  }

  private async start(): Promise<void> {
    const res = await this.endpoint.fetch(this.endpoint.url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '', credentials: 'same-origin' });
    if (this.readyState === CLOSED) return;
    if (!res.ok) return this.finish(1006, `sse open refused: HTTP ${res.status}`);
    const body = (await res.json()) as { ticket?: unknown; key?: unknown };
    if (typeof body.ticket !== 'string' || typeof body.key !== 'string') return this.finish(1006, 'sse open: bad answer');
    if (this.readyState === CLOSED) return;
    this.key = body.key;
    const es = new this.endpoint.EventSource(`${this.endpoint.url}/stream?ticket=${encodeURIComponent(body.ticket)}`);
    this.source = es;
    es.onopen = () => {
      if (this.readyState !== CONNECTING) return;
      this.readyState = OPEN;
      this.onopen?.({});
    };
    es.onmessage = (ev) => this.onmessage?.({ data: ev.data });
    es.addEventListener('close', (ev) => {
      const c = parseClose(ev.data);
      this.finish(c.code, c.reason);
    });
    // EventSource would reconnect by itself with the spent ticket: stop it here; the client above
    // reconnects through a new ticket and resumes the session from the last seq it received.
    es.onerror = () => this.finish(1006, '');
  }

  private async pump(): Promise<void> {
    if (this.posting || this.queue.length === 0 || !this.key) return;
    this.posting = true;
    // At most 15 frames a POST: the gateway takes a body of up to 16 × max_payload, and frames up to max_payload each.
    // A POST also waits while the gateway is not taking this client's frames (backpressure), and more queue meanwhile.
    const body = this.queue.splice(0, 15).join('\n');
    try {
      const res = await this.post('/send', this.key, body, false);
      if (!res.ok) this.finish(1006, `sse send refused: HTTP ${res.status}`);
    } catch {
      this.finish(1006, 'sse send failed');
    } finally {
      this.posting = false;
    }
    if (this.readyState === OPEN) void this.pump();
  }

  private post(path: string, key: string, body: string, keepalive: boolean): ReturnType<FetchLike> {
    return this.endpoint.fetch(`${this.endpoint.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', [SSE_KEY_HEADER]: key },
      body,
      keepalive,
      credentials: 'same-origin',
    });
  }

  /** The one way out: close the stream and report once, like a WebSocket's close event. */
  private finish(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.source?.close();
    this.queue.length = 0;
    const onclose = this.onclose;
    // A WebSocket reports its close asynchronously; so does this.
    queueMicrotask(() => onclose?.({ code, reason }));
  }
}

function parseClose(data: string): { code: number; reason: string } {
  try {
    const v = JSON.parse(data) as { code?: unknown; reason?: unknown };
    return { code: typeof v.code === 'number' ? v.code : 1006, reason: typeof v.reason === 'string' ? v.reason : '' };
  } catch {
    return { code: 1006, reason: '' };
  }
}

/** `ws(s)://host/api/ws` → `http(s)://host/api/sse`. */
export function sseUrlFor(wsUrl: string): string {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = u.pathname.replace(/\/ws$/, '/sse');
  u.search = '';
  return u.toString().replace(/\/$/, '');
}
