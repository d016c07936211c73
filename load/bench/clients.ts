import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import type { BenchKind } from './servers.js';

/** How a bench client connects. */
export interface ConnectOptions {
  /** Source address (127.0.0.x): one per client process, so 18,000 connections do not run out of ports. */
  localAddress: string;
  /** wsgate: the room named in the hello; undefined joins the default room. Ignored by the others. */
  room: string | undefined;
  /** Subscribe to `bench` (the fan-out target) after the hello. */
  subscribe: boolean;
}

/** One benchmark client, whatever the server speaks. Ready (hello answered, subscribed if asked) once returned. */
export interface BenchConn {
  /** ms from sending the hello to receiving the init, for the last (re)connect. */
  helloToInitMs: number;
  /** Payload bytes received so far (frames' text; framing not counted). */
  bytes: number;
  /** One echo round trip. */
  echo(): Promise<void>;
  /** Called with the server's send time (ms since the epoch) of each fan-out message. */
  onFanout(cb: (sentAt: number) => void): void;
  /** Drop the socket as a dead network would and connect again at once (wsgate: resume). Resolves when ready. */
  reconnect(): Promise<void>;
  close(): void;
}

const nowMs = (): number => performance.timeOrigin + performance.now();

/** How long any bench client waits for a connect or an answer. */
const CONNECT_TIMEOUT_MS = 60_000;

