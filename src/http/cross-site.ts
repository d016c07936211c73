import type { IncomingMessage } from 'node:http';
import { ApiError } from './http-body.js';

/**
 * Refuse a browser request made by another site's page (403). Browsers mark every request with
 * `Sec-Fetch-Site` (unforgeable by page scripts) and cross-origin ones with `Origin`; servers and
 * scripts send neither, so they pass. `same-site` is refused too: a page on `localhost:3000` is
 * "same site" as a gateway on `localhost:8080`. An Origin on `--allowed-origins` (or `*`) may call.
 */
export function refuseCrossSite(req: IncomingMessage, allowedOrigins: readonly string[]): void {
  const origin = header(req, 'origin');
  const listed = origin !== undefined && (allowedOrigins.includes('*') || allowedOrigins.includes(origin));
  const site = header(req, 'sec-fetch-site')?.toLowerCase();
  if (site !== undefined) {
    if (site === 'same-origin' || site === 'none' || listed) return;
    throw new ApiError(403, `cross-site browser requests are refused (Sec-Fetch-Site: ${site.slice(0, 32)})`);
  }
  if (origin === undefined || listed || sameHost(origin, header(req, 'host'))) return;
  throw new ApiError(403, 'cross-site browser requests are refused (Origin is not this gateway nor on --allowed-origins)');
}

/**
 * A POST body must say `Content-Type: application/json` (415 otherwise): a page can send `text/plain`,
 * form or multipart bodies to any site without a CORS preflight, but never `application/json`.
 */
export function requireJsonBody(req: IncomingMessage): void {
  const type = header(req, 'content-type')?.split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new ApiError(415, 'the body must be sent as Content-Type: application/json', 'content-type');
}

/** One header as a string; a repeated one (an array) counts as absent-or-odd and is joined. */
function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Does the Origin name exactly the host (and port) the request was sent to? */
function sameHost(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host.toLowerCase() === new URL(`http://${host}`).host.toLowerCase();
  } catch {
    return false;
  }
}
