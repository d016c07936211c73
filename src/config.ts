import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkCaFile, checkRedisUrl } from './redis/redis-url.js';
import { parse as parseYaml } from 'yaml';
import {
  ConfigError,
  flagOf,
  fromEnv,
  fromObject,
  helpRows,
  opt,
  toKebab,
  toUpperSnake,
  validate,
  withMilliseconds,
  type OptionsOf,
  type ResolvedOf,
} from './option-schema.js';

export { ConfigError, toKebab, toUpperSnake };

/** pino's levels, for `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Every gateway option, once: type, unit, default, bounds and help. Its flag (`--kebab-case`), environment
 * variable (`WSGATE_UPPER_SNAKE`), config-file key (`snake_case`, as in the protocol), --help line, validation
 * and the GatewayOptions type are derived from this table. Times are seconds (fractions allowed), sizes bytes.
 */
export const GATEWAY_OPTIONS = {
  /** TCP port to listen on. Default 8080; 0 picks a free one. */
  port: opt.integer({ default: 8080, min: 0, max: 65535, placeholder: 'N', help: 'TCP port to listen on (0: any free port)' }),
  /** Address to bind. Default `0.0.0.0`. */
  host: opt.string({ default: '0.0.0.0', placeholder: 'ADDR', help: 'address to bind' }),
  /** Transport ping frame period, seconds. Default 10; 0 disables the transport layer. */
  pingInterval: opt.seconds({ default: 10, min: 0, help: 'transport ping frame period (0 disables)' }),
  /** Seconds to wait for a pong before terminating the socket. Default 10. */
  pingTimeout: opt.seconds({ default: 10, min: 0, help: 'pong wait before the socket is terminated' }),
  /** Application heartbeat period, seconds. Default 60; 0 disables the application layer. */
  heartbeatInterval: opt.seconds({ default: 60, min: 0, help: 'application heartbeat period (0 disables)' }),
  /** Seconds without any client message before close 4100. Default 2 × heartbeatInterval. */
  heartbeatTimeout: opt.seconds({ min: 0, defaultText: '2 x heartbeat-interval', help: 'silence before close 4100' }),
  /** Seconds a disconnected session stays resumable. Default 120. */
  sessionTtl: opt.seconds({ default: 120, min: 0, help: 'how long a disconnected session stays resumable' }),
  /** Seconds a new connection has to send `client/hello`. Default 5. */
  helloTimeout: opt.seconds({ default: 5, min: 0, help: 'time allowed for client/hello (then close 4101)' }),
  /** Largest accepted frame, bytes. Default 65536; bigger → close 1009. */
  maxPayload: opt.integer({ default: 65536, min: 64, unit: 'bytes', placeholder: 'BYTES', help: 'largest frame accepted (bigger: close 1009)' }),
  /** Malformed or unknown messages tolerated within 10 s before close 1008. Default 10. */
  maxErrors: opt.integer({ default: 10, min: 0, help: 'malformed/unknown messages tolerated per 10 s (then close 1008)' }),
  /** Replay buffer bound per session, messages. Default 1000. */
  bufferMaxMessages: opt.integer({ default: 1000, min: 1, help: 'replay buffer bound per session, messages' }),
  /** Replay buffer bound per session, bytes. Default 1 MiB. */
  bufferMaxBytes: opt.integer({ default: 1024 * 1024, min: 1024, unit: 'bytes', placeholder: 'BYTES', help: 'replay buffer bound per session' }),
  /** Client message ids remembered per session for dedup. Default 1024. */
  dedupWindow: opt.integer({ default: 1024, min: 1024, help: 'client message ids remembered per session' }),
  /** Messages kept per channel for recovery. Default 100. */
  historySize: opt.integer({ default: 100, min: 0, help: 'messages kept per channel for recovery' }),
  /** Seconds a channel's history is kept. Default 300. */
  historyTtl: opt.seconds({ default: 300, min: 0, help: 'how long channel history is kept' }),
  /**
   * Bytes all channels' history may hold together in memory; with --redis, the history one process may have added to
   * Redis (within history_ttl). 0: no bound. Default 128 MiB.
   */
  maxHistoryBytes: opt.integer({
    default: 128 * 1024 * 1024,
    min: 0,
    unit: 'bytes',
    placeholder: 'BYTES',
    help: "memory all channels' history may hold together (with --redis: what this process added to Redis); over it the oldest messages of any channel go first (0: no bound)",
  }),
  /** Members above which a room hears coalesced counts (`room/presence`) instead of per-member presence. Default 100. */
  presenceLimit: opt.integer({ default: 100, min: 1, help: 'room size above which members get counts, not one frame per join' }),
  /** Channels one session may subscribe to. Default 128. */
  maxSubscriptions: opt.integer({ default: 128, min: 1, help: 'channels per session' }),
  /** Socket send buffer, bytes, above which a connection is closed 4102 slow_consumer. Default 1 MiB. */
  maxBuffered: opt.integer({ default: 1024 * 1024, min: 1024, unit: 'bytes', placeholder: 'BYTES', help: 'send buffer above which a client is closed 4102' }),
  /** Client messages per second allowed per connection (burst: 2 s worth); 0 = unlimited. Default 0. */
  rateLimit: opt.number({ default: 0, min: 0, unit: 'msg/s', placeholder: 'N', help: 'client messages per second per connection (0: unlimited; over: close 4103)' }),
  /** May clients publish with `channel/publish`? Default true. */
  clientPublish: opt.boolean({ default: true, help: 'allow clients to publish with channel/publish' }),
  /** Allowed `Origin` values for upgrades (exact match, or `*`). Empty: same host as the Host header. */
  allowedOrigins: opt.list({ default: [], placeholder: 'A,B', defaultText: 'same host as Host header', help: 'comma-separated allowed Origins' }),
  /** Most disconnected (resumable) sessions kept at once; the oldest is evicted first. Default 100,000; 0 = no bound. */
  maxDisconnectedSessions: opt.integer({ default: 100_000, min: 0, help: 'disconnected sessions kept at once; the oldest is evicted first (0: no bound)' }),
  /** Bytes all disconnected sessions may hold (replay buffers as held, profiles, overhead). Default 256 MiB; 0 = no bound. */
  maxDisconnectedBytes: opt.integer({ default: 256 * 1024 * 1024, min: 0, unit: 'bytes', placeholder: 'BYTES', help: 'memory all disconnected sessions may hold; the oldest is evicted first (0: no bound)' }),
  /** Open WebSocket connections (all paths); more get 503 before the upgrade. Default 100,000; 0 = no bound. */
  maxConnections: opt.integer({ default: 100_000, min: 0, help: 'open WebSocket connections; more get 503 before the upgrade (0: no bound)' }),
  /** Open WebSocket connections per client address; more get 429. Default 1,000; 0 = no bound. */
  maxConnectionsPerIp: opt.integer({ default: 1000, min: 0, help: 'open WebSocket connections per client address; more get 429 (0: no bound)' }),
  /** client/hellos answered at once per process; the others wait their turn. Default 64. */
  helloConcurrency: opt.integer({
    default: 64,
    min: 1,
    help: 'client/hellos answered at once per process (sessions looked up in Redis, tokens checked); the others wait their turn, in order',
  }),
  /** v3 connections that have not said hello yet; more get 503 before the upgrade. Default 10,000; 0 = no bound. */
  maxPendingHellos: opt.integer({ default: 10_000, min: 0, help: 'v3 connections not yet past client/hello; more get 503 (0: no bound)' }),
  /**
   * Proxies whose X-Forwarded-For is believed for the client address (per-address limit): addresses or CIDR
   * ranges, `loopback` for 127.0.0.0/8 and ::1. Default `loopback`; empty: never.
   */
  trustProxy: opt.list({
    default: ['loopback'],
    placeholder: 'A,B',
    help: 'proxy addresses/CIDRs whose X-Forwarded-For names the client (loopback: 127.0.0.0/8, ::1; none: never)',
    check: checkProxyEntry,
  }),
  /** Bearer key for the `/api/*` HTTP routes. Empty: those routes answer loopback peers only. */
  apiKey: opt.string({ default: '', placeholder: 'KEY', defaultText: 'none: loopback peers only', help: 'bearer key for /api/*' }),
  /** Serve the SSE fallback transport at `/api/sse` (docs/protocol.md). Default true. */
  sse: opt.boolean({ default: true, help: 'serve the SSE fallback transport (Server-Sent Events + POSTs) at /api/sse' }),
  /** Mount the v2 legacy adapter at `/ws`. Default true. */
  legacy: opt.boolean({ default: true, help: 'mount the v2 legacy adapter at /ws' }),
  /** Serve the demo page at `/demo/`. Default false. */
  demo: opt.boolean({ default: false, help: 'serve the demo page at /demo/' }),
  /** Seconds a drain (SIGTERM) may take before the process exits anyway. Default 30. */
  drainTimeout: opt.seconds({ default: 30, min: 0, help: 'longest a drain (SIGTERM) may take' }),
  /** Connections closed per drain batch. Default 500. */
  drainBatchSize: opt.integer({ default: 500, min: 1, help: 'connections closed per drain batch' }),
  /** Seconds between drain batches. Default 0.05. */
  drainBatchPause: opt.seconds({ default: 0.05, min: 0, help: 'pause between drain batches' }),
  /** PEM certificate file: serve https/wss when set together with tlsKey. */
  tlsCert: opt.string({ default: '', placeholder: 'FILE', defaultText: 'none', help: 'PEM certificate file (with --tls-key: serve https/wss)' }),
  /** PEM private key file. */
  tlsKey: opt.string({ default: '', placeholder: 'FILE', defaultText: 'none', help: 'PEM private key file' }),
  /** HS256 secret for hello tokens (JWT), at least 32 bytes. Empty: no JWT check (docs/security.md §3). */
  jwtSecret: opt.string({ default: '', placeholder: 'SECRET', defaultText: 'none', help: 'verify hello tokens as HS256 JWTs with this secret (>= 32 bytes)' }),
  /** PEM public key file (RSA → RS256, EC P-256 → ES256) for hello tokens. */
  jwtPublicKey: opt.string({ default: '', placeholder: 'FILE', defaultText: 'none', help: 'verify hello tokens as RS256/ES256 JWTs with this PEM public key' }),
  /** JSON Web Key Set file for hello tokens (keys chosen by `kid`). */
  jwtJwks: opt.string({ default: '', placeholder: 'FILE', defaultText: 'none', help: 'verify hello tokens as RS256/ES256 JWTs with this JWKS file' }),
  /** Required `iss` claim of hello tokens. Empty: not checked. */
  jwtIssuer: opt.string({ default: '', placeholder: 'ISS', defaultText: 'not checked', help: 'required iss claim of hello tokens' }),
  /** Required `aud` claim of hello tokens. Empty: not checked. */
  jwtAudience: opt.string({ default: '', placeholder: 'AUD', defaultText: 'not checked', help: 'required aud claim of hello tokens' }),
  /** pino log level. Default `info`. */
  logLevel: opt.choice({ default: 'info', choices: LOG_LEVELS, placeholder: 'LEVEL', help: 'log level' }),
  /** `redis://` or `rediss://` URL (AUTH in it) of the Redis every process of one gateway shares (docs/scaling.md). Default none: in memory. */
  redis: opt.string({ default: '', placeholder: 'URL', defaultText: 'none: in memory', check: (v) => (v ? checkRedisUrl(v) : undefined), help: 'redis:// or rediss:// URL shared by every process of one gateway' }),
  /** PEM file of the CA(s) that sign a `rediss://` Redis's certificate (private CA, self-signed). Default: the system's CAs. */
  redisTlsCa: opt.string({ default: '', placeholder: 'FILE', defaultText: "Node's CAs", check: (v) => (v ? checkCaFile(v) : undefined), help: 'PEM CA certificate(s) to trust for a rediss:// Redis' }),
  /** Processes on one port (node:cluster): a number or `auto` (one per core). Needs `redis`. Default none: this process only. */
  workers: opt.string({
    default: '',
    placeholder: 'N|auto',
    defaultText: 'none: this process only',
    check: (v) => (v === '' || /^(auto|[1-9][0-9]{0,3})$/.test(v) ? undefined : `expected a number of processes or auto, got ${v}`),
    help: 'run N gateway processes on one port, or auto (one per core); needs --redis',
  }),
};

