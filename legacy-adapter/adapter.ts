import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { pino, type Logger } from 'pino';
import { validate } from '../src/option-schema.js';
import { systemClock, type Clock } from '../src/time/clock.js';
import { parseRequestTarget } from '../src/index.js';
import { LegacyPair, type LegacyObserver, type PairSettings } from './legacy-pair.js';
import { DEFAULT_MAX_PAYLOAD, LEGACY_OPTIONS } from './options.js';

export { DEFAULT_MAX_PAYLOAD };

/** Options of one legacy adapter. Times are seconds, sizes bytes. */
export interface LegacyAdapterOptions {
  /** The gateway's v3 endpoint, `ws(s)://host:port/api/ws`; a function is asked on each new v2 client. */
  upstream: string | (() => string);
  /** Longest silence on a v2 leg before the adapter pings it itself, seconds. 0: the adapter never pings. */
  pingInterval: number;
  /** Wait for the pong to one of the adapter's own pings, seconds. */
  pingTimeout: number;
  /** pino logger. Default: silent. */
  logger?: Logger;
  /** Largest v2 frame accepted, bytes; bigger → close 1009. Default 65536. */
  maxPayload?: number;
  /** v2 client send buffer above which it is closed 4102, bytes. Default 1 MiB. */
  maxBuffered?: number;
  /** Verify the upstream's TLS certificate. Default true. */
  rejectUnauthorized?: boolean;
  /** Time source for the adapter's own timers (tests). Default: the system clock. */
  clock?: Clock;
  /** Metrics hooks (mountLegacyAdapter wires them to the gateway's /metrics). */
  observer?: LegacyObserver;
}

/** A running legacy adapter: hand it `/ws` upgrades. */
export interface LegacyAdapter {
  /** Accept one v2 upgrade (`/ws?password=…&username=…[&room=…]`) and open its upstream v3 connection. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Close every pair (v2 clients get `system/disconnect` and 1001) and resolve once all sockets are closed. */
  close(): Promise<void>;
  /** v2 clients currently connected. */
  readonly connectionCount: number;
}

/** Longest close handshake before a socket is dropped, ms. */
const CLOSE_GRACE_MS = 1000;

/** Check the options once, at start; a bad one throws a ConfigError naming it as a flag. */
export function validateAdapterOptions(o: LegacyAdapterOptions): void {
  // The same declarations as `wsgate legacy`'s flags (legacy-adapter/options.ts), so both refuse the same values.
  const { upstream, pingInterval, pingTimeout, maxPayload } = LEGACY_OPTIONS;
  if (typeof o.upstream === 'string') validate({ upstream }, { upstream: o.upstream });
  validate({ pingInterval, pingTimeout, maxPayload }, { pingInterval: o.pingInterval, pingTimeout: o.pingTimeout, maxPayload: o.maxPayload ?? DEFAULT_MAX_PAYLOAD }, (v) =>
    v.pingInterval > 0 && v.pingTimeout === 0 ? '--ping-timeout: expected a number of seconds > 0 while --ping-interval is on, got 0' : undefined,
  );
}

/** Create a legacy adapter (docs/protocol.md §7): one upstream v3 connection per v2 client. */
export function createLegacyAdapter(options: LegacyAdapterOptions): LegacyAdapter {
  validateAdapterOptions(options);
  const logger = options.logger ?? pino({ level: 'silent' });
  const maxBuffered = options.maxBuffered ?? 1024 * 1024;
  const settings: Omit<PairSettings, 'upstream'> = {
    pingIntervalMs: options.pingInterval * 1000,
    pingTimeoutMs: options.pingTimeout * 1000,
    maxBuffered,
    maxQueued: maxBuffered,
    closeGraceMs: CLOSE_GRACE_MS,
    rejectUnauthorized: options.rejectUnauthorized ?? true,
    clock: options.clock ?? systemClock,
    logger,
    observer: options.observer,
  };
  const upstream = typeof options.upstream === 'function' ? options.upstream : () => options.upstream as string;
  // autoPong:false: a v2 client's pings are relayed upstream and answered by the gateway, not by us.
  const wss = new WebSocketServer({
    noServer: true,
    autoPong: false,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
  });
  const pairs = new Set<LegacyPair>();
  let closing = false;

  return {
    handleUpgrade(req, socket, head) {
      if (closing) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const query = parseRequestTarget(req.url)?.searchParams ?? new URLSearchParams();
      const forwarded = [req.headers['x-forwarded-for'], req.socket.remoteAddress].flat().filter(Boolean).join(', ');
      wss.handleUpgrade(req, socket, head, (ws) => {
        const peer = { password: query.get('password') ?? undefined, username: query.get('username') ?? undefined, room: query.get('room') ?? undefined, forwardedFor: forwarded };
        const pair = new LegacyPair(ws, peer, { ...settings, upstream: upstream() });
        pairs.add(pair);
        void pair.closed.then(() => pairs.delete(pair));
      });
    },
    async close() {
      closing = true;
      const all = [...pairs];
      for (const pair of all) pair.shutdown();
      await Promise.all(all.map((p) => p.closed));
      wss.close();
    },
    get connectionCount() {
      return pairs.size;
    },
  };
}
