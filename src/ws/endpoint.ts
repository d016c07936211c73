import type { IncomingMessage } from 'node:http';
import type WebSocket from 'ws';
import type { RawData } from 'ws';
import { AppHeartbeat, type HeartbeatTarget } from '../liveness/app-heartbeat.js';
import type { Clock } from '../time/clock.js';
import { TransportPinger, type PingTarget } from '../liveness/transport-pinger.js';
import { CloseCode, ErrorCode } from '../protocol/codes.js';
import { decodeFrame, encodeFrame } from '../protocol/codec.js';
import { CloseError } from '../protocol/errors.js';
import { ClientEvent, ServerEvent, type Frame } from '../protocol/events.js';
import { SseWire } from '../sse/sse-wire.js';
import { Turns } from './turns.js';
import { Connection, type ConnectionEvents, type ConnectionShared } from './connection.js';
import type { GatewayCore } from './core.js';
import { dispatch } from './dispatch.js';
import { acceptHello } from './hello.js';
import { TokenExpiry } from '../auth/token-expiry.js';

/** How both liveness layers reach one connection. */
type LivenessTarget = PingTarget & HeartbeatTarget;

/** system/heartbeat is the same frame for everyone. */
const HEARTBEAT_FRAME = encodeFrame({ event: ServerEvent.Heartbeat });

/**
 * The liveness port of one connection: both layers talk to the connection through it. Methods on a prototype
 * rather than four closures per connection (an idle connection's bytes are what a big deployment pays for).
 */
class LivenessPort implements LivenessTarget {
  constructor(
    private readonly conn: Connection,
    /** Seconds, for the close message. */
    private readonly heartbeatTimeout: number,
  ) {}

  ping(data: Buffer): void {
    this.conn.ping(data);
  }

  terminate(): void {
    this.conn.log.info({ session: this.conn.session?.id }, 'no pong within ping_timeout; terminating');
    this.conn.terminate();
  }

  sendHeartbeat(): void {
    this.conn.sendText(HEARTBEAT_FRAME);
  }

  timedOut(): void {
    this.conn.close(CloseCode.HeartbeatTimeout, `no client message for ${this.heartbeatTimeout} s`);
  }
}

const portOf = (conn: Connection): LivenessTarget => conn.liveness as LivenessTarget;
/** The `transport` label of wsgate_connections. */
const transportOf = (conn: Connection): 'sse' | 'ws' => (conn.socket instanceof SseWire ? 'sse' : 'ws');

/**
 * The v3 endpoint: owns the open connections and both liveness layers, runs the hello and then
 * every message of a connection in order, and decides on close whether the session lives on.
 */
export class V3Endpoint {
  readonly connections = new Set<Connection>();
  /** Open connections that have not finished `client/hello` yet (bounded by `max_pending_hellos`). */
  private readonly awaitingHello = new Set<Connection>();
  /** Hellos answered at once (`hello_concurrency`); the rest wait in arrival order. */
  readonly helloTurns: Turns;
  readonly pinger: TransportPinger | undefined;
  readonly heartbeat: AppHeartbeat | undefined;
  /** One set of socket handlers for every connection (they find the liveness port on the connection). */
  private readonly events: ConnectionEvents = {
    message: (c, data, isBinary) => this.onMessage(c, portOf(c), data, isBinary),
    pong: (c, data) => this.pinger?.pong(portOf(c), data),
    closed: (c, code, byServer) => this.closed(c, portOf(c), code, byServer),
    ending: (c, code) => this.ending(c, code),
  };
  /** Limits, clock, logger and handlers: the same for every connection. */
  private readonly shared: ConnectionShared;

