import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** The addresses of `--trust-proxy` as a BlockList (entries checked by checkProxyEntry); null when none are trusted. */
export function trustedProxies(entries: readonly string[]): BlockList | null {
  const list = new BlockList();
  let any = false;
  for (const entry of entries) {
    if (entry === 'none') continue;
    any = true;
    if (entry === 'loopback') {
      list.addSubnet('127.0.0.0', 8, 'ipv4');
      list.addAddress('::1', 'ipv6');
      continue;
    }
    const [addr, bits] = entry.split('/') as [string, string | undefined];
    const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return any ? list : null;
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, so one client is one key whichever way the socket reports it. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function isTrusted(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The client's address: the socket's peer, or — only when that peer is a trusted proxy — the nearest
 * address of X-Forwarded-For that is not itself a trusted proxy, read from the right (each proxy appends
 * the address it saw; entries to the left of the first untrusted one are the client's to invent).
 * A malformed entry stops the walk at the last address known to be true.
 */
export function clientAddress(req: IncomingMessage, trusted: BlockList | null): string {
  let address = plain(req.socket.remoteAddress ?? 'unknown');
  if (trusted === null || !isTrusted(trusted, address)) return address;
  const raw = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = plain(hops[i]!.trim());
    if (isIP(hop) === 0) break;
    address = hop;
    if (!isTrusted(trusted, hop)) break;
  }
  return address;
}
