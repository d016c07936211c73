import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import WebSocket, { type RawData } from 'ws';
import { CloseCode, CloseReason, COUNTED_ERROR_CODES, ErrorCode, closeEndsSession, wireCloseCode } from '../protocol/codes.js';
import { encodeFrame } from '../protocol/codec.js';
import { ServerEvent } from '../protocol/events.js';
import type { TokenExpiry } from '../auth/token-expiry.js';
import type { Session, SessionLink } from '../session/session.js';
import type { Clock, TimerHandle } from '../time/clock.js';
import { wsErrorCloseCode } from './ws-error-code.js';

/** Connection lifecycle: waiting for hello → open (has a session) → closing → closed. */
export type ConnectionState = 'hello' | 'open' | 'closing' | 'closed';

/** Limits a connection enforces (from GatewayOptions). */
export interface ConnectionLimits {
  maxErrors: number;
  /** Bytes. */
  maxBuffered: number;
  /** Messages per second, 0 = unlimited. */
  rateLimit: number;
}

/** What the endpoint hears from a connection's socket. */
export interface ConnectionEvents {
  /** One text or binary message, in arrival order. */
  message(conn: Connection, data: RawData, isBinary: boolean): void;
  /** A pong frame (answers the transport pinger). */
  pong(conn: Connection, data: Buffer): void;
  /** Called once when the socket is gone. `code` is what ended it; `byServer` says who started. */
  closed(conn: Connection, code: number, byServer: boolean): void;
  /**
   * The server started a close whose code ends the session (docs/protocol.md §6): the session ends now, not
   * when the peer answers the close frame — else a resume within the close grace would take it over.
   */
  ending(conn: Connection, code: number): void;
}

/** What every connection of an endpoint shares. */
export interface ConnectionShared {
  limits: ConnectionLimits;
  clock: Clock;
  /** The gateway's logger; a connection's child logger (with `remote`) is made when first used. */
  log: Logger;
  events: ConnectionEvents;
}

const ERROR_WINDOW_MS = 10_000;
/** The connection a socket belongs to, kept on the socket: the shared listeners (see below) find it there. */
const OWNER = Symbol('wsgate.connection');
type OwnedSocket = WebSocket & { [OWNER]: Connection };
const ownerOf = (socket: WebSocket): Connection => (socket as OwnedSocket)[OWNER];
/** Every connection starts its message chain here: no promise of its own until it has messages in flight. */
const SETTLED: Promise<void> = Promise.resolve();
/**
 * Messages of one connection that may wait behind an unfinished one (a handler waiting on Redis) before the socket
 * stops being read; reading resumes once half of them are done. A client that waits for its answers never gets
 * near it; one that floods is served at the speed its messages are handled.
 */
const MAX_QUEUED = 64;

/** How long a close handshake may take before the socket is dropped. */
const CLOSE_GRACE_MS = 3_000;

/**
 * One v3 WebSocket connection: the only place that touches the `ws` socket. Sends frames,
 * counts errors, enforces the send-buffer and rate limits, and funnels every way of ending into
 * one idempotent `finish()` that fires `onClosed` exactly once.
 */
export class Connection implements SessionLink {
  state: ConnectionState = 'hello';
  session: Session | undefined;
  /** The hello token's `exp` (ms since the epoch) when a JWT option is set: the connection ends then. */
  tokenExpiresAt: number | undefined;
  /** Watches tokenExpiresAt while the connection is open. */
  expiry: TokenExpiry | undefined;
  readonly remote: string;
  /**
   * The upgrade request, for the authenticate hook; released once the hello is accepted (an idle connection
   * would otherwise keep the request, its headers and its stream state: about a KiB each).
   */
  request: IncomingMessage | undefined;
  /** The endpoint's liveness port of this connection (what the pinger and the heartbeat know it by). */
  liveness: object | undefined;
  /** The hello deadline; dropped once the hello is accepted. */
  helloTimer: TimerHandle | undefined;
  // What follows is made only when needed: an idle connection's bytes are what a big deployment pays for.
  private errorTimes: number[] | undefined;
  private replaying = false;
  private chain: Promise<void> = SETTLED;
  private inFlight = 0;
  /** The socket is not being read: MAX_QUEUED messages wait (see enqueue). */
  private readPaused = false;
  private serverCloseCode = 0;
  private graceTimer: TimerHandle | undefined;
  private tokens: number;
  private tokensAt: number;
  private childLog: Logger | undefined;
  private closedPromise: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;
  private finished = false;
  /** The TCP (or TLS) socket `ws` writes to: the upgrade request's socket. */
  private readonly wire: Duplex;