/** Why a `--trust-proxy` entry (read by src/http/trusted-proxies.ts) is refused, or undefined when it is an address, a CIDR range, `loopback` or `none`. */
export function checkProxyEntry(entry: string): string | undefined {
  if (entry === 'loopback' || entry === 'none') return undefined;
  const [addr, bits, extra] = entry.split('/');
  const family = isIP(addr ?? '');
  if (family === 0 || extra !== undefined) return `"${entry}" is not an IP address, a CIDR range, loopback or none`;
  if (bits === undefined) return undefined;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n <= (family === 4 ? 32 : 128) ? undefined : `"${entry}" has a bad prefix length`;
}

type Table = typeof GATEWAY_OPTIONS;

/** Every gateway option (derived from GATEWAY_OPTIONS): times in seconds, sizes in bytes. */
export type GatewayOptions = OptionsOf<Table>;

/**
 * Options after resolveOptions: every field of GatewayOptions plus each time in milliseconds
 * (`pingIntervalMs`, `sessionTtlMs`, …) — the code uses those, so seconds become ms in this one place.
 */
export type ResolvedOptions = ResolvedOf<Table>;

const KEYS = Object.keys(GATEWAY_OPTIONS) as (keyof GatewayOptions)[];
const MS_KEYS = new Set(KEYS.filter((k) => GATEWAY_OPTIONS[k].kind === 'seconds').map((k) => `${k}Ms`));

