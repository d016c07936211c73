import { EncodedPayload, encodeFrame, encodeFrameRaw, encodePayload, encodeStreamFrame } from '../protocol/codec.js';
import type { TimerHandle } from '../time/clock.js';
import type { Profile } from '../protocol/events.js';
import type { Grants } from '../auth/grants.js';
import { DedupWindow } from './dedup-window.js';
import { ReplayBuffer, type HeldFrame, type SharedFrame } from './replay-buffer.js';
import { SmallSet } from './small-set.js';

/** The narrow view of a live connection a session needs. */
export interface SessionLink {
  /** Write an encoded transient frame to the socket (no-op when it is closing). */
  sendText(text: string): void;
  /** Write an encoded stream frame (it is already in the replay buffer). */
  sendStream(seq: number, text: string): void;
  /** Close the connection (after `system/disconnect`). */
  close(code: number, message: string): void;
  /** Drop the socket without a close handshake. */
  terminate(): void;
  /** Hold writes until `uncork` (optional): a burst of frames to one client then leaves in one system call. */
  cork?(): void;
  /** Write what was held since `cork`. */
  uncork?(): void;
}

/**
 * Where a session's stream messages go when a store shared by several processes (Redis) numbers
 * and keeps them; the numbered frames come back through `Session.accept`, in seq order.
 */
export interface StreamSink {
  send(session: Session, event: string, payloadJson: string | undefined, id: string | undefined): void;
}

/** Session lifecycle states. */
export type SessionState = 'connected' | 'disconnected' | 'ended';

/** Limits a session is created with (from GatewayOptions). */
export interface SessionLimits {
  bufferMaxMessages: number;
  bufferMaxBytes: number;
  dedupWindow: number;
  /** Observer for every stream message sent (metrics). */
  onSend?: (event: string) => void;
  /** Called after a message was queued while no connection is attached (the disconnected budget). */
  onHeld?: (session: Session) => void;
}

/**
 * One client's session: outlives its connection for `session_ttl`. Owns the seq counter, the
 * replay buffer of un-acked messages, the dedup window and the subscriptions. Knows nothing of
 * sockets or HTTP: it writes through a SessionLink.
 */
export class Session {
  /** Last seq assigned; the next message gets seq + 1. */
  seq = 0;
  state: SessionState = 'connected';
  link: SessionLink | undefined;
  /** Channel names subscribed to. */
  readonly subscriptions = new SmallSet<string>();
  /** Expiry timer while disconnected (a handle of the gateway's Clock). */
  expiry: TimerHandle | undefined;
  /** Clock time (ms) of the last disconnect, for `GET /api/sessions`. */
  disconnectedAt = 0;
  /** Who the hello's JWT said the client is (`sub`) and what it may do; undefined without JWT. Renewed by a resume. */
  auth: { userId: string; grants: Grants } | undefined;
  /** Bytes of the profile's JSON (set by the session service), counted in the disconnected budget. */
  profileBytes = 0;
  /** Set when a shared store numbers this session's messages (see StreamSink); undefined: numbered here. */
  sink: StreamSink | undefined;

  constructor(
    readonly id: string,
    /** Secret, compared in constant time. */
    readonly resumeToken: string,
    readonly room: string,
    readonly profile: Profile,
    /** false: the session ends with its connection (v2 clients, fire-and-forget clients). */
    readonly resumable: boolean,
    /** Shared by every session of a gateway (bounds and hooks are read from it, not copied per session). */
    private readonly limits: SessionLimits,
    /** Clock time (ms) the session was created, for `GET /api/sessions`. */
    readonly createdAt: number,
  ) {}

  // Made when first needed and let go when empty: an idle session with everything acked holds neither.
  private replay: ReplayBuffer | undefined;
  private dedupWindow: DedupWindow | undefined;

  /** The un-acked stream messages (an empty shared buffer while there are none). */
  get buffer(): ReplayBuffer {
    return this.replay ?? EMPTY_BUFFER;
  }

  /** The client message ids processed lately. */
  get dedup(): DedupWindow {
    return (this.dedupWindow ??= new DedupWindow(this.limits.dedupWindow));
  }

  /** The client has every message up to `seq`: they leave the replay buffer (and the buffer goes once empty). */
  ack(seq: number): void {
    const b = this.replay;
    if (b === undefined) return;
    b.ack(seq);
    if (b.length === 0) this.replay = undefined;
  }

  private keep(seq: number, text: string | SharedFrame): void {
    (this.replay ??= new ReplayBuffer(this.limits.bufferMaxMessages, this.limits.bufferMaxBytes)).push(seq, text);
  }

  /**
   * Send a stream message: it gets the next seq, is kept for replay until acked, and is written
   * now if connected (buffered otherwise). Returns the seq. Pass an EncodedPayload when the same
   * payload goes to many sessions. Does nothing once the session ended.
   */
  send(event: string, payload?: unknown, id?: string): number {
    if (this.state === 'ended') return -1;
    // Encoded before a seq is taken (here or by a shared store): a payload JSON cannot express (a BigInt, a
    // throwing toJSON, a cycle) throws here, and the session's seq has no hole that a later resume would trip over.
    if (this.sink) {
      // Numbered by the shared store; the seq is not known yet (0).
      this.sink.send(this, event, payload instanceof EncodedPayload ? payload.json : encodePayload(payload), id);
      this.limits.onSend?.(event);
      return 0;
    }
    const seq = this.seq + 1;
    // A fan-out's frames differ only in seq: spliced from the payload's cached head and tail. Any other frame is
    // one JSON.stringify of the whole envelope (one flat string, no separate payload text to splice).
    const text = payload instanceof EncodedPayload
      ? (id === undefined ? payload.frame(event, seq) : encodeFrameRaw(event, seq, id, payload.json))
      : encodeStreamFrame(event, seq, id, payload);
    this.seq = seq;
    this.keep(seq, text);
    if (this.link) this.link.sendStream(seq, text);
    else if (this.state === 'disconnected') this.limits.onHeld?.(this);
    this.limits.onSend?.(event);
    return seq;
  }

  /**
   * Send a fan-out's frame (see SharedFrame): like `send(event, payload)`, but the replay buffer keeps the shared
   * frame, not a text of its own; the text made for the socket is garbage once written.
   */
  sendShared(event: string, payload: EncodedPayload, frame: SharedFrame): number {
    if (this.state === 'ended') return -1;
    if (this.sink) return this.send(event, payload);
    const seq = ++this.seq;
    this.keep(seq, frame);
    if (this.link) this.link.sendStream(seq, frame.text(seq));
    else if (this.state === 'disconnected') this.limits.onHeld?.(this);
    this.limits.onSend?.(event);
    return seq;
  }

  /** A frame numbered by the shared store, offered in seq order: kept for replay, written if connected. */
  accept(seq: number, frame: HeldFrame): void {
    if (this.state === 'ended') return;
    this.seq = seq;
    this.keep(seq, frame);
    this.link?.sendStream(seq, typeof frame === 'string' ? frame : frame.text(seq));
  }

  /** Write a transient frame (no seq, never replayed): system/init, system/heartbeat, system/disconnect. */
  sendTransient(event: string, payload?: unknown): void {
    this.link?.sendText(encodeFrame({ event, payload }));
  }

  get isConnected(): boolean {
    return this.state === 'connected';
  }
}

/** What `Session.buffer` shows while a session holds nothing: nothing is ever pushed to it (`keep` makes a real one). */
const EMPTY_BUFFER = new ReplayBuffer(0, 0);
