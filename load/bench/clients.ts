import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import type { BenchKind } from './servers.js';

/** One benchmark client, whatever the server speaks. */
export interface BenchConn {
  /** One echo round trip. */
  echo(): Promise<void>;
  /** Called with the server's send time (ms) of each fan-out message. */
  onFanout(cb: (sentAt: number) => void): void;
  close(): void;
}

function once<T>(register: (resolve: (v: T) => void) => void, ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('bench client: timed out')), ms);
    register((v) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

async function rawWs(port: number): Promise<BenchConn> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  await once<void>((r) => ws.once('open', () => r()));
  let waiter: (() => void) | undefined;
  let fan: ((t: number) => void) | undefined;
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { echo?: boolean; t: number };
    if (m.echo) waiter?.();
    else fan?.(m.t);
  });
  return {
    echo: () => once<void>((r) => {
      waiter = r;
      ws.send(JSON.stringify({ echo: true, t: Date.now() }));
    }),
    onFanout: (cb) => (fan = cb),
    close: () => ws.terminate(),
  };
}

async function socketIo(port: number): Promise<BenchConn> {
  const s: Socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false, forceNew: true });
  await once<void>((r) => s.once('connect', () => r()));
  return {
    echo: () => once<void>((r) => {
      s.once('echo', () => r());
      s.emit('echo', { t: Date.now() });
    }),
    onFanout: (cb) => s.on('msg', (m: { t: number }) => cb(m.t)),
    close: () => s.disconnect(),
  };
}

async function wsgate(port: number): Promise<BenchConn> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, { perMessageDeflate: false });
  await once<void>((r) => ws.once('open', () => r()));
  const handlers = new Map<string, (payload: Record<string, unknown>) => void>();
  ws.on('message', (data) => {
    const f = JSON.parse(String(data)) as { event: string; payload?: Record<string, unknown> };
    handlers.get(f.event)?.(f.payload ?? {});
  });
  const ready = once<void>((r) => handlers.set('channel/subscribed', () => r()));
  handlers.set('system/init', () => ws.send(JSON.stringify({ event: 'channel/subscribe', payload: { channel: 'bench' } })));
  ws.send(JSON.stringify({ event: 'client/hello', payload: { profile: { name: 'bench' } } }));
  await ready;
  let waiter: (() => void) | undefined;
  handlers.set('bench/echo', () => waiter?.());
  return {
    echo: () => once<void>((r) => {
      waiter = r;
      ws.send(JSON.stringify({ event: 'bench/echo', payload: { t: Date.now() } }));
    }),
    onFanout: (cb) => handlers.set('channel/message', (p) => cb((p.data as { t: number }).t)),
    close: () => ws.terminate(),
  };
}

/** Connect one client of the given kind. */
export function connectBench(kind: BenchKind, port: number): Promise<BenchConn> {
  return { ws: rawWs, socketio: socketIo, wsgate }[kind](port);
}
