import WebSocket from 'ws';
import type { Logger } from 'pino';
import { ClientEvent, CloseCode, CloseReason, ServerEvent, decodeFrame, encodeFrame, wireCloseCode } from '../src/protocol/index.js';
import type { Clock, TimerHandle } from '../src/time/clock.js';
import { decodeV2, encodeV2, v2Disconnect, type V2Frame } from './v2-codec.js';
import { v2ToV3, v3ToV2 } from './translate.js';
import { V2Pinger } from './v2-pinger.js';

/** What one pair needs from its adapter. Times are ms, sizes bytes. */
export interface PairSettings {
  upstream: string;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** v2 client's send buffer above which it is closed 4102 slow_consumer. */
  maxBuffered: number;
  /** Bytes of v2 frames held while the upstream is not ready yet; more → close 1008. */
  maxQueued: number;
  /** How long a close handshake may take before the socket is dropped. */
  closeGraceMs: number;
  /** Verify the upstream's TLS certificate (wss). */
  rejectUnauthorized: boolean;
  clock: Clock;
  logger: Logger;
  /** Metrics port (optional): what crosses the adapter and how v2 legs end. */
  observer?: LegacyObserver;
}

/** Where a relayed control frame went. */
export type RelayDirection = 'to_v2' | 'to_gateway';

/** What the adapter reports for metrics; every hook optional. */
export interface LegacyObserver {
  /** A ping (`kind: 'ping'`) or pong relayed between the legs. */
  relayed?(kind: 'ping' | 'pong', direction: RelayDirection): void;
  /** The adapter pinged a silent v2 leg itself. */
  adapterPing?(): void;
  /** A v2 client left the adapter's own ping unanswered. */
  adapterPingTimeout?(): void;
  /** A v2 leg was closed with `code` (sent by the adapter). */
  closed?(code: number): void;
}

/** The v2 client's credentials and address, from its upgrade request. */
export interface V2Peer {
  password?: string;
  username?: string;
  /** Extension to §7: the v3 room to join (default `main`), so large v2 populations need not share one room. */
  room?: string;
  /** Value for the upstream's X-Forwarded-For. */
  forwardedFor?: string;
}

type State = 'connecting' | 'ready' | 'closing' | 'closed';
type Queued = { kind: 'text' | 'ping'; data: string | Buffer };

/**
 * One v2 client and its own upstream v3 connection (docs/protocol.md §7). Translates frames both ways and
 * relays ping/pong frames with their payloads in both directions: neither socket answers pings by
 * itself (`autoPong: false`), so the gateway's `ping_timeout` measures the real v2 client end to end.
 */
export class LegacyPair {
  /** Resolves once both sockets are closed. */
  readonly closed: Promise<void>;
  private state: State = 'connecting';
  private readonly up: WebSocket;
  private readonly pinger: V2Pinger;
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  /** The v2 client already got a `system/disconnect` (relayed from the gateway or our own). */
  private disconnectSent = false;
  private upOpened = false;
  private readonly graceTimers: TimerHandle[] = [];
  private readonly log: Logger;

  constructor(
    private readonly v2: WebSocket,
    peer: V2Peer,
    private readonly s: PairSettings,
  ) {
    this.log = s.logger.child({ username: peer.username });
    this.up = new WebSocket(s.upstream, {
      autoPong: false,
      perMessageDeflate: false,
      rejectUnauthorized: s.rejectUnauthorized,
      headers: peer.forwardedFor ? { 'x-forwarded-for': peer.forwardedFor } : undefined,
    });
    this.pinger = new V2Pinger(s.clock, s.pingIntervalMs, s.pingTimeoutMs, {
      ping: (data) => {
        if (this.v2.readyState !== WebSocket.OPEN) return;
        this.v2.ping(data);
        s.observer?.adapterPing?.();
      },
      onPingTimeout: () => {
        s.observer?.adapterPingTimeout?.();
        this.fail(CloseCode.GoingAway, 'ping_timeout', 'no pong within ping_timeout');
      },
    });
    const bothClosed = [once(this.up), once(v2)];
    this.closed = Promise.all(bothClosed).then(() => this.setState('closed'));
    this.wireUpstream(peer);
    this.wireV2();
    this.pinger.start();
  }

