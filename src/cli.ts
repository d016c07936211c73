import { createRequire } from 'node:module';
import { readConfigFile, readEnv, resolveOptions, optionsHelp, GATEWAY_OPTIONS, type GatewayOptions, type ResolvedOptions } from './config.js';
import { fromArgv, toArgv } from './option-argv.js';

/** What the command line asked for. */
export type CliRequest = { kind: 'help'; text: string } | { kind: 'version'; text: string } | { kind: 'run'; options: ResolvedOptions };

/** The package version, for `--version`. */
export function version(): string {
  // package.json is one level up from src/cli.ts and two from dist/src/cli.js: take the first that is ours.
  const require = createRequire(import.meta.url);
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(path) as { name?: string; version?: string };
      if (pkg.name === 'wsgate' && pkg.version) return pkg.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}

/** Usage text of `wsgate`. */
export function usage(): string {
  return [
    'Usage: wsgate [options]                        start the gateway (v3 at /api/ws, v2 adapter at /ws)',
    '       wsgate legacy --upstream URL [options]   run only the v2 legacy adapter (see wsgate legacy --help)',
    '',
    'Every option is also an environment variable WSGATE_<NAME> and a key (snake_case) of the',
    'JSON/YAML file given with --config FILE (or WSGATE_CONFIG). Precedence: flags > env > file > defaults.',
    'Times (S) are seconds (fractions allowed), sizes bytes. On/off options: --legacy, --legacy false, --no-legacy.',
    '',
    'Options:',
    optionsHelp([
      ['--config FILE', 'JSON or YAML file of options'],
      ['-h, --help', 'this text'],
      ['-V, --version', 'print the version'],
    ]),
  ].join('\n');
}

/** Parse `--flag value`, `--flag=value`, `--no-flag` and bare boolean `--flag` into options (no defaults). */
export function parseFlags(argv: readonly string[]): { options: Partial<GatewayOptions>; config?: string; help: boolean; version: boolean } {
  const r = fromArgv(GATEWAY_OPTIONS, argv, { config: true, version: true });
  return { ...r, options: r.options as Partial<GatewayOptions> };
}

/** The flags that `parseFlags` reads back as `options` — for running the `wsgate` command from code. */
export function toFlags(options: Partial<GatewayOptions>): string[] {
  return toArgv(options);
}

/** Resolve the whole configuration from argv and the environment, once. Throws ConfigError naming the option. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliRequest {
  const flags = parseFlags(argv);
  if (flags.help) return { kind: 'help', text: usage() };
  if (flags.version) return { kind: 'version', text: `wsgate ${version()}` };
  const file = flags.config ?? env.WSGATE_CONFIG;
  const fromFile = file ? readConfigFile(file) : {};
  return { kind: 'run', options: resolveOptions({ ...fromFile, ...readEnv(env), ...flags.options }) };
}
