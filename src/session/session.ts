import { EncodedPayload, encodeFrame, encodeFrameRaw } from '../protocol/codec.js';
import type { TimerHandle } from '../time/clock.js';
import type { Profile } from '../protocol/events.js';
import { DedupWindow } from './dedup-window.js';
import { ReplayBuffer } from './replay-buffer.js';

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

/** Session lifecycle states. */
export type SessionState = 'connected' | 'disconnected' | 'ended';

/** Limits a session is created with (from GatewayOptions). */
export interface SessionLimits {
  bufferMaxMessages: number;
  bufferMaxBytes: number;
  dedupWindow: number;
  /** Observer for every stream message sent (metrics). */
  onSend?: (event: string) => void;
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
  readonly buffer: ReplayBuffer;
  readonly dedup: DedupWindow;
  /** Channel names subscribed to. */
  readonly subscriptions = new Set<string>();
  /** Expiry timer while disconnected (a handle of the gateway's Clock). */
  expiry: TimerHandle | undefined;
  /** Clock time (ms) of the last disconnect, for `GET /api/sessions`. */
  disconnectedAt = 0;

  constructor(
    readonly id: string,
    /** Secret, compared in constant time. */
    readonly resumeToken: string,
    readonly room: string,
    readonly profile: Profile,
    /** false: the session ends with its connection (v2 clients, fire-and-forget clients). */
    readonly resumable: boolean,
    limits: SessionLimits,
    /** Clock time (ms) the session was created, for `GET /api/sessions`. */
    readonly createdAt: number,
  ) {
    this.buffer = new ReplayBuffer(limits.bufferMaxMessages, limits.bufferMaxBytes);
    this.dedup = new DedupWindow(limits.dedupWindow);
    this.onSend = limits.onSend;
  }

  private readonly onSend: ((event: string) => void) | undefined;

  /**
   * Send a stream message: it gets the next seq, is kept for replay until acked, and is written
   * now if connected (buffered otherwise). Returns the seq. Pass an EncodedPayload when the same
   * payload goes to many sessions. Does nothing once the session ended.
   */
  send(event: string, payload?: unknown, id?: string): number {
    if (this.state === 'ended') return -1;
    const seq = ++this.seq;
    let text: string;
    if (payload instanceof EncodedPayload) text = id === undefined ? payload.frame(event, seq) : encodeFrameRaw(event, seq, id, payload.json);
    else text = encodeFrame({ event, seq, id, payload });
    this.buffer.push(seq, text);
    this.link?.sendStream(seq, text);
    this.onSend?.(event);
    return seq;
  }

  /** Write a transient frame (no seq, never replayed): system/init, system/heartbeat, system/disconnect. */
  sendTransient(event: string, payload?: unknown): void {
    this.link?.sendText(encodeFrame({ event, payload }));
  }

  get isConnected(): boolean {
    return this.state === 'connected';
  }
}
