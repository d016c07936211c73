import { pageUrl, WS_OPEN, type WebSocketConstructor, type WebSocketLike } from './environment.js';
import { SseSocket, sseUrlFor, type EventSourceConstructor, type FetchLike } from './sse-socket.js';

/** The transport of a connection attempt. */
export type TransportName = 'ws' | 'sse';

/** The `sse` option: the fallback to Server-Sent Events + POSTs where WebSocket cannot connect. */
export interface SseFallbackOptions {
  /** `http(s)://host/api/sse`. Default: from `url` (`/api/ws` → `/api/sse`). */
  url?: string;
  /** Switch transport after this many attempts in a row that got no `system/init`. Default 3. */
  after?: number;
  /** Default: the global `EventSource` (browsers, workers); in Node pass a polyfill. */
  EventSource?: EventSourceConstructor;
  /** Default: the global `fetch`. */
  fetch?: FetchLike;
}

/** Where a socket's events go. */
export interface SocketHandlers {
  open(): void;
  message(data: unknown): void;
  close(code: number, reason: string): void;
}

/**
 * Holds the client's one socket, and picks WebSocket or SSE for each connection attempt. WebSocket first; after `after` attempts in
 * a row that never reached `system/init` (an upgrade a proxy refuses looks like a socket that never
 * opens), the other transport; a success resets the count. With no SSE available it is always WebSocket.
 */
export class TransportPicker {
  private current: TransportName = 'ws';
  private socket: WebSocketLike | undefined;
  /** The current socket got its `system/init` (else its end counts as a failed attempt of its transport). */
  private initOnSocket = false;
  private failures = 0;
  private readonly sse: { url: string; EventSource: EventSourceConstructor; fetch: FetchLike; after: number } | undefined;

  /** From the client's options: `url` (the page's own by default) and `WebSocket` (the global by default) are required. */
  static from(opts: { url?: string; WebSocket?: WebSocketConstructor; sse?: SseFallbackOptions | false }): TransportPicker {
    const url = opts.url ?? pageUrl();
    if (!url) throw new TypeError('wsgate client: `url` is required outside a browser page');
    const WS = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw new TypeError('wsgate client: no global WebSocket (Node < 22): pass `WebSocket` (e.g. the `ws` package class)');
    return new TransportPicker(url, WS, opts.sse === undefined ? {} : opts.sse);
  }

  constructor(
    private readonly url: string,
    private readonly WS: WebSocketConstructor,
    options: SseFallbackOptions | false | undefined,
  ) {
    const g = globalThis as { EventSource?: EventSourceConstructor; fetch?: FetchLike };
    const ES = options ? (options.EventSource ?? g.EventSource) : undefined;
    const fetch = options ? (options.fetch ?? g.fetch?.bind(globalThis)) : undefined;
    if (options && ES && fetch) this.sse = { url: options.url ?? sseUrlFor(url), EventSource: ES, fetch, after: Math.max(1, options.after ?? 3) };
  }

  /** The transport the next (or current) attempt uses. */
  get name(): TransportName {
    return this.current;
  }

  /** The address of the next attempt, for the `connecting` event. */
  get target(): string {
    return this.current === 'sse' && this.sse ? this.sse.url : this.url;
  }

  /** Open a socket on the current transport, wired to `on` (a WebSocket constructor may throw: the caller handles it). */
  open(on: SocketHandlers): WebSocketLike {
    this.initOnSocket = false;
    const sock = this.current === 'sse' && this.sse ? new SseSocket(this.sse) : new this.WS(this.url);
    this.socket = sock;
    sock.onopen = () => on.open();
    sock.onmessage = (ev) => on.message(ev.data);
    sock.onclose = (ev) => {
      if (this.socket === sock) on.close(ev.code, ev.reason);
    };
    sock.onerror = () => undefined; // a close event always follows
    return sock;
  }

  /** Write one frame if the socket is open. */
  write(text: string): boolean {
    const sock = this.socket;
    if (!sock || sock.readyState !== WS_OPEN) return false;
    sock.send(text);
    return true;
  }

  /** Stop listening to the current socket; returns it (to close it, or not). */
  detach(): WebSocketLike | undefined {
    const sock = this.socket;
    this.socket = undefined;
    if (sock) {
      sock.onopen = null;
      sock.onmessage = null;
      sock.onclose = null;
      // Keep a no-op error handler: `ws` throws on an 'error' event nobody listens to.
      sock.onerror = () => undefined;
    }
    return sock;
  }

  /** The attempt reached `system/init`. */
  succeeded(): void {
    this.failures = 0;
    this.initOnSocket = true;
  }

  /** The socket ended (counted as a failed attempt when it had no `system/init`). True when the next attempt switches transport. */
  ended(): boolean {
    if (this.initOnSocket || !this.sse || ++this.failures < this.sse.after) return false;
    this.failures = 0;
    this.current = this.current === 'ws' ? 'sse' : 'ws';
    return true;
  }
}