/** The embedded defaults. `heartbeatTimeout` of NaN means "2 × heartbeatInterval". */
export const DEFAULTS: Readonly<GatewayOptions> = Object.freeze(
  Object.fromEntries(KEYS.map((k) => [k, GATEWAY_OPTIONS[k].default ?? Number.NaN])) as unknown as GatewayOptions,
);

const resolved = new WeakSet<object>();

/** Whether `o` came out of resolveOptions (then it need not be resolved again). */
export const isResolved = (o: object): o is ResolvedOptions => resolved.has(o);

/** The checks that span options; their messages name the flag to change. */
function crossChecks(o: GatewayOptions): string | undefined {
  if (o.pingInterval > 0 && o.pingTimeout <= 0) return '--ping-timeout: must be > 0 while --ping-interval is on';
  if (o.heartbeatInterval > 0 && o.heartbeatTimeout < o.heartbeatInterval) return '--heartbeat-timeout: must be at least --heartbeat-interval';
  if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) return `${flagOf(o.tlsCert ? 'tlsKey' : 'tlsCert')}: --tls-cert and --tls-key go together`;
  if (o.redisTlsCa && !o.redis.startsWith('rediss:')) return '--redis-tls-ca: needs a rediss:// --redis URL (TLS)';
  if (o.workers && !o.redis) return '--workers: needs --redis URL (the processes share their sessions, rooms and channels through Redis)';
  return undefined;
}

