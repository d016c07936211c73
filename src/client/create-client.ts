import { WsgateClient } from './client.js';
import { pageUrl } from './environment.js';
import { keepForReload, loadReloadState } from './reload-store.js';
import { SharedWsgateClient } from './shared-client.js';
import { WorkerHub } from './worker-hub.js';
import type { PortLike } from './tab-protocol.js';
import type { WsgateClientOptions } from './types.js';

/** What both modes offer: `WsgateClient` (this tab's socket) and `SharedWsgateClient` (one socket for every tab). */
export type WsgateClientLike = WsgateClient | SharedWsgateClient;

/** Options of {@link createClient}. */
export interface CreateClientOptions extends WsgateClientOptions {
  /**
   * Share one WebSocket between every tab of the origin through a SharedWorker. Default true where
   * `SharedWorker` exists (else each tab has its own). An object sets the worker script's URL
   * (default: `wsgate-shared-worker.js` next to this bundle) or the worker's name (tabs that share a
   * name share the connection and the first tab's options; default: derived from `url`, `room` and `token`).
   */
  shared?: boolean | { workerUrl?: string | URL; name?: string };
  /** Keep the session across page reloads of this tab (`sessionStorage`; opt-in). Default false. */
  reload?: boolean;
}

interface SharedWorkerLike {
  readonly port: PortLike & { start(): void };
  onerror: ((ev: unknown) => void) | null;
}
type SharedWorkerConstructor = new (url: string | URL, options?: { name?: string; type?: 'classic' | 'module' }) => SharedWorkerLike;

/** The worker script next to this module (the browser bundle, or dist/src/client in a bundler). */
function defaultWorkerUrl(): URL | undefined {
  try {
    return new URL('./wsgate-shared-worker.js', import.meta.url);
  } catch {
    return undefined;
  }
}

/** FNV-1a, 32 bits, hex: tells tokens apart in a worker's name without putting the token there. */
function fingerprint(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/**
 * Tabs share a worker (and so a session) only when they would say the same hello: the same
 * endpoint, room and token — a tab signed in as someone else must not ride on another's session.
 */
function workerName(opts: CreateClientOptions): string {
  return `wsgate ${opts.url ?? pageUrl() ?? ''} ${opts.room ?? ''} ${opts.token === undefined ? '-' : fingerprint(opts.token)}`;
}

function openSharedWorker(opts: CreateClientOptions): SharedWorkerLike | undefined {
  if (opts.shared === false || opts.WebSocket || opts.clock) return undefined; // a custom transport or clock means this tab's own client
  const SW = (globalThis as { SharedWorker?: SharedWorkerConstructor }).SharedWorker;
  if (typeof SW !== 'function') return undefined;
  const cfg = typeof opts.shared === 'object' ? opts.shared : {};
  const url = cfg.workerUrl ?? defaultWorkerUrl();
  if (!url) return undefined;
  try {
    const worker = new SW(url, { name: cfg.name ?? workerName(opts) });
    worker.port.start();
    return worker;
  } catch {
    return undefined; // blocked (e.g. a sandboxed or opaque-origin page): fall back to this tab's own socket
  }
}

/**
 * The client for a page: shared by every tab through a SharedWorker where the browser has one,
 * this tab's own `WsgateClient` where it does not (or with `shared: false`). With `reload: true`
 * the session and channel positions survive a reload of the tab. See docs/client.md.
 */
export function createClient(options: CreateClientOptions = {}): WsgateClientLike {
  const { shared: _shared, reload, ...rest } = options;
  const key = `wsgate:${options.url ?? pageUrl() ?? ''}:${options.room ?? ''}`;
  const saved = reload ? loadReloadState(key) : undefined;
  const opts: WsgateClientOptions = saved ? { ...rest, resume: rest.resume ?? saved.resume, positions: { ...saved.positions, ...rest.positions } } : rest;
  const worker = openSharedWorker(options);
  let client: WsgateClientLike;
  if (worker) {
    const shared = new SharedWsgateClient(opts, { port: worker.port });
    // A worker script that is missing (404) or throws: this tab runs the hub itself (its own connection).
    worker.onerror = () => {
      const { port1, port2 } = new MessageChannel();
      new WorkerHub({ locks: null }).attach(port2 as unknown as PortLike);
      shared.rehome(port1 as unknown as PortLike, 'the shared worker failed to start (is wsgate-shared-worker.js served next to the bundle?): this tab uses its own connection');
    };
    client = shared;
  } else client = new WsgateClient(opts);
  if (reload) keepForReload(client, key);
  return client;
}
