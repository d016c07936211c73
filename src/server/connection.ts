import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import { CloseCode, CloseReason, COUNTED_ERROR_CODES, ErrorCode, wireCloseCode } from '../protocol/codes.js';
import { encodeFrame } from '../protocol/codec.js';
import { ServerEvent } from '../protocol/events.js';
import type { Session, SessionLink } from '../session/session.js';

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

/** Called once when the socket is gone. `code` is what ended it; `byServer` says who started. */
export type ClosedHandler = (conn: Connection, code: number, byServer: boolean) => void;

const ERROR_WINDOW_MS = 10_000;
/** Every connection starts its message chain here: no promise of its own until it has messages in flight. */
const IDLE_CHAIN: Promise<void> = Promise.resolve();
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
  readonly remote: string;
  /**
   * The upgrade request, for the authenticate hook; released once the hello is accepted (an idle connection
   * would otherwise keep the request, its headers and its stream state: about a KiB each).
   */
  request: IncomingMessage | undefined;
  /** The endpoint's liveness port of this connection (what the pinger and the heartbeat know it by). */
  liveness: object | undefined;
  /** The hello deadline; dropped once the hello is accepted. */
  helloTimer: NodeJS.Timeout | undefined;
  private errorTimes: number[] | undefined;
  private replaying = false;
  private chain: Promise<void> = IDLE_CHAIN;
  private inFlight = 0;
  private serverCloseCode = 0;
  private graceTimer: NodeJS.Timeout | undefined;
  private tokens: number;
  private tokensAt = Date.now();
  private childLog: Logger | undefined;

  constructor(
    readonly socket: WebSocket,
    request: IncomingMessage,
    private readonly limits: ConnectionLimits,
    /** The gateway's logger; this connection's child logger (with `remote`) is made when first used. */
    private readonly parentLog: Logger,
    private readonly onClosed: ClosedHandler,
  ) {
    this.request = request;
    this.remote = request.socket.remoteAddress ?? 'unknown';
    this.tokens = limits.rateLimit * 2;
    socket.on('close', (code) => this.finish(code));
    socket.on('error', (err) => this.debug({ err: err.message }, 'socket error'));
  }

  /** This connection's logger (bound to its remote address). */
  get log(): Logger {
    return (this.childLog ??= this.parentLog.child({ remote: this.remote }));
  }

  /** A debug line; the child logger is not made for it while debug is off. */
  debug(obj: object, msg: string): void {
    if (this.parentLog.isLevelEnabled('debug')) this.log.debug(obj, msg);
  }

  /** The hello was accepted: what only the hello needed goes. */
  helloDone(): void {
    clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    this.request = undefined;
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN && this.state !== 'closing' && this.state !== 'closed';
  }

  /** Run `task` after every task queued before it (a connection's messages are handled in order, async ones too). */
  enqueue(task: () => Promise<void>, onError: (err: unknown) => void): void {
    this.inFlight++;
    this.chain = this.chain
      .then(task)
      .catch(onError)
      .finally(() => {
        // Nothing queued behind: let the settled promise go instead of keeping it per idle connection.
        if (--this.inFlight === 0) this.chain = IDLE_CHAIN;
      });
  }

  /** Write one encoded transient frame (no seq). */
  sendText(text: string): void {
    if (!this.isOpen) return;
    this.socket.send(text);
    this.checkBacklog();
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
        while (count < batch.length && (count === 0 || bytes + batch[count]!.text.length <= this.limits.maxBuffered / 2)) {
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
    if (this.socket.bufferedAmount > this.limits.maxBuffered) {
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
    const now = Date.now();
    this.errorTimes = (this.errorTimes ?? []).filter((t) => now - t < ERROR_WINDOW_MS);
    this.errorTimes.push(now);
    return this.errorTimes.length > this.limits.maxErrors;
  }

  /** Token bucket; false when the client is over `rate_limit`. */
  takeToken(): boolean {
    if (this.limits.rateLimit <= 0) return true;
    const now = Date.now();
    this.tokens = Math.min(this.limits.rateLimit * 2, this.tokens + ((now - this.tokensAt) / 1000) * this.limits.rateLimit);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private armGrace(ms: number): void {
    clearTimeout(this.graceTimer);
    this.graceTimer = setTimeout(() => this.socket.terminate(), ms);
    this.graceTimer.unref();
  }

  private finish(peerCode: number): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.graceTimer);
    clearTimeout(this.helloTimer);
    const byServer = this.serverCloseCode !== 0;
    this.onClosed(this, byServer ? this.serverCloseCode : peerCode, byServer);
  }
}
