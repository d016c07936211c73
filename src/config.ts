import { checkRedisUrl } from './redis/redis-url.js';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/**
 * Every gateway option, once: its default, unit, flag (`--kebab-case`), environment variable
 * (`WSGATE_UPPER_SNAKE`) and config-file key (`snake_case`, as in PROTOCOL.md). Times are seconds
 * (fractions allowed), sizes bytes. Validated once, at start; a bad value throws a ConfigError naming the option.
 */
export interface GatewayOptions {
  /** TCP port to listen on. Default 8080; 0 picks a free one. */
  port: number;
  /** Address to bind. Default `0.0.0.0`. */
  host: string;
  /** Transport ping frame period, seconds. Default 10; 0 disables the transport layer. */
  pingInterval: number;
  /** Seconds to wait for a pong before terminating the socket. Default 10. */
  pingTimeout: number;
  /** Application heartbeat period, seconds. Default 60; 0 disables the application layer. */
  heartbeatInterval: number;
  /** Seconds without any client message before close 4100. Default 2 × heartbeatInterval. */
  heartbeatTimeout: number;
  /** Seconds a disconnected session stays resumable. Default 120. */
  sessionTtl: number;
  /** Seconds a new connection has to send `client/hello`. Default 5. */
  helloTimeout: number;
  /** Largest accepted frame, bytes. Default 65536; bigger → close 1009. */
  maxPayload: number;
  /** Malformed or unknown messages tolerated within 10 s before close 1008. Default 10. */
  maxErrors: number;
  /** Replay buffer bound per session, messages. Default 1000. */
  bufferMaxMessages: number;
  /** Replay buffer bound per session, bytes. Default 1 MiB. */
  bufferMaxBytes: number;
  /** Client message ids remembered per session for dedup. Default 1024. */
  dedupWindow: number;
  /** Messages kept per channel for recovery. Default 100. */
  historySize: number;
  /** Seconds a channel's history is kept. Default 300. */
  historyTtl: number;
  /** Channels one session may subscribe to. Default 128. */
  maxSubscriptions: number;
  /** Socket send buffer, bytes, above which a connection is closed 4102 slow_consumer. Default 1 MiB. */
  maxBuffered: number;
  /** Client messages per second allowed per connection (burst: 2 s worth); 0 = unlimited. Default 0. */
  rateLimit: number;
  /** May clients publish with `channel/publish`? Default true. */
  clientPublish: boolean;
  /** Allowed `Origin` values for upgrades (exact match, or `*`). Empty: same host as the Host header. */
  allowedOrigins: string[];
  /** Bearer key for the `/api/*` HTTP routes. Empty: those routes answer loopback peers only. */
  apiKey: string;
  /** Mount the v2 legacy adapter at `/ws`. Default true. */
  legacy: boolean;
  /** Serve the demo page at `/demo/`. Default false. */
  demo: boolean;
  /** Seconds a drain (SIGTERM) may take before the process exits anyway. Default 30. */
  drainTimeout: number;
  /** Connections closed per drain batch. Default 500. */
  drainBatchSize: number;
  /** Seconds between drain batches. Default 0.05. */
  drainBatchPause: number;
  /** PEM certificate file: serve https/wss when set together with tlsKey. */
  tlsCert: string;
  /** PEM private key file. */
  tlsKey: string;
  /** pino log level. Default `info`. */
  logLevel: string;
  /** `redis://` or `rediss://` URL (with AUTH in it) of the Redis that every process of one gateway shares. Default none: in memory. */
  redis: string;
  /** Processes to run on one port (node:cluster): a number or `auto` (one per core). Needs `redis`. Default none: this process only. */
  workers: string;
}

/** How one option is parsed and checked. */
interface OptionSpec {
  kind: 'number' | 'integer' | 'boolean' | 'string' | 'list';
  /** Unit shown in --help. */
  unit?: string;
  help: string;
  min?: number;
  /** Allowed values for strings. */
  choices?: readonly string[];
}

