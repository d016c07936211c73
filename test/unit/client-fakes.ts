/**
 * Test doubles for the client SDK's unit tests: the shared manual clock (it can throttle like a hidden
 * Chrome tab) and a scriptable WebSocket. No sockets, no real timers.
 */
import type { NetworkSource, VisibilitySource, WebSocketLike } from '../../src/client/environment.js';
import type { Frame } from '../../src/protocol/events.js';

export { ManualClock } from '../support/manual-clock.js';

/** A WebSocket driven by the test: `open()`, `receive(frame)`, `drop(code)`. */
export class FakeSocket implements WebSocketLike {
  static instances: FakeSocket[] = [];
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  /** Frames the client sent, decoded. */
  readonly sent: Frame[] = [];
  closedWith: { code?: number; reason?: string } | undefined;

  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }

  static reset(): void {
    FakeSocket.instances = [];
  }

  static get last(): FakeSocket {
    const s = FakeSocket.instances[FakeSocket.instances.length - 1];
    if (!s) throw new Error('no socket was created');
    return s;
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.sent.push(JSON.parse(data) as Frame);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 2;
  }

  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(frame: Frame): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }

  /** The server (or network) ends the socket. */
  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** Sent frames of one event. */
  of(event: string): Frame[] {
    return this.sent.filter((f) => f.event === event);
  }
}

/** A `system/init` payload. */
export function init(over: Record<string, unknown> = {}): Frame {
  return {
    event: 'system/init',
    payload: {
      session_id: 's1',
      resume_token: 't1',
      resumed: false,
      protocol: 3,
      room: 'main',
      ping_interval: 10,
      heartbeat_interval: 0,
      session_ttl: 120,
      sessions: [],
      ...over,
    },
  };
}

/** A visibility source the test flips. */
export class FakeVisibility implements VisibilitySource {
  hidden = false;
  private fns = new Set<() => void>();
  isHidden(): boolean {
    return this.hidden;
  }
  onChange(fn: () => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  set(hidden: boolean): void {
    this.hidden = hidden;
    for (const fn of this.fns) fn();
  }
}

/** A network source the test fires. */
export class FakeNetwork implements NetworkSource {
  private fns = new Set<() => void>();
  onOnline(fn: () => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  online(): void {
    for (const fn of this.fns) fn();
  }
}