/**
 * Merge partial options over the defaults and validate every field; throws ConfigError naming the
 * first bad option. The one place options are checked and seconds become ms; already resolved options
 * are returned as they are, so the CLI's resolution is not done twice by createGateway.
 */
export function resolveOptions(partial: Partial<GatewayOptions> = {}): ResolvedOptions {
  if (resolved.has(partial)) return partial as ResolvedOptions;
  const given = Object.fromEntries(Object.entries(partial).filter(([k, v]) => v !== undefined && !MS_KEYS.has(k)));
  const merged: Record<string, unknown> = { ...DEFAULTS, ...given };
  if (given.heartbeatTimeout === undefined || Number.isNaN(given.heartbeatTimeout)) {
    merged.heartbeatTimeout = (merged.heartbeatInterval as number) * 2;
  }
  const out = withMilliseconds(GATEWAY_OPTIONS, validate(GATEWAY_OPTIONS, merged, crossChecks));
  resolved.add(out);
  return out;
}

/** Read a JSON or YAML config file (by extension; `.json` is JSON, anything else YAML, which also reads JSON). */
export function readConfigFile(path: string): Partial<GatewayOptions> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config: cannot read ${path}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`--config: ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`--config: ${path} must hold an object of options`);
  // Values are coerced here and validated by resolveOptions with the rest.
  return fromObject(GATEWAY_OPTIONS, data as Record<string, unknown>, path) as Partial<GatewayOptions>;
}

/** Options from `WSGATE_*` environment variables (coerced; validated by resolveOptions). */
export function readEnv(env: NodeJS.ProcessEnv): Partial<GatewayOptions> {
  return fromEnv(GATEWAY_OPTIONS, env, 'WSGATE_') as Partial<GatewayOptions>;
}

/** The --help rows of every option: flag with placeholder, help, default and env, in one column. */
export function optionsHelp(extra: readonly [string, string][] = []): string {
  return helpRows(GATEWAY_OPTIONS, 'WSGATE_', extra);
}
