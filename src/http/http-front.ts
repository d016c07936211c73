import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { ConnectionLimiter } from './connection-limits.js';
import { originAllowed } from './origin.js';
import { parseRequestTarget } from './request-target.js';

/** Handles one HTTP request on a registered route. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;
/** Handles one WebSocket upgrade on a registered path. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

interface Route {
  method: string;
  path: string;
  prefix: boolean;
  handler: RouteHandler;
}

/** Write a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The HTTP side of the gateway: a small router for plain requests and one for upgrades. Every
 * upgrade's Origin is checked here, once, for all paths (v3 and the legacy adapter alike).
 */
export class HttpFront {
  private readonly routes: Route[] = [];
  private readonly upgrades = new Map<string, UpgradeHandler>();
  /** false while draining: upgrades are refused with 503. */
  acceptingUpgrades = true;

  constructor(
    private readonly logger: Logger,
    private readonly allowedOrigins: readonly string[],
    /** Bounds on open connections (total and per client address), checked before every upgrade. */
    private readonly limiter?: ConnectionLimiter,
  ) {}

  /** Add an HTTP route. `prefix: true` matches every path under `path`. */
  route(method: string, path: string, handler: RouteHandler, opts: { prefix?: boolean } = {}): void {
    this.routes.push({ method: method.toUpperCase(), path, prefix: opts.prefix ?? false, handler });
  }

  /** Is anything (a route or an upgrade) mounted at exactly `path`? */
  has(path: string): boolean {
    return this.upgrades.has(path) || this.routes.some((r) => r.path === path);
  }

  /** Serve WebSocket upgrades on `path` (exact match, query string ignored). */
  mountUpgrade(path: string, handler: UpgradeHandler): void {
    this.upgrades.set(path, handler);
  }

  /** The `request` listener of the http(s) server. */
  readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const url = parseRequestTarget(req.url);
    if (url === null) return sendJson(res, 400, { error: 'bad request target' });
    const candidates = this.routes.filter((r) => (r.prefix ? url.pathname.startsWith(r.path) : url.pathname === r.path));
    const route = candidates.find((r) => r.method === req.method) ?? candidates.find((r) => r.method === 'GET' && req.method === 'HEAD');
    if (!route) {
      if (candidates.length > 0) sendJson(res, 405, { error: `method ${req.method} not allowed` });
      else sendJson(res, 404, { error: 'not found' });
      return;
    }
    Promise.resolve()
      .then(() => route.handler(req, res, url))
      .catch((err: unknown) => {
        this.logger.error({ err, path: url.pathname }, 'http handler failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
  };

  /** The `upgrade` listener of the http(s) server. */
  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    const path = parseRequestTarget(req.url)?.pathname;
    if (path === undefined) return refuseUpgrade(socket, 400, 'Bad Request');
    const handler = this.upgrades.get(path);
    if (!handler) return refuseUpgrade(socket, 404, 'Not Found');
    if (!this.acceptingUpgrades) return refuseUpgrade(socket, 503, 'Service Unavailable');
    if (!originAllowed(req, this.allowedOrigins)) {
      this.logger.info({ origin: req.headers.origin, host: req.headers.host }, 'upgrade refused: origin');
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    const refusal = this.limiter?.admit(req, socket);
    if (refusal) {
      this.logger.debug({ status: refusal.status }, 'upgrade refused: connection limit');
      return refuseUpgrade(socket, refusal.status, refusal.text);
    }
    try {
      handler(req, socket, head);
    } catch (err) {
      this.logger.error({ err, path }, 'upgrade handler failed');
      socket.destroy();
    }
  };
}

/** Answer an upgrade request with a plain HTTP error and close the socket (no WebSocket is made). */
export function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  const body = `${text}\n`;
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
}