  constructor(
    private readonly core: GatewayCore,
    private readonly clock: Clock,
  ) {
    const o = core.options;
    const m = core.metrics;
    this.helloTurns = new Turns(o.helloConcurrency);
    m.hellosSource = () => this.helloTurns.counts;
    this.shared = { limits: o, clock, log: core.logger, events: this.events };
    if (o.pingInterval > 0) {
      this.pinger = new TransportPinger(clock, o.pingIntervalMs, o.pingTimeoutMs, {
        onPing: () => m.pingsSent.inc(),
        onPong: (ms) => m.pongRtt.observe(ms / 1000),
        onTimeout: () => m.pingTimeouts.inc(),
        onError: (err) => core.logger.error({ err }, 'transport pinger failed on a connection'),
      });
      const pinger = this.pinger;
      m.watchLateness('transport', () => pinger.takeMaxLateness());
    }
    if (o.heartbeatInterval > 0) {
      this.heartbeat = new AppHeartbeat(clock, o.heartbeatIntervalMs, o.heartbeatTimeoutMs, {
        onSent: () => m.heartbeatsSent.inc(),
        onTimeout: () => m.heartbeatTimeouts.inc(),
        onError: (err) => core.logger.error({ err }, 'app heartbeat failed on a connection'),
      });
      const heartbeat = this.heartbeat;
      m.watchLateness('app', () => heartbeat.takeMaxLateness());
    }
  }

  /** Take a freshly upgraded socket, or an SSE stream dressed as one (src/sse/sse-wire.ts). */
  accept(socket: WebSocket | SseWire, request: IncomingMessage): void {
    const o = this.core.options;
    // An SseWire has every member of a ws socket that Connection uses (readyState, bufferedAmount, send,
    // ping, close, terminate, and the message/pong/close events), so the whole v3 path runs over it.
    const conn = new Connection(socket as WebSocket, request, this.shared);
    const target = new LivenessPort(conn, o.heartbeatTimeout);
    conn.liveness = target;
    this.connections.add(conn);
    this.awaitingHello.add(conn);
    this.core.metrics.connections.inc({ transport: transportOf(conn) });
    this.pinger?.add(target);
    conn.helloTimer = this.clock.setTimeout(() => {
      if (conn.state === 'hello') conn.close(CloseCode.HelloTimeout, `no client/hello within ${o.helloTimeout} s`);
    }, o.helloTimeoutMs);
    conn.debug({}, 'connection open');
  }

  private onMessage(conn: Connection, target: LivenessTarget, data: RawData, isBinary: boolean): void {
    if (conn.state === 'closing' || conn.state === 'closed') return;
    if (isBinary) {
      conn.close(CloseCode.Unsupported, 'binary frames are not supported');
      return;
    }
    this.heartbeat?.heard(target);
    if (!conn.takeToken()) {
      conn.close(CloseCode.RateLimited, `more than ${this.core.options.rateLimit} messages per second`);
      return;
    }
    const decoded = decodeFrame(data.toString());
    conn.enqueue(
      () => this.handle(conn, target, decoded),
      (err) => this.fail(conn, err),
    );
  }

  /** One decoded message, in its turn. Synchronous unless the hello or the message's handler is not. */
  private handle(conn: Connection, target: LivenessTarget, decoded: ReturnType<typeof decodeFrame>): void | Promise<void> {
    if (conn.state === 'closing' || conn.state === 'closed') return;
    if (!decoded.ok) {
      this.reportBad(conn, decoded.message, decoded.event, decoded.id);
      return;
    }
    const frame = decoded.frame;
    this.core.metrics.countIn(metricEvent(frame.event));
    if (conn.state === 'hello') return this.hello(conn, target, frame);
    if (frame.event === ClientEvent.Hello) throw new CloseError(CloseCode.ProtocolError, 'client/hello may be sent only once');
    const failed = dispatch(this.core, conn.session!, frame);
    if (typeof failed === 'object') return failed.then((code) => this.counted(conn, code));
    this.counted(conn, failed);
  }

