import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { createJwtVerifier } from './auth/jwt.js';
import type { Registry } from 'prom-client';
import { createLogger } from './logger.js';
import { WebSocketServer } from 'ws';
import type { Broker } from './broker/broker.js';
import { MemoryBroker } from './broker/memory-broker.js';
import { ChannelHub } from './channels/channel-hub.js';
import { ConfigError, isResolved, resolveOptions, type GatewayOptions, type ResolvedOptions } from './config.js';
import { systemClock, type Clock } from './time/clock.js';
import { GatewayMetrics } from './metrics.js';
import { CloseCode } from './protocol/codes.js';
import { EncodedPayload } from './protocol/codec.js';
import type { StreamPosition } from './protocol/events.js';
import type { Authenticate, EventHandler, GatewayCore } from './ws/core.js';
import { WarnThrottle } from './ws/warn-throttle.js';
import { mountApi } from './http/api.js';
import type { IdempotencyStore } from './http/idempotency.js';
import { mountProbes } from './http/probes.js';
import { createServer, reloadTls } from './http/tls.js';
import type { Connection } from './ws/connection.js';
import { drainConnections, type DrainParts, type DrainResult } from './ws/drain.js';
import { V3Endpoint } from './ws/endpoint.js';
import { ConnectionLimiter } from './http/connection-limits.js';
import { HttpFront, refuseUpgrade, type RouteHandler, type UpgradeHandler } from './http/http-front.js';
import { clientAddress, trustedProxies } from './http/trusted-proxies.js';
import { SessionRegistry, type RegistryLimits } from './session/registry.js';
import { mountSse } from './sse/sse-routes.js';
import type { SessionService } from './session/session-service.js';
import type { Session } from './session/session.js';
import { createRedisParts } from './redis/redis-parts.js';

/** Everything `createGateway` takes: any GatewayOptions field plus the pluggable parts. */
export interface GatewayInit extends Partial<GatewayOptions> {
  /** A pino logger; default: JSON to stdout at `logLevel`. */
  logger?: Logger;
  /** Checks `client/hello`'s token; default accepts everyone. */
  authenticate?: Authenticate;
  /** Channel broker; default the in-memory one. */
  broker?: Broker;
  /** Attach to this server instead of creating one (then `listen()` only starts it if it is not listening). */
  server?: http.Server | https.Server;
  /** Time source of every timer and timestamp (session TTL, hello timeout, rate limit, drain, liveness, history); tests pass a ManualClock. */
  clock?: Clock;
  /** Collect Node process metrics (default true). */
  processMetrics?: boolean;
  /** With `redis`: prefix of every key, so several gateways can share one Redis (default `wsgate:`). */
  redisPrefix?: string;
  /** What `/metrics` answers; default this gateway's registry (a `--workers` worker answers for all workers). */
  metricsText?: (registry: Registry) => () => Promise<string>;
}

const PLUGGABLE = ['logger', 'authenticate', 'broker', 'server', 'clock', 'processMetrics', 'redisPrefix', 'metricsText'] as const;

/** Create a gateway from typed options. Throws ConfigError naming the first bad option. */
export function createGateway(init: GatewayInit = {}): Gateway {
  return new Gateway(init);
}

/**
 * A wsgate gateway: one HTTP(S) server with the v3 WebSocket endpoint at `/api/ws`, health and
 * metrics routes, and room for more (`route`, `mountUpgrade`). Sessions, channels and both
 * liveness layers live here, private; the broker may be shared with other processes.
 */
export class Gateway {
  readonly options: ResolvedOptions;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly server: http.Server | https.Server;
  /** The time source of every timer of this gateway. */
  readonly clock: Clock;
  private readonly lifecycle: SessionService & { start?(): Promise<void> };
  private readonly hub: ChannelHub;
  private readonly broker: Broker;
  private readonly idempotency: IdempotencyStore<StreamPosition> | undefined;
  private readonly front: HttpFront;
  private readonly endpoint: V3Endpoint;
  private readonly wss: WebSocketServer;
  private readonly handlers = new Map<string, EventHandler>();
  private closing: Promise<void> | undefined;
  private draining: Promise<DrainResult> | undefined;

