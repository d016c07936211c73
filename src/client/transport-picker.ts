import type { WebSocketConstructor, WebSocketLike } from './environment.js';
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

/**
 * Picks WebSocket or SSE for each connection attempt. WebSocket first; after `after` attempts in
 * a row that never reached `system/init` (an upgrade a proxy refuses looks like a socket that never
 * opens), the other transport; a success resets the count. With no SSE available it is always WebSocket.
 */
export class TransportPicker {
  private current: TransportName = 'ws';
  private failures = 0;
  private readonly sse: { url: string; EventSource: EventSourceConstructor; fetch: FetchLike; after: number } | undefined;

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

  /** Open a socket on the current transport (a WebSocket constructor may throw: the caller handles it). */
  create(): WebSocketLike {
    if (this.current === 'sse' && this.sse) return new SseSocket(this.sse);
    return new this.WS(this.url);
  }

  /** The attempt reached `system/init`. */
  succeeded(): void {
    this.failures = 0;
  }

  /** The attempt ended before `system/init`. Returns true when the next attempt switches transport. */
  failed(): boolean {
    if (!this.sse || ++this.failures < this.sse.after) return false;
    this.failures = 0;
    this.current = this.current === 'ws' ? 'sse' : 'ws';
    return true;
  }
}
