import { createLogger } from '../src/logger.js';
import { fromArgv } from '../src/option-argv.js';
import { ConfigError, helpRows, validate, type OptionsOf } from '../src/option-schema.js';
import { LEGACY_OPTIONS } from './options.js';
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

/** The parsed, checked options of `wsgate legacy`. */
export type LegacyCliOptions = OptionsOf<typeof LEGACY_OPTIONS>;

/** The usage text of `wsgate legacy`. */
export const LEGACY_USAGE = `Usage: wsgate legacy --port P --upstream ws://host:port/api/ws [options]

Runs the v2 legacy adapter as its own process in front of a (remote) wsgate gateway:
v2 clients connect to ws://this-host:P/ws?password=...&username=..., each gets its own v3 connection upstream.
Times (S) are seconds (fractions allowed), sizes bytes.

Options:
${helpRows(LEGACY_OPTIONS, undefined, [['-h, --help', 'this text']])}
`;

/** Parse and check `wsgate legacy` argv; a missing, unknown or bad option throws a ConfigError naming it. */
export function parseLegacyArgs(argv: readonly string[]): LegacyCliOptions | 'help' {
  const parsed = fromArgv(LEGACY_OPTIONS, argv, { config: false, version: false });
  if (parsed.help) return 'help';
  const defaults = Object.fromEntries(Object.entries(LEGACY_OPTIONS).map(([k, d]) => [k, d.default]));
  const given = Object.fromEntries(Object.entries(parsed.options).filter(([, v]) => v !== undefined));
  return validate(LEGACY_OPTIONS, { ...defaults, ...given });
}

/** Turn checked options into server options (times stay seconds: the adapter's library options are in seconds). */
export function legacyServerOptions(o: LegacyCliOptions): LegacyServerOptions {
  const { logLevel, ...rest } = o;
  return { ...rest, logger: createLogger(logLevel) };
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