function deadline<T>(register: (resolve: (v: T) => void, reject: (e: Error) => void) => void, ms = CONNECT_TIMEOUT_MS): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('bench client: timed out')), ms);
    register(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

const PRESENCE_PREFIX = Buffer.from('{"event":"room/presence"');

/** A `ws` client speaking JSON frames `{event, ...}`; `handle` sees each parsed frame. */
function openWs(url: string, o: ConnectOptions, counter: { bytes: number }, handle: (f: Record<string, unknown>) => void): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false, localAddress: o.localAddress });
  ws.on('message', (data: Buffer) => {
    counter.bytes += data.length;
    // A big room's counts (wsgate's room/presence, twice a second to every member) are counted, not parsed: the
    // bench acts on none of them, and 5,000 clients parsing them saturated a client process in the join.
    if (data.length > PRESENCE_PREFIX.length && data.subarray(0, PRESENCE_PREFIX.length).equals(PRESENCE_PREFIX)) return;
    handle(JSON.parse(String(data)) as Record<string, unknown>);
  });
  return deadline((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

class RawWsConn implements BenchConn {
  helloToInitMs = 0;
  bytes = 0;
  private ws: WebSocket | undefined;
  private waiters = new Map<string, () => void>();
  private fan: ((t: number) => void) | undefined;

  constructor(private readonly port: number, private readonly o: ConnectOptions) {}

  async open(): Promise<void> {
    this.ws = await openWs(`ws://127.0.0.1:${this.port}/`, this.o, this, (f) => {
      if (f.event === 'msg') this.fan?.(f.t as number);
      else this.waiters.get(f.event as string)?.();
    });
    const t = nowMs();
    await this.request('init', '{"event":"hello"}');
    this.helloToInitMs = nowMs() - t;
    if (this.o.subscribe) await this.request('subscribed', '{"event":"sub","channel":"bench"}');
  }

  private request(answer: string, text: string): Promise<void> {
    return deadline((r) => {
      this.waiters.set(answer, r);
      this.ws!.send(text);
    });
  }

  echo = (): Promise<void> => this.request('echo', `{"event":"echo","t":${Date.now()}}`);
  onFanout(cb: (t: number) => void): void {
    this.fan = cb;
  }
  async reconnect(): Promise<void> {
    this.ws?.terminate();
    await this.open();
  }
  close(): void {
    this.ws?.terminate();
  }
}

class SocketIoConn implements BenchConn {
  helloToInitMs = 0;
  bytes = 0;
  private s: Socket | undefined;
  private fan: ((t: number) => void) | undefined;

  constructor(private readonly port: number, private readonly o: ConnectOptions) {}

  async open(): Promise<void> {
    // `timeout`: Socket.IO's client gives up a connect after 20 s by default; in a storm of 10,000 on a busy machine
    // every handshake finishes late together, so they all failed (0 ready). The same 60 s as every other client.
    const s = io(`http://127.0.0.1:${this.port}`, {
      transports: ['websocket'], reconnection: false, forceNew: true, timeout: CONNECT_TIMEOUT_MS, localAddress: this.o.localAddress,
    } as never);
    this.s = s;
    s.io.on('open', () => s.io.engine.on('packet', (p: { data?: unknown }) => (this.bytes += typeof p.data === 'string' ? p.data.length : 0)));
    s.on('msg', (m: { t: number }) => this.fan?.(m.t));
    await deadline<void>((r, reject) => {
      s.once('connect', () => r());
      s.once('connect_error', reject);
    });
    const t = nowMs();
    await this.request('init', 'hello');
    this.helloToInitMs = nowMs() - t;
    if (this.o.subscribe) await this.request('subscribed', 'sub');
  }

  private request(answer: string, event: string, payload: unknown = {}): Promise<void> {
    return deadline((r) => {
      this.s!.once(answer, () => r());
      this.s!.emit(event, payload);
    });
  }

  echo = (): Promise<void> => this.request('echo', 'echo', { t: Date.now() });
  onFanout(cb: (t: number) => void): void {
    this.fan = cb;
  }
  async reconnect(): Promise<void> {
    // Socket.IO's own reconnection waits a backoff first; a new socket at once is the fair storm.
    this.s?.io.engine?.close();
    this.s?.disconnect();
    await this.open();
  }
  close(): void {
    this.s?.disconnect();
  }
}

/** Acks like the SDK does: after 50 un-acked messages or 1 s, whichever comes first. */
const ACK_EVERY = 50;
const ACK_DELAY_MS = 1000;

class WsgateConn implements BenchConn {
  helloToInitMs = 0;
  bytes = 0;
  private ws: WebSocket | undefined;
  private waiters = new Map<string, () => void>();
  private fan: ((t: number) => void) | undefined;
  private resume: { session_id: string; resume_token: string } | undefined;
  private lastSeq = 0;
  private ackedSeq = 0;
  private ackTimer: NodeJS.Timeout | undefined;

  constructor(private readonly port: number, private readonly o: ConnectOptions) {}

  async open(): Promise<void> {
    this.ws = await openWs(`ws://127.0.0.1:${this.port}/api/ws`, this.o, this, (f) => this.onFrame(f));
    const hello = {
      ...(this.o.room !== undefined ? { room: this.o.room } : {}),
      profile: { name: 'bench' },
      ...(this.resume ? { resume: { ...this.resume, last_seq: this.lastSeq } } : {}),
    };
    const t = nowMs();
    const init = await this.request('system/init', { event: 'client/hello', payload: hello });
    this.helloToInitMs = nowMs() - t;
    if (init.resumed === true) return; // the session kept its subscription
    this.lastSeq = this.ackedSeq = 0;
    this.resume = { session_id: init.session_id as string, resume_token: init.resume_token as string };
    if (this.o.subscribe) await this.request('channel/subscribed', { event: 'channel/subscribe', payload: { channel: 'bench' } });
  }

  private onFrame(f: Record<string, unknown>): void {
    const p = (f.payload ?? {}) as Record<string, unknown>;
    if (typeof f.seq === 'number') this.seen(f.seq);
    if (f.event === 'channel/message') this.fan?.((p.data as { t: number }).t);
    else if (f.event === 'system/heartbeat') this.ws?.send('{"event":"client/heartbeat"}');
    else (this.waiters.get(f.event as string) as ((p: Record<string, unknown>) => void) | undefined)?.(p);
  }

  private seen(seq: number): void {
    if (seq <= this.lastSeq) return;
    this.lastSeq = seq;
    if (this.lastSeq - this.ackedSeq >= ACK_EVERY) this.flushAck();
    else this.ackTimer ??= setTimeout(() => this.flushAck(), ACK_DELAY_MS);
  }

  private flushAck(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.ws?.readyState !== WebSocket.OPEN || this.lastSeq === this.ackedSeq) return;
    this.ackedSeq = this.lastSeq;
    this.ws.send(`{"event":"client/ack","payload":{"seq":${this.lastSeq}}}`);
  }

  private request(answer: string, frame: unknown): Promise<Record<string, unknown>> {
    return deadline((r) => {
      this.waiters.set(answer, r as () => void);
      this.ws!.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    });
  }

  // As minimal as the raw ws client's echo: a template string, no extra async wrapper (the answer is not read).
  echo = (): Promise<void> => this.request('bench/echo', `{"event":"bench/echo","payload":{"t":${Date.now()}}}`) as Promise<unknown> as Promise<void>;
  onFanout(cb: (t: number) => void): void {
    this.fan = cb;
  }
  async reconnect(): Promise<void> {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.ws?.terminate();
    await this.open();
  }
  close(): void {
    clearTimeout(this.ackTimer);
    this.ws?.terminate();
  }
}

/** Connect one client of the given kind; resolves once it is ready. */
export async function connectBench(kind: BenchKind, port: number, o: ConnectOptions): Promise<BenchConn> {
  const c = kind === 'ws' ? new RawWsConn(port, o) : kind === 'socketio' ? new SocketIoConn(port, o) : new WsgateConn(port, o);
  await c.open();
  return c;
}