  constructor(init: GatewayInit) {
    const partial: Partial<GatewayOptions> = { ...init };
    for (const k of PLUGGABLE) delete (partial as Record<string, unknown>)[k];
    this.options = isResolved(init) ? init : resolveOptions(partial);
    const o = this.options;
    this.clock = init.clock ?? systemClock;
    this.logger = init.logger ?? createLogger(o.logLevel, { service: 'wsgate' });
    this.metrics = new GatewayMetrics(init.processMetrics ?? true, () => this.sample());
    const onSend = (event: string): void => this.metrics.countOut(event);
    const limits: RegistryLimits = { ...o, onSend };
    const onEnded = (s: Session, reason: string): void => {
      this.hub.removeSession(s);
      this.logger.debug({ session: s.id, reason }, 'session ended');
    };
    const onHistoryDrop = (n: number): void => this.metrics.historyDropped.inc(n);
    if (o.redis) {
      // Scale-out: sessions, rooms and channels in Redis, shared with every process on it (docs/scaling.md).
      const parts = createRedisParts({ options: o, limits, clock: this.clock, logger: this.logger, prefix: init.redisPrefix, broker: init.broker, onHistoryDrop }, {
        onEnded,
        restoreChannels: async (s, channels) => {
          for (const [channel, since] of channels) await this.hub.restore(s, channel, since);
        },
      });
      this.broker = parts.broker;
      this.lifecycle = parts.sessions;
      this.idempotency = parts.idempotency;
    } else {
      if (init.broker) this.broker = init.broker;
      else this.broker = new MemoryBroker(o.historySize, o.historyTtl, this.clock, o.maxHistoryBytes, onHistoryDrop);
      this.lifecycle = new SessionRegistry(limits, o.sessionTtlMs, this.clock, { onEnded, onEvicted: () => this.metrics.sessionsEvicted.inc() }, o.presenceLimit);
    }
    const broker = this.broker;
    if (broker.historyBytes) this.metrics.historyBytesSource = () => broker.historyBytes!();
    this.hub = new ChannelHub(this.broker, o.maxSubscriptions);
    const core: GatewayCore = {
      options: o,
      logger: this.logger,
      warnings: new WarnThrottle(this.logger, this.clock),
      sessions: this.lifecycle,
      hub: this.hub,
      metrics: this.metrics,
      handlers: this.handlers,
      authenticate: init.authenticate,
      jwt: createJwtVerifier({ secret: o.jwtSecret, publicKeyFile: o.jwtPublicKey, jwksFile: o.jwtJwks, issuer: o.jwtIssuer, audience: o.jwtAudience }),
    };
    this.endpoint = new V3Endpoint(core, this.clock);
    const trusted = trustedProxies(o.trustProxy);
    const limiter = new ConnectionLimiter(o, trusted);
    this.front = new HttpFront(this.logger, o.allowedOrigins, limiter);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: o.maxPayload, perMessageDeflate: false, clientTracking: false });
    this.front.mountUpgrade('/api/ws', (req, socket, head) => {
      // Connections not yet identified cost memory and prove nothing: their number is bounded before the upgrade.
      if (o.maxPendingHellos > 0 && this.endpoint.pendingHellos >= o.maxPendingHellos) return refuseUpgrade(socket, 503, 'Service Unavailable');
      this.wss.handleUpgrade(req, socket, head, (ws) => this.endpoint.accept(ws, req));
    });
    this.server = init.server ?? createServer(o);
    this.server.on('request', this.front.onRequest);
    this.server.on('upgrade', this.front.onUpgrade);
    this.server.on('clientError', answerClientError);
    mountProbes(this.front, this.metrics.registry, () => this.lifecycle.unavailable(), init.metricsText?.(this.metrics.registry));
    mountApi({
      options: o,
      logger: this.logger,
      clock: this.clock,
      metrics: this.metrics.registry,
      sessions: this.lifecycle,
      publish: (channel, data) => this.publish(channel, data),
      idempotency: this.idempotency,
      route: (method, path, handler, opts) => this.route(method, path, handler, opts),
    });
    if (o.sse) {
      mountSse({
        options: o,
        clock: this.clock,
        logger: this.logger,
        route: (method, path, handler) => this.route(method, path, handler),
        accept: (wire, req) => this.endpoint.accept(wire, req),
        accepting: () => this.front.acceptingUpgrades,
        addressOf: (req) => clientAddress(req, trusted),
        // An SSE stream is a v3 connection too: the same bounds as an upgrade to /api/ws.
        admit: (req, res) =>
          o.maxPendingHellos > 0 && this.endpoint.pendingHellos >= o.maxPendingHellos
            ? { status: 503, text: 'Service Unavailable' }
            : limiter.admit(req, res),
      });
    }
    hooks.set(this, {
      connections: this.endpoint.connections,
      front: this.front,
      drainConnections: () => drainConnections(this.drainParts()),
    });
  }

  /** Start listening on `options.port`/`options.host` (unless the attached server already listens). */
  async listen(): Promise<{ port: number; host: string }> {
    if (this.lifecycle.start) {
      // A gateway that cannot reach its Redis at start fails the start, naming the option.
      await Promise.all([this.lifecycle.start(), this.broker.ready?.()]).catch((err: unknown) => {
        // A stop (SIGTERM during start) closed Redis under the start: not a configuration error.
        if (this.draining ?? this.closing) throw new ClosedWhileStarting();
        throw new ConfigError(`--redis: ${(err as Error).message}`);
      });
    }
    // Stopped while it waited for Redis: bind nothing (the drain has already run and would not see it).
    if (this.draining ?? this.closing) throw new ClosedWhileStarting();
    if (!this.server.listening) {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        // A reconnect storm arrives all at once: Node's default backlog (511) overflows; the kernel caps this at somaxconn.
        this.server.listen({ port: this.options.port, host: this.options.host, backlog: 4096 }, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    }
    const addr = this.server.address() as AddressInfo;
    // The endpoints as URLs, so the first log line says where to connect (docs/operations.md "Start-up").
    this.logger.info({ port: addr.port, host: addr.address, tls: this.isTls, urls: this.endpointUrls() }, 'wsgate listening');
    return { port: addr.port, host: addr.address };
  }

  /** The bound port (0 before listen). */
  get port(): number {
    const addr = this.server.address();
    return addr && typeof addr === 'object' ? addr.port : 0;
  }

  /** true when the server speaks TLS (wss/https). */
  get isTls(): boolean {
    return this.server instanceof https.Server;
  }

  /** What this gateway serves, as URLs a local client can use (`v2`, `client`, `demo` only when mounted). */
  endpointUrls(): Record<string, string> {
    const urls: Record<string, string> = { v3: this.url('/api/ws') };
    if (this.front.has('/ws')) urls.v2 = this.url('/ws');
    if (this.front.has('/api/sse')) urls.sse = this.url('/api/sse');
    urls.api = this.url('/api/');
    urls.metrics = this.url('/metrics');
    urls.health = this.url('/healthz');
    if (this.front.has('/wsgate-client.js')) urls.client = this.url('/wsgate-client.js');
    if (this.front.has('/demo')) urls.demo = this.url('/demo/');
    return urls;
  }

  /** A URL a local client can use, e.g. `url('/api/ws')` → `ws://127.0.0.1:8080/api/ws`. */
  url(path = '/api/ws'): string {
    const host = ['0.0.0.0', '::', ''].includes(this.options.host) ? '127.0.0.1' : this.options.host;
    // The two WebSocket endpoints (query string allowed); everything else — /wsgate-client.js included — is HTTP.
    const scheme = /^\/(api\/)?ws(\?|$)/.test(path) ? (this.isTls ? 'wss' : 'ws') : this.isTls ? 'https' : 'http';
    return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${this.port}${path}`;
  }

  /** Register the handler of an application event (any event the gateway does not define itself). */
  handle(event: string, handler: EventHandler): void {
    if (event.startsWith('client/') || event.startsWith('system/')) throw new ConfigError(`handle: "${event}" is reserved`);
    this.handlers.set(event, handler);
  }

  /** Add an HTTP route. */
  route(method: string, path: string, handler: RouteHandler, opts?: { prefix?: boolean }): void {
    this.front.route(method, path, handler, opts);
  }

  /** Serve WebSocket upgrades on another path (the legacy adapter uses `/ws`). */
  mountUpgrade(path: string, handler: UpgradeHandler): void {
    this.front.mountUpgrade(path, handler);
  }

  /**
   * Send a stream message to one session of the gateway (buffered while it is disconnected); with `redis`, a session
   * of any process, as the HTTP API does. Resolves false for an unknown session; rejects when Redis cannot be
   * reached. A payload JSON cannot express throws a TypeError at the call.
   */
  sendTo(sessionId: string, event: string, payload?: unknown): Promise<boolean> {
    const session = this.lifecycle.get(sessionId);
    if (session) {
      session.send(event, payload);
      return Promise.resolve(true);
    }
    // Encoded once, here: the same TypeError as for a local session, before anything is sent; the shared store sends this text.
    const encoded = new EncodedPayload(payload);
    return this.lifecycle.sendTo(sessionId, event, encoded).then((sent) => sent !== undefined);
  }

  /** Publish to a channel, as the backend. */
  publish(channel: string, data: unknown): Promise<StreamPosition> {
    return this.hub.publish(channel, data);
  }

  /**
   * End a session now; its connection (if any) is closed with `code` (default 4003 kicked) and `message`. With
   * `redis`, a session of another process is ended too; its connection there closes 4003 when `code` is 4003, else
   * 1000, with the standard message. Resolves false for an unknown session; rejects when Redis cannot be reached.
   */
  endSession(sessionId: string, code: number = CloseCode.Kicked, message = 'session ended by the server'): Promise<boolean> {
    const reason = code === CloseCode.Kicked ? 'kicked' : 'closed';
    const session = this.lifecycle.get(sessionId);
    if (!session) return this.lifecycle.endById(sessionId, reason);
    session.link?.close(code, message);
    return this.lifecycle.end(session, reason).then(() => true);
  }

  /**
   * Cut a session's live socket with no close frame, as a dead network would; the session stays
   * resumable. false: unknown session, or it has no connection right now.
   */
  dropConnection(sessionId: string): boolean {
    const link = this.lifecycle.get(sessionId)?.link;
    if (!link) return false;
    link.terminate();
    return true;
  }

  /** One live session of this process, or undefined. */
  session(sessionId: string): Session | undefined {
    return this.lifecycle.get(sessionId);
  }

  /** Live sessions of this process. */
  sessions(): Session[] {
    return [...this.lifecycle.all()];
  }

  /**
   * Re-read `tls_cert`/`tls_key` for new handshakes (SIGHUP); open connections keep theirs. A bad
   * pair is refused and the old one stays. true when the new pair is in use.
   */
  reloadTls(): boolean {
    return reloadTls(this.server, this.options, this.logger);
  }

  /**
   * Graceful shutdown (SIGTERM): readiness false, no new upgrades, every client gets close 1012 in
   * batches within `drainTimeout` (1012 tells them to reconnect at once and resume), then `close()`.
   * Idempotent.
   */
  drain(): Promise<DrainResult> {
    this.draining ??= drainConnections(this.drainParts()).then(async (result) => {
      await this.close();
      return result;
    });
    return this.draining;
  }

  /** Stop: close every connection (1001), end every session, close the server and the broker. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private drainParts(): DrainParts {
    return { options: this.options, logger: this.logger, clock: this.clock, front: this.front, connections: this.endpoint.connections };
  }

  private async doClose(): Promise<void> {
    this.front.acceptingUpgrades = false;
    for (const conn of this.endpoint.connections) conn.close(CloseCode.GoingAway, 'gateway shutting down');
    this.endpoint.stop();
    await new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections?.();
      // Sockets still finishing a close handshake are dropped after a moment.
      this.clock.setTimeout(() => {
        for (const conn of this.endpoint.connections) conn.terminate();
      }, 500);
    });
    await this.lifecycle.close();
    await this.broker.close();
  }

  private sample(): { connected: number; disconnected: number; buffered: number } {
    let connected = 0;
    let disconnected = 0;
    let buffered = 0;
    for (const s of this.lifecycle.all()) {
      if (s.isConnected) connected++;
      else disconnected++;
      buffered += s.buffer.size;
    }
    return { connected, disconnected, buffered };
  }
}

/** `listen()` did not bind: `close()` or `drain()` (a stop signal) began while it was starting. */
export class ClosedWhileStarting extends Error {
  constructor() {
    super('the gateway was stopped while it was starting');
    this.name = 'ClosedWhileStarting';
  }
}

/**
 * A request Node's HTTP parser refused (headers over 16 KB, a malformed line): answer 431 or 400 when the
 * socket can still take it, then drop it. Node's own default would do the same, but a listener replaces it.
 */
function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (socket.writable && !(socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
    const [status, text] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroy();
}

/** Parts of a gateway only tests reach (not exported from the package; see `gatewayTestHooks`). */
export interface GatewayTestHooks {
  /** The open v3 connections. */
  readonly connections: ReadonlySet<Connection>;
  /** The HTTP front (a test may reopen `acceptingUpgrades` after a drain). */
  readonly front: HttpFront;
  /** Drain the connections without closing the gateway afterwards. */
  drainConnections(): Promise<DrainResult>;
}

const hooks = new WeakMap<Gateway, GatewayTestHooks>();

/** Test hooks of a gateway: its private parts, for tests that must look behind the public API. */
export function gatewayTestHooks(gateway: Gateway): GatewayTestHooks {
  return hooks.get(gateway)!;
}
