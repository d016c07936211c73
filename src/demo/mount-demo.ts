import { join } from 'node:path';
import type { Gateway } from '../gateway.js';
import { bundleDir, packageRoot, serveFile } from './client-bundle.js';
import { startDemoPublisher } from './demo-publisher.js';

/** Options of {@link mountDemo}. */
export interface DemoOptions {
  /** Publish fake log tails to `logs:*` every `publishPeriodMs`. Default true. */
  publisher?: boolean;
  /** Default 300 ms. */
  publishPeriodMs?: number;
}

const STATIC_FILES = new Set(['index.html', 'demo.js', 'demo.css']);
const BUNDLE_FILES = new Set(['wsgate-client.js', 'wsgate-client.js.map', 'wsgate-shared-worker.js', 'wsgate-shared-worker.js.map']);

/**
 * Serve the demo page at `/demo/` on `gateway`: several `logs:*` channels over one connection,
 * each pausable, with the connection state and heartbeat counters. Also `POST /demo/drop?session=ID`,
 * which cuts that session's TCP socket (no close frame) so the page can show a resume.
 * Starts the fake log publisher unless `publisher: false`; it stops when the gateway's server closes.
 */
export function mountDemo(gateway: Gateway, options: DemoOptions = {}): { stop(): void } {
  const root = packageRoot();
  const staticDir = join(root, 'src', 'demo', 'static');
  gateway.route(
    'GET',
    '/demo',
    (_req, res, url) => {
      if (url.pathname === '/demo') {
        res.writeHead(301, { location: '/demo/' });
        res.end();
        return;
      }
      const name = url.pathname === '/demo/' ? 'index.html' : url.pathname.slice('/demo/'.length);
      if (STATIC_FILES.has(name)) return serveFile(res, join(staticDir, name), name);
      if (BUNDLE_FILES.has(name)) return serveFile(res, join(bundleDir(), name), name);
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    },
    { prefix: true },
  );
  gateway.route('POST', '/demo/drop', (_req, res, url) => {
    const id = url.searchParams.get('session');
    const dropped = id !== null && gateway.dropConnection(id);
    res.writeHead(dropped ? 204 : 404);
    res.end();
  });
  const publisher = options.publisher === false ? undefined : startDemoPublisher((ch, data) => gateway.publish(ch, data), options.publishPeriodMs);
  const stop = (): void => publisher?.stop();
  gateway.server.once('close', stop);
  return { stop };
}