/** pino's levels, for `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The table behind flags, env, config files and --help. Keys are the GatewayOptions names. */
export const OPTION_SPECS: Record<keyof GatewayOptions, OptionSpec> = {
  port: { kind: 'integer', min: 0, help: 'TCP port to listen on (0: any free port)' },
  host: { kind: 'string', help: 'address to bind' },
  pingInterval: { kind: 'number', unit: 's', min: 0, help: 'transport ping frame period (0 disables)' },
  pingTimeout: { kind: 'number', unit: 's', min: 0, help: 'pong wait before the socket is terminated' },
  heartbeatInterval: { kind: 'number', unit: 's', min: 0, help: 'application heartbeat period (0 disables)' },
  heartbeatTimeout: { kind: 'number', unit: 's', min: 0, help: 'silence before close 4100 (default 2 x heartbeat-interval)' },
  sessionTtl: { kind: 'number', unit: 's', min: 0, help: 'how long a disconnected session stays resumable' },
  helloTimeout: { kind: 'number', unit: 's', min: 0, help: 'time allowed for client/hello' },
  maxPayload: { kind: 'integer', unit: 'bytes', min: 64, help: 'largest frame accepted (bigger: close 1009)' },
  maxErrors: { kind: 'integer', min: 0, help: 'malformed/unknown messages tolerated per 10 s (then close 1008)' },
  bufferMaxMessages: { kind: 'integer', min: 1, help: 'replay buffer bound per session' },
  bufferMaxBytes: { kind: 'integer', unit: 'bytes', min: 1024, help: 'replay buffer bound per session' },
  dedupWindow: { kind: 'integer', min: 1024, help: 'client message ids remembered per session' },
  historySize: { kind: 'integer', min: 0, help: 'messages kept per channel for recovery' },
  historyTtl: { kind: 'number', unit: 's', min: 0, help: 'how long channel history is kept' },
  maxSubscriptions: { kind: 'integer', min: 1, help: 'channels per session' },
  maxBuffered: { kind: 'integer', unit: 'bytes', min: 1024, help: 'send buffer above which a client is closed 4102' },
  rateLimit: { kind: 'number', unit: 'msg/s', min: 0, help: 'client messages per second per connection (0: unlimited)' },
  clientPublish: { kind: 'boolean', help: 'allow clients to publish with channel/publish' },
  allowedOrigins: { kind: 'list', help: 'comma-separated allowed Origins (empty: same host as Host header)' },
  apiKey: { kind: 'string', help: 'bearer key for /api/* (empty: loopback peers only)' },
  legacy: { kind: 'boolean', help: 'mount the v2 legacy adapter at /ws' },
  demo: { kind: 'boolean', help: 'serve the demo page at /demo/' },
  drainTimeout: { kind: 'number', unit: 's', min: 0, help: 'longest a drain (SIGTERM) may take' },
  drainBatchSize: { kind: 'integer', min: 1, help: 'connections closed per drain batch' },
  drainBatchPause: { kind: 'number', unit: 's', min: 0, help: 'pause between drain batches' },
  tlsCert: { kind: 'string', help: 'PEM certificate file (with --tls-key: serve https/wss)' },
  tlsKey: { kind: 'string', help: 'PEM private key file' },
  logLevel: { kind: 'string', choices: LOG_LEVELS, help: 'log level' },
  redis: { kind: 'string', help: 'redis:// or rediss:// URL shared by every process of one gateway (empty: in memory)' },
  workers: { kind: 'string', help: 'run N processes on one port, or auto (one per core); needs --redis' },
};

/** The embedded defaults. `heartbeatTimeout` of NaN means "2 × heartbeatInterval". */
export const DEFAULTS: Readonly<GatewayOptions> = Object.freeze({
  port: 8080,
  host: '0.0.0.0',
  pingInterval: 10,
  pingTimeout: 10,
  heartbeatInterval: 60,
  heartbeatTimeout: Number.NaN,
  sessionTtl: 120,
  helloTimeout: 5,
  maxPayload: 65536,
  maxErrors: 10,
  bufferMaxMessages: 1000,
  bufferMaxBytes: 1024 * 1024,
  dedupWindow: 1024,
  historySize: 100,
  historyTtl: 300,
  maxSubscriptions: 128,
  maxBuffered: 1024 * 1024,
  rateLimit: 0,
  clientPublish: true,
  allowedOrigins: [],
  apiKey: '',
  legacy: true,
  demo: false,
  drainTimeout: 30,
  drainBatchSize: 500,
  drainBatchPause: 0.05,
  tlsCert: '',
  tlsKey: '',
  logLevel: 'info',
  redis: '',
  workers: '',
});

/** A bad option: the message names it as a flag, e.g. `--ping-interval`. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** `pingInterval` → `ping-interval`. */
export const toKebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
/** `pingInterval` → `PING_INTERVAL`. */
export const toUpperSnake = (key: string): string => toKebab(key).replace(/-/g, '_').toUpperCase();
const fromAnyCase = (name: string): string => name.toLowerCase().replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());

const KEYS = Object.keys(OPTION_SPECS) as (keyof GatewayOptions)[];
const KEY_BY_NORMALISED = new Map(KEYS.map((k) => [k.toLowerCase(), k]));

/** Find the option a flag, env or file key names, in any case style. */
export function optionKey(name: string): keyof GatewayOptions | undefined {
  return KEY_BY_NORMALISED.get(fromAnyCase(name).toLowerCase());
}

