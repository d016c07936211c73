import { GATEWAY_OPTIONS } from '../src/config.js';
import { opt } from '../src/option-schema.js';

/** Default v2 frame limit, bytes (the gateway's `max_payload` default). */
export const DEFAULT_MAX_PAYLOAD = 65536;

const G = GATEWAY_OPTIONS;

/** The options of `wsgate legacy`, declared once with the gateway's machinery (shared options keep their type and bounds). */
export const LEGACY_OPTIONS = {
  /** TCP port to listen on (0: any free port). Required. */
  port: { ...G.port, default: undefined, required: true },
  /** Address to bind. */
  host: G.host,
  /** The gateway's v3 endpoint, `ws(s)://host:port/api/ws`. Required. */
  upstream: opt.string({
    required: true,
    placeholder: 'URL',
    help: "the gateway's v3 endpoint, ws:// or wss://",
    check: (v) => (/^wss?:\/\/[^/]/.test(v) ? undefined : `--upstream: expected a ws:// or wss:// URL, got ${JSON.stringify(v)}`),
  }),
  /** Longest silence on a v2 leg before the adapter pings it, seconds (0: never). */
  pingInterval: { ...G.pingInterval, help: 'longest silence on a v2 leg before the adapter pings (0: never)' },
  /** Wait for the pong to the adapter's own ping, seconds. */
  pingTimeout: { ...G.pingTimeout, help: "wait for the pong to the adapter's own ping" },
  /** Largest v2 frame accepted, bytes. */
  maxPayload: { ...G.maxPayload, default: DEFAULT_MAX_PAYLOAD, help: 'largest v2 frame accepted (bigger: close 1009)' },
  /** Allowed `Origin`s. */
  allowedOrigins: G.allowedOrigins,
  /** Open v2 connections; more get 503 before the upgrade (0: no bound). */
  maxConnections: G.maxConnections,
  /** Open v2 connections per client address; more get 429 (0: no bound). */
  maxConnectionsPerIp: G.maxConnectionsPerIp,
  /** Proxies whose X-Forwarded-For names the client, for the per-address bound. */
  trustProxy: G.trustProxy,
  /** pino log level. */
  logLevel: G.logLevel,
};