  private async hello(conn: Connection, target: LivenessTarget, frame: Frame): Promise<void> {
    if (frame.event !== ClientEvent.Hello) throw new CloseError(CloseCode.ProtocolError, 'the first message must be client/hello');
    // The timeout is for a client that says nothing (docs/protocol.md §2.5), not for the gateway's own answer: a
    // resume storm over Redis took longer than 5 s to answer every hello, and closing them 4101 while they were
    // being answered turned away all 10,000 clients and their retries.
    conn.helloReceived();
    await this.helloTurns.take();
    try {
      if (conn.state !== 'hello') return; // gone while it waited its turn
      await acceptHello(this.core, conn, frame);
    } finally {
      this.helloTurns.done();
    }
    if (conn.state !== 'hello') return; // closed while authenticating
    conn.state = 'open';
    this.awaitingHello.delete(conn);
    conn.helloDone();
    this.heartbeat?.add(target);
    // docs/protocol.md §2.5: a token expiring on a live connection ends it with 4001 (resume with a fresh one first).
    if (conn.tokenExpiresAt !== undefined) {
      conn.expiry = new TokenExpiry(this.clock, conn.tokenExpiresAt, () => conn.close(CloseCode.Unauthorized, 'token expired'));
    }
    conn.debug({ session: conn.session?.id }, 'hello accepted');
  }

  /** A message failed with `code`: counted toward max_errors. */
  private counted(conn: Connection, code: string | undefined): void {
    if (code && conn.countError(code)) conn.close(CloseCode.Policy, `more than ${this.core.options.maxErrors} errors in 10 s`);
  }

  /** A malformed frame: `system/error bad_message`, counted toward `max_errors`. */
  private reportBad(conn: Connection, message: string, event?: string, id?: string): void {
    const payload = { code: ErrorCode.BadMessage, message, ...(event ? { event } : {}), ...(id ? { id } : {}) };
    this.core.metrics.errors.inc({ code: ErrorCode.BadMessage });
    // Before hello there is no session and so no seq: the error goes out as is.
    if (conn.session) conn.session.send(ServerEvent.Error, payload);
    else conn.sendText(encodeFrame({ event: ServerEvent.Error, payload }));
    if (conn.countError(ErrorCode.BadMessage)) conn.close(CloseCode.Policy, `more than ${this.core.options.maxErrors} errors in 10 s`);
  }

  private fail(conn: Connection, err: unknown): void {
    if (err instanceof CloseError) {
      conn.close(err.closeCode, err.message);
      return;
    }
    conn.log.error({ err }, 'connection handler crashed');
    conn.close(CloseCode.InternalError, 'internal error');
  }

  private closed(conn: Connection, target: LivenessTarget, code: number, byServer: boolean): void {
    this.connections.delete(conn);
    this.awaitingHello.delete(conn);
    this.core.metrics.connections.dec({ transport: transportOf(conn) });
    this.core.metrics.closes.inc({ code: String(code) });
    this.pinger?.remove(target);
    this.heartbeat?.remove(target);
    conn.expiry?.cancel();
    const session = conn.session;
    conn.debug({ code, byServer, session: session?.id }, 'connection closed');
    if (!session) return;
    this.core.sessions.detach(session, conn, { code, byServer }).catch((err: unknown) => conn.log.error({ err }, 'session detach failed'));
  }

  /** A close that ends the session has started: end it now (the later `closed` finds it ended and does nothing more). */
  private ending(conn: Connection, code: number): void {
    const session = conn.session;
    if (!session) return;
    this.core.sessions.detach(session, conn, { code, byServer: true }).catch((err: unknown) => conn.log.error({ err }, 'session detach failed'));
  }

  /** Connections open but not past `client/hello` yet. */
  get pendingHellos(): number {
    return this.awaitingHello.size;
  }

  /** Stop both liveness layers (gateway close). */
  stop(): void {
    this.pinger?.stop();
    this.heartbeat?.stop();
  }
}

const KNOWN_CLIENT_EVENTS: ReadonlySet<string> = new Set(Object.values(ClientEvent));

/**
 * A client chooses its event names, so the label is the protocol's own name or "other": a prefix
 * test would let a hostile client mint a new series per `client/<anything>`.
 */
function metricEvent(event: string): string {
  return KNOWN_CLIENT_EVENTS.has(event) ? event : 'other';
}
