import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';

const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/**
 * The `seq` of an encoded frame, read without parsing it: `encodeFrame` always writes
 * `{"event":"…","seq":N,…`, and the event is a JSON string whose quotes inside are escaped.
 */
export function frameSeq(text: string): number | undefined {
  const head = '{"event":"';
  if (!text.startsWith(head)) return undefined;
  let i = head.length;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  const m = /^,"seq":(\d+)/.exec(text.slice(i + 1, i + 30));
  return m ? Number(m[1]) : undefined;
}

/**
 * One SSE stream dressed as the part of a `ws` WebSocket that `Connection` uses, so hello, resume,
 * replay, limits, liveness and drain work unchanged over it (docs/protocol.md §11):
 *
 * - `send(frame)` writes one event: `id: <seq>` when the frame has one, `data: <frame>`.
 * - `ping()` writes a comment (`: ka`), the keep-alive that stops a proxy's read timeout; its
 *   "pong" is the write reaching the kernel (a reader that stopped reading stalls it).
 * - `close(code)` writes `event: close` with `{code, reason}` and ends the response.
 * - The client's frames arrive through `receive()` (its POSTs) and its close through `peerClose()`.
 * - `bufferedAmount` is what Node holds unsent, for the slow-consumer limit.
 *
 * A reader that goes away ends the response: `close` with 1006, quietly (no `error` event).
 */
export class SseWire extends EventEmitter {
  readyState = OPEN;
  private code = 1006;
  private paused: Promise<void> | undefined;
  private unpause: (() => void) | undefined;

  constructor(
    private readonly res: ServerResponse,
    /** The key the client's POSTs carry. */
    readonly key: string,
  ) {
    super();
    res.on('close', () => {
      this.readyState = CLOSED;
      this.resume(); // POSTs waiting to be taken find the wire closed
      this.emit('close', this.code, Buffer.alloc(0));
    });
    // A write to a reader that went away fails; the 'close' above reports it.
    res.on('error', () => undefined);
  }

  get bufferedAmount(): number {
    return this.res.writableLength;
  }

  send(text: string, cb?: (err?: Error | null) => void): void {
    if (this.readyState !== OPEN) {
      cb?.(new Error('SSE stream is not open'));
      return;
    }
    const seq = frameSeq(text);
    this.res.write(`${seq === undefined ? '' : `id: ${seq}\n`}data: ${text}\n\n`, cb);
  }

  ping(data: Buffer): void {
    if (this.readyState !== OPEN) return;
    this.res.write(': ka\n\n', (err) => {
      if (!err) this.emit('pong', data);
    });
  }

  /** Server-side close: tell the reader the code, then end the stream. */
  close(code = 1000, reason = ''): void {
    if (this.readyState !== OPEN) return;
    this.readyState = CLOSING;
    this.code = code;
    this.res.end(`event: close\ndata: ${JSON.stringify({ code, reason })}\n\n`);
  }

  terminate(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSING;
    this.res.destroy();
  }

  /** Stop taking the client's frames (as a ws socket stops reading): `POST /api/sse/send` waits until `resume()`. */
  pause(): void {
    this.paused ??= new Promise<void>((resolve) => (this.unpause = resolve));
  }

  resume(): void {
    const go = this.unpause;
    this.paused = this.unpause = undefined;
    go?.();
  }

  /** Resolves when frames are taken again (at once unless paused). */
  whenReading(): Promise<void> {
    return this.paused ?? Promise.resolve();
  }

  /** Frames from the client's POST, each as a `message` (text, in order). */
  receive(frames: readonly string[]): void {
    for (const f of frames) {
      if (this.readyState !== OPEN) return;
      this.emit('message', Buffer.from(f, 'utf8'), false);
    }
  }

  /** The client closed (its `POST …/close`): `code` as a WebSocket peer's close would report it. */
  peerClose(code: number): void {
    if (this.readyState !== OPEN) return;
    this.readyState = CLOSING;
    this.code = code;
    this.res.end();
  }
}
