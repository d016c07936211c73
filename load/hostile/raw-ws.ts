/**
 * A WebSocket client with no manners, for the fuzz scenario: it writes the handshake and every
 * frame byte by byte itself, so it can send what a well-behaved library refuses to — invalid
 * close codes, reserved opcodes and bits, unmasked or fragmented control frames, invalid UTF-8,
 * frames of any size. It reads just enough of the server's frames to find text and the close.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** Options of one frame. Defaults: FIN set, masked (as a client must), no RSV bits. */
export interface FrameOptions {
  fin?: boolean;
  mask?: boolean;
  rsv?: number;
}

/** Encode one client→server frame. */
export function encodeFrame(opcode: number, payload: Buffer, o: FrameOptions = {}): Buffer {
  const fin = o.fin ?? true;
  const mask = o.mask ?? true;
  const len = payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | (opcode & 0x0f)];
  const m = mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 0xff);
  else {
    head.push(m | 127, 0, 0, 0, 0);
    head.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = randomBytes(4);
  const body = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ key[i & 3]!;
  return Buffer.concat([Buffer.from(head), key, body]);
}

/** What the server did on one raw connection. */
export interface RawOutcome {
  /** HTTP status of the handshake answer (101 when upgraded), 0 if none came. */
  status: number;
  /** Close code the server sent, 0 if none (or the TCP connection just ended). */
  closeCode: number;
}

/**
 * One raw connection: `open()` writes the handshake and resolves with the status line; then
 * `send` frames, `waitText` for a server message, and `done` resolves when the socket is gone.
 */
export class RawWs {
  readonly socket: Socket;
  readonly outcome: RawOutcome = { status: 0, closeCode: 0 };
  readonly done: Promise<RawOutcome>;
  private buf: Buffer = Buffer.alloc(0);
  private upgraded = false;
  private texts: string[] = [];
  private wake: (() => void) | undefined;
  private onStatus: ((status: number) => void) | undefined;

  constructor(port: number, host: string, localAddress: string | undefined) {
    this.socket = connect({ port, host, localAddress });
    this.socket.setNoDelay(true);
    this.done = new Promise((resolve) => {
      this.socket.on('close', () => {
        this.onStatus?.(this.outcome.status);
        this.wake?.();
        resolve(this.outcome);
      });
    });
    this.socket.on('error', () => undefined);
    this.socket.on('data', (d: Buffer) => this.onData(d));
  }

  /** Write a handshake request (path, extra or replacing headers) and wait for the status line (0: none within `ms`). */
  open(path: string, headers: string[], ms = 5000): Promise<number> {
    const key = randomBytes(16).toString('base64');
    const lines = [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13', ...headers];
    this.socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(this.outcome.status), ms);
      this.onStatus = (s) => {
        clearTimeout(t);
        resolve(s);
      };
    });
  }

  get isOpen(): boolean {
    return this.upgraded && !this.socket.destroyed && this.socket.writable;
  }

  /** Write one frame; false when the socket can no longer take it. */
  send(opcode: number, payload: Buffer | string, o?: FrameOptions): boolean {
    if (!this.isOpen) return false;
    this.socket.write(encodeFrame(opcode, typeof payload === 'string' ? Buffer.from(payload) : payload, o));
    return true;
  }

  /** Write raw bytes (a frame cut in half, garbage after the handshake). */
  write(bytes: Buffer): boolean {
    if (!this.isOpen) return false;
    this.socket.write(bytes);
    return true;
  }

  /** The next text message from the server matching `pred`, or undefined after `ms` or when the socket closed. */
  async waitText(pred: (t: string) => boolean, ms = 2000): Promise<string | undefined> {
    const end = Date.now() + ms;
    for (;;) {
      const i = this.texts.findIndex(pred);
      if (i >= 0) return this.texts.splice(0, i + 1).pop();
      this.texts = [];
      const left = end - Date.now();
      if (left <= 0 || this.socket.destroyed) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Drop the TCP connection. */
  kill(): void {
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    if (!this.upgraded) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(this.buf.subarray(0, 16).toString('latin1'));
      this.outcome.status = m ? Number(m[1]) : 0;
      this.upgraded = this.outcome.status === 101;
      this.buf = this.buf.subarray(end + 4);
      this.onStatus?.(this.outcome.status);
      this.onStatus = undefined;
      if (!this.upgraded) return;
    }
    this.readFrames();
  }

  /** Server frames are never masked: 2–10 bytes of header, then the payload. */
  private readFrames(): void {
    for (;;) {
      if (this.buf.length < 2) return;
      const op = this.buf[0]! & 0x0f;
      let len = this.buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        at = 10;
      }
      if (this.buf.length < at + len) return;
      const payload = this.buf.subarray(at, at + len);
      this.buf = this.buf.subarray(at + len);
      if (op === 0x1 && this.texts.length < 256) this.texts.push(payload.toString());
      if (op === 0x8) this.outcome.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      if (op === 0x1 || op === 0x8) this.wake?.();
    }
  }
}