/** Parse one raw value (string from a flag or env, or a JSON/YAML value) for `key`. */
export function parseOptionValue(key: keyof GatewayOptions, raw: unknown): unknown {
  const spec = OPTION_SPECS[key];
  const flag = `--${toKebab(key)}`;
  switch (spec.kind) {
    case 'number':
    case 'integer': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
      if (!Number.isFinite(n)) throw new ConfigError(`${flag}: expected a number${spec.unit ? ` (${spec.unit})` : ''}, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(s)) return true;
      if (['false', '0', 'no', 'off'].includes(s)) return false;
      throw new ConfigError(`${flag}: expected true or false, got ${JSON.stringify(raw)}`);
    }
    case 'list':
      if (Array.isArray(raw)) return raw.map(String);
      return String(raw)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'string':
      return String(raw);
  }
}

/**
 * Merge partial options over the defaults and validate every field. Throws ConfigError naming the
 * first bad option. This is the one place options are checked; the library API and the CLI both use it.
 */
export function resolveOptions(partial: Partial<GatewayOptions> = {}): GatewayOptions {
  for (const name of Object.keys(partial)) {
    if (!(name in OPTION_SPECS)) throw new ConfigError(`unknown option "${name}"`);
  }
  const merged = { ...DEFAULTS, ...stripUndefined(partial) } as GatewayOptions;
  if (partial.heartbeatTimeout === undefined || Number.isNaN(partial.heartbeatTimeout)) {
    merged.heartbeatTimeout = merged.heartbeatInterval * 2;
  }
  for (const key of KEYS) validateOne(key, merged[key]);
  if (merged.pingInterval > 0 && merged.pingTimeout <= 0) {
    throw new ConfigError('--ping-timeout: must be > 0 while --ping-interval is on');
  }
  if (merged.heartbeatInterval > 0 && merged.heartbeatTimeout < merged.heartbeatInterval) {
    throw new ConfigError('--heartbeat-timeout: must be at least --heartbeat-interval');
  }
  if (Boolean(merged.tlsCert) !== Boolean(merged.tlsKey)) {
    throw new ConfigError(`--${merged.tlsCert ? 'tls-key' : 'tls-cert'}: --tls-cert and --tls-key go together`);
  }
  if (merged.port > 65535) throw new ConfigError('--port: must be at most 65535');
  if (merged.redis) {
    const bad = checkRedisUrl(merged.redis);
    if (bad) throw new ConfigError(`--redis: ${bad}`);
  }
  if (merged.workers) {
    if (!/^(auto|[1-9][0-9]{0,3})$/.test(merged.workers)) throw new ConfigError(`--workers: expected a number of processes or auto, got ${merged.workers}`);
    if (!merged.redis) throw new ConfigError('--workers: needs --redis URL (the processes share their sessions, rooms and channels through Redis)');
  }
  return merged;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validateOne(key: keyof GatewayOptions, value: unknown): void {
  const spec = OPTION_SPECS[key];
  const flag = `--${toKebab(key)}`;
  if (spec.kind === 'number' || spec.kind === 'integer') {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(`${flag}: expected a number, got ${JSON.stringify(value)}`);
    if (spec.kind === 'integer' && !Number.isInteger(value)) throw new ConfigError(`${flag}: expected a whole number, got ${value}`);
    if (spec.min !== undefined && value < spec.min) throw new ConfigError(`${flag}: must be at least ${spec.min}, got ${value}`);
  } else if (spec.kind === 'boolean') {
    if (typeof value !== 'boolean') throw new ConfigError(`${flag}: expected true or false`);
  } else if (spec.kind === 'list') {
    if (!Array.isArray(value)) throw new ConfigError(`${flag}: expected a list`);
  } else {
    if (typeof value !== 'string') throw new ConfigError(`${flag}: expected a string`);
    if (spec.choices && !spec.choices.includes(value)) throw new ConfigError(`${flag}: expected one of ${spec.choices.join(', ')}, got "${value}"`);
  }
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
  const out: Partial<GatewayOptions> = {};
  for (const [name, raw] of Object.entries(data as Record<string, unknown>)) {
    const key = optionKey(name);
    if (!key) throw new ConfigError(`--config: unknown option "${name}" in ${path}`);
    (out as Record<string, unknown>)[key] = parseOptionValue(key, raw);
  }
  return out;
}

/** Options from `WSGATE_*` environment variables. */
export function readEnv(env: NodeJS.ProcessEnv): Partial<GatewayOptions> {
  const out: Partial<GatewayOptions> = {};
  for (const key of KEYS) {
    const raw = env[`WSGATE_${toUpperSnake(key)}`];
    if (raw !== undefined && raw !== '') (out as Record<string, unknown>)[key] = parseOptionValue(key, raw);
  }
  return out;
}

/** The --help text for every option: flag, env, default and unit. */
export function optionsHelp(): string {
  return KEYS.map((key) => {
    const spec = OPTION_SPECS[key];
    const def = key === 'heartbeatTimeout' ? '2 x heartbeat-interval' : JSON.stringify(DEFAULTS[key]);
    const unit = spec.unit ? ` ${spec.unit}` : '';
    return `  --${toKebab(key).padEnd(22)} ${spec.help}\n  ${''.padEnd(24)} default ${def}${unit}; env WSGATE_${toUpperSnake(key)}`;
  }).join('\n');
}
