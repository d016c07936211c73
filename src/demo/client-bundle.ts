import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Gateway } from '../gateway.js';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json',
  svg: 'image/svg+xml',
};

/** The path at which {@link mountClientBundle} serves the browser SDK (docs/client.md). */
export const CLIENT_BUNDLE_PATH = '/wsgate-client.js';

/** The package root (where package.json is), from this module's directory: works from src/ (tests), dist/src/ (built) and node_modules/wsgate. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('wsgate: package root not found');
}

/** The directory of the browser bundle: `dist/client` of the package. */
export function bundleDir(): string {
  return join(packageRoot(), 'dist', 'client');
}

/** Answer with one static file (200), or 503 naming how to build it when it is missing. */
export function serveFile(res: ServerResponse, path: string, name: string): void {
  if (!existsSync(path)) {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`${name} is missing: build it with \`node scripts/build-client.mjs\`\n`);
    return;
  }
  const body = readFileSync(path);
  const type = TYPES[name.split('.').pop() ?? ''] ?? 'application/octet-stream';
  res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-cache' });
  res.end(body);
}

/**
 * Serve the browser build of the client SDK at `/wsgate-client.js` (and its source map) on `gateway`,
 * so a page served by the same origin can `import { createClient } from '/wsgate-client.js'`, and
 * the SharedWorker script its shared mode starts from next to it (`/wsgate-shared-worker.js`).
 * The `wsgate` command always does this; an embedding application may, or host the files itself.
 */
export function mountClientBundle(gateway: Pick<Gateway, 'route'>): void {
  for (const name of ['wsgate-client.js', 'wsgate-client.js.map', 'wsgate-shared-worker.js', 'wsgate-shared-worker.js.map']) {
    gateway.route('GET', `/${name}`, (_req, res) => serveFile(res, join(bundleDir(), name), name));
  }
}
