import type { IncomingMessage } from 'node:http';

/**
 * docs/protocol.md §1.2: no `Origin` (non-browser) passes; with an allow-list the Origin must be on it
 * (or the list holds `*`); without one, the Origin's hostname must equal the Host header's
 * hostname, ports ignored because proxies often rewrite them.
 */
export function originAllowed(request: IncomingMessage, allowed: readonly string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined || origin === '') return true;
  if (allowed.length > 0) return allowed.includes('*') || allowed.includes(origin);
  const host = request.headers.host;
  if (!host) return false;
  try {
    return new URL(origin).hostname.toLowerCase() === new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
}
