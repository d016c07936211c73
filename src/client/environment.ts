/**
 * The few browser facilities the client uses, behind small interfaces so Node and unit tests can
 * supply their own (or none). Nothing here touches Node-only modules.
 */

/** The constructor of a WHATWG-style WebSocket: the browser's global, or `ws`'s class in Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

// Method-style signatures are checked bivariantly, which lets both the DOM's and `ws`'s richer event
// types satisfy these without casts at the call site.
type Handler<E> = { bivarianceHack(ev: E): void }['bivarianceHack'];

/** The part of the WebSocket API the client uses (the browser's and `ws`'s both have it). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** `WebSocket.OPEN`. */
export const WS_OPEN = 1;

/** Is the page hidden, and tell me when that changes. */
export interface VisibilitySource {
  isHidden(): boolean;
  /** Subscribe; returns the unsubscribe function. */
  onChange(fn: () => void): () => void;
}

/** Tell me when the network comes back (browser `online`), and when it is lost. */
export interface NetworkSource {
  onOnline(fn: () => void): () => void;
}

interface DocumentLike {
  hidden: boolean;
  addEventListener(type: string, fn: () => void): void;
  removeEventListener(type: string, fn: () => void): void;
}

/** The browser's `document` visibility, or undefined outside a browser. */
export function browserVisibility(): VisibilitySource | undefined {
  const doc = (globalThis as { document?: DocumentLike }).document;
  if (!doc || typeof doc.addEventListener !== 'function' || typeof doc.hidden !== 'boolean') return undefined;
  return {
    isHidden: () => doc.hidden,
    onChange(fn) {
      doc.addEventListener('visibilitychange', fn);
      return () => doc.removeEventListener('visibilitychange', fn);
    },
  };
}

/** The browser's `online` event, or undefined outside a browser (Node has no `window`). */
export function browserNetwork(): NetworkSource | undefined {
  const win = (globalThis as unknown as { window?: DocumentLike }).window;
  if (!win || typeof win.addEventListener !== 'function') return undefined;
  return {
    onOnline(fn) {
      win.addEventListener('online', fn);
      return () => win.removeEventListener('online', fn);
    },
  };
}

/** The gateway's v3 endpoint on the page's own origin (`wss:` on https pages), or undefined outside a browser. */
export function pageUrl(path = '/api/ws'): string | undefined {
  const loc = (globalThis as { location?: { protocol: string; host: string } }).location;
  if (!loc || typeof loc.host !== 'string' || !loc.host) return undefined;
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${path}`;
}

/** A short random string for request-id prefixes (crypto when available: browsers and Node ≥ 19). */
export function randomId(): string {
  const c = (globalThis as { crypto?: { getRandomValues?<T extends Uint8Array>(a: T): T } }).crypto;
  const bytes = new Uint8Array(6);
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  return Array.from(bytes, (b) => b.toString(36).padStart(2, '0')).join('');
}

/**
 * Follow page visibility and the network's `online` event — the sources given in the options (`null`: none), else
 * the browser's. `onVisibility` gets `hidden`; returns the functions that stop listening.
 */
export function watchPage(
  sources: { visibility?: VisibilitySource | null; network?: NetworkSource | null },
  onVisibility: (hidden: boolean) => void,
  onOnline: () => void,
): (() => void)[] {
  const offs: (() => void)[] = [];
  const vis = sources.visibility === undefined ? browserVisibility() : sources.visibility;
  if (vis) offs.push(vis.onChange(() => onVisibility(vis.isHidden())));
  const net = sources.network === undefined ? browserNetwork() : sources.network;
  if (net) offs.push(net.onOnline(onOnline));
  return offs;
}

/** The `client/hello` payload for the options and, when resuming, the session and the last `seq` received. */
export function helloPayload(
  opts: { token?: string; room?: string; profile?: unknown; resumable?: boolean },
  session: { id: string; token: string } | undefined,
  lastSeq: number,
): Record<string, unknown> {
  const hello: Record<string, unknown> = {};
  if (opts.token !== undefined) hello.token = opts.token;
  if (opts.room !== undefined) hello.room = opts.room;
  if (opts.profile !== undefined) hello.profile = opts.profile;
  if (opts.resumable === false) hello.resumable = false;
  if (session) hello.resume = { session_id: session.id, resume_token: session.token, last_seq: lastSeq };
  return hello;
}
