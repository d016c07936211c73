import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectionLimiter } from '../src/http/connection-limits.js';
import { trustedProxies } from '../src/http/trusted-proxies.js';
import { originAllowed, parseRequestTarget } from '../src/index.js';
import { createLegacyAdapter, type LegacyAdapterOptions } from './adapter.js';

/** Options of the standalone adapter process: the adapter's own plus where to listen. */
export interface LegacyServerOptions extends LegacyAdapterOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Address to bind. Default `0.0.0.0`. */
  host?: string;
  /** Allowed `Origin` values for `/ws` upgrades (exact, or `*`). Empty: the Origin's hostname must equal the Host header's (the gateway's rule, docs/protocol.md §1.2). */
  allowedOrigins?: string[];
  /** Open v2 connections; more get 503 before the upgrade. Default 100,000; 0: no bound. */
  maxConnections?: number;
  /** Open v2 connections per client address; more get 429. Default 1,000; 0: no bound. */
  maxConnectionsPerIp?: number;
  /** Proxies whose X-Forwarded-For names the client (addresses, CIDRs, `loopback`). Default `loopback`. */
  trustProxy?: string[];
}

/** A listening standalone adapter. */
export interface LegacyServer {
  readonly port: number;
  readonly host: string;
  readonly connectionCount: number;
  /** Close every v2 client (1001) and stop listening. */
  close(): Promise<void>;
}

/**
 * Run the adapter as its own HTTP server in front of a remote gateway: `/ws` upgrades become v2
 * clients of `upstream`; `GET /healthz` answers 200; everything else 404.
 */
export async function startLegacyServer(options: LegacyServerOptions): Promise<LegacyServer> {
  const adapter = createLegacyAdapter(options);
  const allowed = options.allowedOrigins ?? [];
  // The gateway's bounds (docs/protocol.md §9): a flood of upgrades cannot take every socket and byte of this process.
  const limiter = new ConnectionLimiter(
    { maxConnections: options.maxConnections ?? 100_000, maxConnectionsPerIp: options.maxConnectionsPerIp ?? 1000 },
    trustedProxies(options.trustProxy ?? ['loopback']),
  );
  const server = createServer((req, res) => {
    const ok = req.method === 'GET' && req.url === '/healthz';
    res.writeHead(ok ? 200 : 404, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not found\n');
  });
  server.on('upgrade', (req, socket, head) => {
    const path = parseRequestTarget(req.url)?.pathname;
    const refused = path !== '/ws' ? '404 Not Found' : !originAllowed(req, allowed) ? '403 Forbidden' : '';
    const over = refused ? undefined : limiter.admit(req, socket);
    const status = refused || (over ? `${over.status} ${over.text}` : '');
    if (status) return void socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    adapter.handleUpgrade(req, socket, head);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    host: address.address,
    get connectionCount() {
      return adapter.connectionCount;
    },
    async close() {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await adapter.close();
      server.closeAllConnections();
      await stopped;
    },
  };
}