  /** End the pair from the adapter's side (shutdown): the v2 client gets `system/disconnect` and `code`. */
  shutdown(code: number = CloseCode.GoingAway, title = 'going_away', message = 'the legacy adapter is shutting down'): void {
    this.fail(code, title, message);
  }

  private wireUpstream(peer: V2Peer): void {
    this.up.on('open', () => {
      this.upOpened = true;
      const hello = { token: peer.password, profile: peer.username === undefined ? undefined : { name: peer.username }, room: peer.room, resumable: false };
      this.up.send(encodeFrame({ event: ClientEvent.Hello, payload: hello }));
    });
    this.up.on('message', (data, isBinary) => {
      if (!isBinary) this.fromUpstream(data.toString());
    });
    this.up.on('ping', (data) => {
      if (this.v2.readyState !== WebSocket.OPEN) return;
      this.v2.ping(data);
      this.s.observer?.relayed?.('ping', 'to_v2');
      this.pinger.upstreamPinged();
    });
    // The answer to a ping the v2 client sent upstream.
    this.up.on('pong', (data) => {
      if (this.v2.readyState !== WebSocket.OPEN) return;
      this.v2.pong(data);
      this.s.observer?.relayed?.('pong', 'to_v2');
    });
    // Not reaching the gateway at all is the operator's business; an error on a live or abandoned leg is routine.
    this.up.on('error', (err) => {
      const level = this.upOpened || this.state === 'closing' ? 'debug' : 'warn';
      this.log[level]({ err: err.message, upstream: this.s.upstream }, 'legacy upstream error');
    });
    this.up.on('close', (code, reason) => this.upstreamClosed(code, reason.toString()));
  }

  private wireV2(): void {
    this.v2.on('message', (data, isBinary) => {
      if (isBinary) this.fail(CloseCode.Unsupported, CloseReason[CloseCode.Unsupported], 'binary frames are not supported');
      else this.fromV2(data.toString());
    });
    this.v2.on('ping', (data) => this.toUpstream({ kind: 'ping', data }));
    this.v2.on('pong', (data) => {
      if (this.pinger.pong(data) || this.up.readyState !== WebSocket.OPEN) return;
      this.up.pong(data);
      this.s.observer?.relayed?.('pong', 'to_gateway');
    });
    this.v2.on('error', (err) => this.log.debug({ err: err.message }, 'legacy v2 client error'));
    this.v2.on('close', (code) => {
      this.log.debug({ code }, 'legacy v2 client closed');
      this.pinger.stop();
      // v2 has no resume: the session ends with its client (the hello said resumable:false; 1000 says it again).
      this.closeUpstream();
      this.setState('closing');
    });
  }

  private fromV2(text: string): void {
    const decoded = decodeV2(text);
    if (!decoded.ok) return this.sendV2(decoded.error);
    const translated = v2ToV3(decoded.frame);
    if (!translated.ok) return this.sendV2(translated.error);
    this.toUpstream({ kind: 'text', data: encodeFrame(translated.frame) });
  }

  private fromUpstream(text: string): void {
    const decoded = decodeFrame(text);
    if (!decoded.ok) return void this.log.warn({ message: decoded.message }, 'legacy: bad frame from upstream');
    const { frame } = decoded;
    if (frame.event === ServerEvent.Disconnect) this.disconnectSent = true;
    for (const out of v3ToV2(frame)) this.sendV2(out);
    if (frame.event === ServerEvent.Init && this.state === 'connecting') {
      this.setState('ready');
      this.flushQueue();
    }
  }

