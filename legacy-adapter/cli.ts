import { ConfigError, LOG_LEVELS } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { DEFAULT_MAX_PAYLOAD } from './adapter.js';
import { startLegacyServer, type LegacyServer, type LegacyServerOptions } from './standalone.js';

/** Where the CLI writes and how it is stopped; the defaults are the process's. */
export interface LegacyCliIo {
  out(text: string): void;
  err(text: string): void;
  /** Stops the server when aborted (besides SIGINT/SIGTERM). */
  signal?: AbortSignal;
  /** Called once listening (tests read the port here). */
  onListening?(server: LegacyServer): void;
}

/** The usage text of `wsgate legacy`. */
export const LEGACY_USAGE = `Usage: wsgate legacy --port P --upstream ws://host:port/api/ws [options]

Runs the v2 legacy adapter as its own process in front of a (remote) wsgate gateway:
v2 clients connect to ws://this-host:P/ws?password=...&username=..., each gets its own v3 connection upstream.

Options:
  --port P              TCP port to listen on (0: any free port)              required
  --host H              address to bind                                       default 0.0.0.0
  --upstream URL        the gateway's v3 endpoint, ws:// or wss://            required
  --ping-interval S     longest silence on a v2 leg before the adapter pings  default 10 s (0: never)
  --ping-timeout S      wait for the pong to the adapter's own ping           default 10 s
  --max-payload B       largest v2 frame accepted (bigger: close 1009)        default ${DEFAULT_MAX_PAYLOAD} bytes
  --allowed-origins L   comma-separated allowed Origins                       default: same host as Host header
  --log-level L         fatal, error, warn, info, debug, trace or silent      default info
  -h, --help            this text
`;

type Flag = 'port' | 'host' | 'upstream' | 'ping-interval' | 'ping-timeout' | 'max-payload' | 'allowed-origins' | 'log-level';
const FLAGS: readonly Flag[] = ['port', 'host', 'upstream', 'ping-interval', 'ping-timeout', 'max-payload', 'allowed-origins', 'log-level'];

/** Read `--flag value` / `--flag=value` pairs; an unknown or valueless flag throws a ConfigError naming it. */
export function parseLegacyArgs(argv: readonly string[]): Map<Flag, string> | 'help' {
  const values = new Map<Flag, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !FLAGS.includes(m[1] as Flag)) throw new ConfigError(`unknown option "${arg}" (see wsgate legacy --help)`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new ConfigError(`--${m[1]}: needs a value`);
    values.set(m[1] as Flag, value);
  }
  return values;
}

function seconds(values: Map<Flag, string>, flag: Flag, fallback: number): number {
  const raw = values.get(flag);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`--${flag}: expected a number, got ${JSON.stringify(raw)}`);
  return n;
}

/** Turn parsed flags into server options; a missing or bad one throws a ConfigError naming it. */
export function legacyServerOptions(values: Map<Flag, string>): LegacyServerOptions {
  const upstream = values.get('upstream');
  if (upstream === undefined) throw new ConfigError('--upstream: required (the gateway\'s ws://host:port/api/ws)');
  if (!values.has('port')) throw new ConfigError('--port: required');
  const port = seconds(values, 'port', 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port: expected 0 to 65535, got ${values.get('port')}`);
  const logLevel = values.get('log-level') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new ConfigError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  return {
    port,
    host: values.get('host') ?? '0.0.0.0',
    upstream,
    pingInterval: seconds(values, 'ping-interval', 10),
    pingTimeout: seconds(values, 'ping-timeout', 10),
    maxPayload: seconds(values, 'max-payload', DEFAULT_MAX_PAYLOAD),
    allowedOrigins: (values.get('allowed-origins') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    logger: createLogger(logLevel),
  };
}

const processIo: LegacyCliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/**
 * `wsgate legacy …` (argv: the arguments after `legacy`). Resolves with the exit code: 0 after
 * `--help` or a clean stop (SIGINT/SIGTERM), 2 for a bad option (the message names it), 1 if it cannot listen.
 */
export async function runLegacyCli(argv: readonly string[], io: LegacyCliIo = processIo): Promise<number> {
  const code = await run(argv, io);
  // Run as the process's own command: the code is the process's exit code too.
  if (io === processIo) process.exitCode = code;
  return code;
}

async function run(argv: readonly string[], io: LegacyCliIo): Promise<number> {
  let options: LegacyServerOptions;
  try {
    const parsed = parseLegacyArgs(argv[0] === 'legacy' ? argv.slice(1) : argv);
    if (parsed === 'help') return io.out(LEGACY_USAGE), 0;
    options = legacyServerOptions(parsed);
    const server = await startLegacyServer(options);
    options.logger?.info({ port: server.port, host: server.host, upstream: options.upstream }, 'legacy adapter listening');
    io.onListening?.(server);
    await stopRequested(io.signal);
    options.logger?.info('legacy adapter stopping');
    await server.close();
    return 0;
  } catch (err) {
    io.err(`wsgate legacy: ${(err as Error).message}\n`);
    return err instanceof ConfigError ? 2 : 1;
  }
}

function stopRequested(signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done).off('SIGTERM', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    process.once('SIGINT', done).once('SIGTERM', done);
    if (signal?.aborted) return done();
    signal?.addEventListener('abort', done);
  });
}