  constructor(
    /** The `ws` socket. Only this class uses it (tests reach it through the gateway's test hooks). */
    readonly socket: WebSocket,
    request: IncomingMessage,
    /** What every connection of the endpoint shares: one reference instead of four fields per connection. */
    private readonly shared: ConnectionShared,
  ) {
    const { limits, clock } = shared;
    this.request = request;
    this.wire = request.socket;
    this.remote = request.socket.remoteAddress ?? 'unknown';
    this.tokens = limits.rateLimit * 2;
    this.tokensAt = limits.rateLimit > 0 ? clock.now() : 0; // a clock time is a heap number: only when it is used
    (socket as OwnedSocket)[OWNER] = this;
    socket.on('message', Connection.onMessage);
    socket.on('pong', Connection.onPong);
    socket.on('close', Connection.onClose);
    socket.on('error', Connection.onError);
  }

  // One set of socket listeners for every connection (`this` is the socket): four closures per connection add up.
  private static onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    const conn = ownerOf(this);
    conn.shared.events.message(conn, data, isBinary);
  }

  private static onPong(this: WebSocket, data: Buffer): void {
    const conn = ownerOf(this);
    conn.shared.events.pong(conn, data);
  }

  private static onClose(this: WebSocket, code: number): void {
    ownerOf(this).finish(code);
  }

  private static onError(this: WebSocket, err: Error): void {
    ownerOf(this).onSocketError(err);
  }

  /** This connection's logger (bound to its remote address). */
  get log(): Logger {
    return (this.childLog ??= this.shared.log.child({ remote: this.remote }));
  }

  /** A debug line; the child logger is not made for it while debug is off. */
  debug(obj: object, msg: string): void {
    if (this.shared.log.isLevelEnabled('debug')) this.log.debug(obj, msg);
  }

  /** The client's hello arrived: `hello_timeout` is met, however long the gateway takes to answer it. */
  helloReceived(): void {
    if (this.helloTimer !== undefined) this.shared.clock.clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
  }

  /** The hello was accepted: what only the hello needed goes. */
  helloDone(): void {
    this.helloReceived();
    this.request = undefined;
  }

  /** Settles once the socket is gone (after `closed` was called). */
  get whenClosed(): Promise<void> {
    if (this.finished) return SETTLED;
    return (this.closedPromise ??= new Promise<void>((resolve) => (this.resolveClosed = resolve)));
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN && this.state !== 'closing' && this.state !== 'closed';
  }

  /**
   * Run `task` after every task queued before it (a connection's messages are handled in order, async ones too).
   * With nothing in flight it runs at once, and only a task that returns a promise makes later ones wait behind
   * it: a message handled synchronously (most are) costs no promise and no trip through the microtask queue.
   */
  enqueue(task: () => void | Promise<void>, onError: (err: unknown) => void): void {
    if (this.inFlight === 0) {
      let pending: void | Promise<void>;
      try {
        pending = task();
      } catch (err) {
        onError(err);
        return;
      }
      if (pending === undefined) return;
      this.inFlight++;
      const done = (): void => this.settle();
      this.chain = pending.then(undefined, onError).then(done, done);
      return;
    }
    // Over the bound, stop reading the socket: the client's own TCP buffer fills and it waits (backpressure). A
    // client flooding messages that wait on Redis (a publish each) filled the heap at its send rate: 2.5 GB in 30 s.
    if (++this.inFlight > MAX_QUEUED && !this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    }
    this.chain = this.chain.then(async () => {
      try {
        await task();
      } catch (err) {
        onError(err);
      } finally {
        this.settle();
      }
    });
  }

  private settle(): void {
    // Nothing queued behind: let the settled promise go instead of keeping one per idle connection.
    if (--this.inFlight === 0) this.chain = SETTLED;
    if (this.readPaused && this.inFlight <= MAX_QUEUED / 2) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  /** Write one encoded transient frame (no seq). */
  sendText(text: string): void {
    if (!this.isOpen) return;
    this.socket.send(text);
    this.checkBacklog();
  }

  /** Hold this socket's writes (the TCP socket under `ws`) until `uncork`: several frames, one system call. */
  cork(): void {
    this.wire.cork();
  }

  /** Write what was held since `cork`. */
  uncork(): void {
    this.wire.uncork();
  }

  /** Write one stream frame; while a replay runs, the replay pump sends it in its turn instead. */
  sendStream(_seq: number, text: string): void {
    if (this.replaying) return;
    this.sendText(text);
  }

  /**
   * Send the session's buffered frames from `fromSeq` on, in order, a batch at a time, waiting for
   * each batch to reach the kernel so a long backlog never trips `max_buffered`. Messages that
   * arrive meanwhile are in the buffer too and go out in their turn. Resolves with the count sent.
   */
  async replay(session: Session, fromSeq: number): Promise<number> {
    this.replaying = true;
    let next = fromSeq;
    let sent = 0;
    try {
      for (;;) {
        if (!this.isOpen) return sent;
        const batch = session.buffer.from(next, 256);
        if (batch.length === 0) return sent;
        if (batch[0]!.seq !== next) {
          this.close(CloseCode.SlowConsumer, 'replay buffer overflowed during replay');
          return sent;
        }
        // A batch is at most half of max_buffered; the next waits until this one reached the kernel
        // (the callback of a batch's last frame fires when it and everything before it are written).
        let bytes = 0;
        let count = 0;
        while (count < batch.length && (count === 0 || bytes + batch[count]!.text.length <= this.shared.limits.maxBuffered / 2)) {
          bytes += batch[count]!.text.length;
          count++;
        }
        for (let i = 0; i < count - 1; i++) this.socket.send(batch[i]!.text);
        await new Promise<void>((resolve) => this.socket.send(batch[count - 1]!.text, () => resolve()));
        next = batch[count - 1]!.seq + 1;
        sent += count;
      }
    } finally {
      this.replaying = false;
    }
  }

  private checkBacklog(): void {
    if (this.state === 'closing' || this.replaying) return;
    if (this.socket.bufferedAmount > this.shared.limits.maxBuffered) {
      this.log.info({ buffered: this.socket.bufferedAmount }, 'slow consumer');
      // The close frame would queue behind the backlog the peer is not reading: drop the socket.
      this.serverCloseCode = CloseCode.SlowConsumer;
      this.state = 'closing';
      this.socket.close(CloseCode.SlowConsumer, CloseReason[CloseCode.SlowConsumer]);
      this.armGrace(250);
    }
  }

  /** `system/disconnect` then a close frame with `code`. Idempotent. */
  close(code: number, message: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const safe = wireCloseCode(code);
    const reason = CloseReason[safe] ?? 'error';
    this.debug({ code: safe, reason, message }, 'server closes connection');
    if (this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(encodeFrame({ event: ServerEvent.Disconnect, payload: { code: safe, reason, message } }));
    }
    this.state = 'closing';
    this.serverCloseCode = safe;
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close(safe, reason);
    }
    this.armGrace(CLOSE_GRACE_MS);
    // 4002: the session lives on in the connection that replaced this one.
    if (safe !== CloseCode.Replaced && closeEndsSession(safe, true)) this.shared.events.ending(this, safe);
  }

  /** Send a transport-level ping (the transport pinger's probe). */
  ping(data: Buffer): void {
    this.socket.ping(data);
  }

  /** Drop the socket without a handshake (dead peer). */
  terminate(): void {
    this.socket.terminate();
  }

  /**
   * Count an error the client caused. Returns true when it pushed the connection over
   * `max_errors` within 10 s (the caller closes 1008).
   */
  countError(code: string): boolean {
    if (!COUNTED_ERROR_CODES.has(code as ErrorCode)) return false;
    const now = this.shared.clock.now();
    this.errorTimes = (this.errorTimes ?? []).filter((t) => now - t < ERROR_WINDOW_MS);
    this.errorTimes.push(now);
    return this.errorTimes.length > this.shared.limits.maxErrors;
  }

  /** Token bucket; false when the client is over `rate_limit`. */
  takeToken(): boolean {
    if (this.shared.limits.rateLimit <= 0) return true;
    const now = this.shared.clock.now();
    this.tokens = Math.min(this.shared.limits.rateLimit * 2, this.tokens + ((now - this.tokensAt) / 1000) * this.shared.limits.rateLimit);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * A frame `ws` refused (bad UTF-8 1007, too big 1009, broken framing 1002) is a close the server
   * started: the session ends and the metric counts the real code, not the 1006 of the `close` event.
   */
  private onSocketError(err: Error): void {
    const code = wsErrorCloseCode(err);
    this.debug({ err: err.message, code }, 'socket error');
    if (code === undefined || this.serverCloseCode !== 0) return;
    this.serverCloseCode = code;
    if (this.state !== 'closed') this.state = 'closing';
    this.armGrace(CLOSE_GRACE_MS);
    if (closeEndsSession(code, true)) this.shared.events.ending(this, code);
  }

  private armGrace(ms: number): void {
    this.cancelGrace();
    this.graceTimer = this.shared.clock.setTimeout(() => this.socket.terminate(), ms);
  }

  private cancelGrace(): void {
    if (this.graceTimer !== undefined) this.shared.clock.clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  private finish(peerCode: number): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.cancelGrace();
    if (this.helloTimer !== undefined) this.shared.clock.clearTimeout(this.helloTimer);
    const byServer = this.serverCloseCode !== 0;
    try {
      this.shared.events.closed(this, byServer ? this.serverCloseCode : peerCode, byServer);
    } finally {
      this.finished = true;
      this.resolveClosed?.();
    }
  }
}
