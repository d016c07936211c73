import WebSocket from 'ws';
import type { Frame } from '../../src/protocol/events.js';

/** A received frame with its arrival time. */
export interface Received extends Frame {
  at: number;
}

/**
 * A real `ws` client for tests: collects every frame, lets a test wait for the next one of an
 * event, counts ping frames, and can stop answering pings (a dead peer whose TCP stays up).
 */
export class TestClient {
  readonly frames: Received[] = [];
  readonly pings: Buffer[] = [];
  closed: Promise<{ code: number; reason: string; at: number }>;
  private waiters: { match: (f: Received) => boolean; resolve: (f: Received) => void }[] = [];
  private cursor = 0;
  private opened: Promise<void>;

  constructor(
    readonly url: string,
    opts: { answerPings?: boolean; headers?: Record<string, string>; origin?: string; localAddress?: string } = {},
  ) {
    this.ws = new WebSocket(url, { autoPong: opts.answerPings ?? true, headers: opts.headers, origin: opts.origin, localAddress: opts.localAddress });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    this.closed = new Promise((resolve) => this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString(), at: Date.now() })));
    this.ws.on('ping', (data) => this.pings.push(data));
    this.ws.on('error', () => undefined);
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const frame = { ...(JSON.parse(data.toString()) as Frame), at: Date.now() };
      this.frames.push(frame);
      const i = this.waiters.findIndex((w) => w.match(frame));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(frame);
    });
  }

  readonly ws: WebSocket;

  open(): Promise<void> {
    return this.opened;
  }

  /** Send a raw text frame. */
  raw(text: string): void {
    this.ws.send(text);
  }

  send(event: string, payload?: unknown, id?: string): void {
    this.ws.send(JSON.stringify({ event, ...(payload !== undefined ? { payload } : {}), ...(id !== undefined ? { id } : {}) }));
  }

  /** The next frame (after the last one `next` returned) matching `event`, waiting up to `ms`. */
  next(event?: string | ((f: Received) => boolean), ms = 3000): Promise<Received> {
    const match = typeof event === 'function' ? event : (f: Received) => event === undefined || f.event === event;
    for (let i = this.cursor; i < this.frames.length; i++) {
      if (match(this.frames[i]!)) {
        this.cursor = i + 1;
        return Promise.resolve(this.frames[i]!);
      }
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${typeof event === 'string' ? event : 'matching frame'} within ${ms} ms; got ${this.frames.map((f) => f.event).join(', ')}`)), ms);
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          this.cursor = this.frames.indexOf(f) + 1;
          resolve(f);
        },
      });
    });
  }

  /** Frames of one event received so far. */
  all(event: string): Received[] {
    return this.frames.filter((f) => f.event === event);
  }

  /** Open, send client/hello, wait for system/init; returns its payload. */
  async hello(payload: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    await this.open();
    this.send('client/hello', payload);
    const init = await this.next('system/init');
    return init.payload as Record<string, unknown>;
  }

  /** Highest seq received. */
  get lastSeq(): number {
    return this.frames.reduce((m, f) => (typeof f.seq === 'number' && f.seq > m ? f.seq : m), 0);
  }

  close(code = 1000): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
  }

  /** Drop the TCP connection without a close frame. */
  kill(): void {
    this.ws.terminate();
  }
}

/** Wait `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