  /** Text waits for `system/init` (the hello must be processed first); pings only for the socket to open. */
  private toUpstream(item: Queued): void {
    const open = this.up.readyState === WebSocket.OPEN;
    if (open && (this.state === 'ready' || (item.kind === 'ping' && this.queue.length === 0))) return this.sendUp(item);
    if (this.state === 'closing' || this.state === 'closed') return;
    this.queue.push(item);
    this.queuedBytes += item.data.length;
    if (this.queuedBytes > this.s.maxQueued) {
      this.fail(CloseCode.Policy, 'queue_overflow', 'too much sent before the gateway answered');
    }
  }

  private flushQueue(): void {
    for (const item of this.queue.splice(0)) this.sendUp(item);
    this.queuedBytes = 0;
  }

  private sendUp(item: Queued): void {
    if (item.kind === 'ping') {
      this.up.ping(item.data);
      this.s.observer?.relayed?.('ping', 'to_gateway');
    } else this.up.send(item.data);
  }

  private sendV2(frame: V2Frame): void {
    if (this.v2.readyState !== WebSocket.OPEN) return;
    this.v2.send(encodeV2(frame));
    if (this.state !== 'closing' && this.v2.bufferedAmount > this.s.maxBuffered) {
      this.fail(CloseCode.SlowConsumer, CloseReason[CloseCode.SlowConsumer], 'the client reads too slowly');
    }
  }

  private upstreamClosed(code: number, reason: string): void {
    this.log.debug({ code, reason }, 'legacy upstream closed');
    // No close frame (1006) or a failed TLS close (1015): the gateway vanished. 1005: closed without a code.
    const lost = code === 1006 || code === 1015;
    const v2Code = lost ? CloseCode.BadGateway : code === 1005 ? CloseCode.Normal : code;
    const title = lost ? 'upstream_lost' : (CloseReason[v2Code] ?? (reason || 'closed'));
    const message = lost ? 'the connection to the gateway was lost' : `the gateway closed the connection (${v2Code})`;
    this.closeV2(v2Code, title, message);
  }

  /** An end the adapter starts: tell the v2 client, close it, and end the upstream session. */
  private fail(code: number, title: string, message: string): void {
    this.log.debug({ code, title }, 'legacy: closing pair');
    this.closeV2(code, title, message);
    this.closeUpstream();
  }

  private closeV2(code: number, title: string, message: string): void {
    this.pinger.stop();
    this.setState('closing');
    if (this.v2.readyState !== WebSocket.OPEN) return;
    if (!this.disconnectSent) this.sendV2(v2Disconnect(title, message));
    this.disconnectSent = true;
    const wireCode = wireCloseCode(code);
    this.s.observer?.closed?.(wireCode);
    this.v2.close(wireCode, (CloseReason[wireCode] ?? title).slice(0, 120));
    this.dropAfterGrace(this.v2);
  }

  private closeUpstream(): void {
    const st = this.up.readyState;
    if (st !== WebSocket.OPEN && st !== WebSocket.CONNECTING) return;
    this.up.close(CloseCode.Normal, CloseReason[CloseCode.Normal]);
    this.dropAfterGrace(this.up);
  }

  /** A peer that never answers our close frame is dropped after the grace instead of ws's 30 s. */
  private dropAfterGrace(ws: WebSocket): void {
    this.graceTimers.push(this.s.clock.setTimeout(() => ws.terminate(), this.s.closeGraceMs));
  }

  private setState(next: State): void {
    if (this.state === next || this.state === 'closed') return;
    this.log.debug({ from: this.state, to: next }, 'legacy pair state');
    this.state = next;
    if (next === 'closed') {
      this.pinger.stop();
      for (const t of this.graceTimers.splice(0)) this.s.clock.clearTimeout(t);
    }
  }
}


function once(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => ws.once('close', () => resolve()));
}
