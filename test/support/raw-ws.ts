import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** Frame opcodes of RFC 6455 §5.2. */
export const Opcode = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

/** How to build one raw frame; every field defaults to a valid, masked, final frame. */
export interface RawFrame {
  opcode: number;
  payload: Buffer;
  fin?: boolean;
  /** Set RSV1-3 bits (0-7). */
  rsv?: number;
  /** false: send unmasked (a client must mask). */
  mask?: boolean;
}

/** Encode one client frame, as a hostile client may (any opcode, RSV bits, mask or not). */
export function encodeRawFrame(f: RawFrame): Buffer {
  const len = f.payload.length;
  const masked = f.mask ?? true;
  const head = [((f.fin ?? true) ? 0x80 : 0) | ((f.rsv ?? 0) << 4) | (f.opcode & 0x0f)];
  const m = masked ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126) head.push(m | len);
  else if (len < 65536) {
    head.push(m | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(len);
  } else {
    head.push(m | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(len));
  }
  if (!masked) return Buffer.concat([Buffer.from(head), ext, f.payload]);
  const key = randomBytes(4);
  const body = Buffer.from(f.payload.map((b, i) => b ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), ext, key, body]);
}

/**
 * A WebSocket client over a bare TCP socket: it does the upgrade by hand, then writes whatever bytes a test
 * gives it, and reads the server's (unmasked) frames: text messages and the close code.
 */
export class RawWsClient {
  readonly texts: string[] = [];
  /** The code of the server's close frame, or null when the socket ended without one. */
  readonly closed: Promise<number | null>;
  private buffered = Buffer.alloc(0);
  private upgraded = false;
  private closeCode: number | null = null;
  private waiters: (() => void)[] = [];

  private constructor(private readonly sock: Socket) {
    this.closed = new Promise((resolve) => sock.once('close', () => resolve(this.closeCode)));
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => this.onData(d));
  }

  /** Open `path` on 127.0.0.1:`port`; resolves after the 101 answer. */
  static async open(port: number, path = '/api/ws'): Promise<RawWsClient> {
    const sock = connect(port, '127.0.0.1');
    const client = new RawWsClient(sock);
    const key = randomBytes(16).toString('base64');
    sock.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await client.until(() => client.upgraded, 'the 101 answer');
    return client;
  }

  /** Send a valid masked text frame. */
  sendText(text: string): void {
    this.write(encodeRawFrame({ opcode: Opcode.Text, payload: Buffer.from(text) }));
  }

  /** Write raw bytes (one or more frames, valid or not). */
  write(bytes: Buffer): void {
    this.sock.write(bytes);
  }

  /** Wait for a text message matching `pred`. */
  async next(pred: (m: Record<string, unknown>) => boolean, what = 'a message'): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await this.until(() => {
      found = this.texts.map((t) => JSON.parse(t) as Record<string, unknown>).find(pred);
      return found !== undefined;
    }, what);
    return found!;
  }

  destroy(): void {
    this.sock.destroy();
  }

  private until(check: () => boolean, what: string, ms = 3000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`raw client: no ${what} within ${ms} ms`)), ms);
      const waiter = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      };
      this.waiters.push(waiter);
    });
  }

  private onData(d: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, d]);
    if (!this.upgraded) {
      const end = this.buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!this.buffered.subarray(0, 12).toString().includes('101')) return void this.sock.destroy();
      this.upgraded = true;
      this.buffered = this.buffered.subarray(end + 4);
    }
    this.readFrames();
    for (const w of [...this.waiters]) w();
  }

  private readFrames(): void {
    for (;;) {
      const b = this.buffered;
      if (b.length < 2) return;
      let len = b[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      if (b.length < at + len) return;
      const opcode = b[0]! & 0x0f;
      const payload = b.subarray(at, at + len);
      if (opcode === Opcode.Text) this.texts.push(payload.toString());
      if (opcode === Opcode.Close) this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : null;
      this.buffered = b.subarray(at + len);
    }
  }
}
