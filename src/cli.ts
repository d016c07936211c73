import { ConfigError, OPTION_SPECS, optionKey, optionsHelp, parseOptionValue, readConfigFile, readEnv, resolveOptions, toKebab, type GatewayOptions } from './config.js';

/** What the command line asked for. */
export type CliRequest = { kind: 'help'; text: string } | { kind: 'run'; options: GatewayOptions };

/** Usage text of `wsgate`. */
export function usage(): string {
  return [
    'Usage: wsgate [options]            start the gateway (v3 at /api/ws, v2 adapter at /ws)',
    '       wsgate legacy --upstream URL [options]   run only the v2 legacy adapter (see wsgate legacy --help)',
    '',
    'Every option is also an environment variable WSGATE_<NAME> and a key (snake_case) of the',
    'JSON/YAML file given with --config FILE (or WSGATE_CONFIG). Precedence: flags > env > file > defaults.',
    'Times are seconds (fractions allowed), sizes bytes. Booleans: --legacy false, --no-legacy.',
    '',
    '  --config FILE              JSON or YAML file of options',
    '  --help                     this text',
    optionsHelp(),
  ].join('\n');
}

/** Parse `--flag value`, `--flag=value`, `--no-flag` and bare boolean `--flag` into options (no defaults). */
export function parseFlags(argv: readonly string[]): { options: Partial<GatewayOptions>; config?: string; help: boolean } {
  const options: Partial<GatewayOptions> = {};
  let config: string | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}" (options start with --; see --help)`);
    const eq = arg.indexOf('=');
    let name = arg.slice(2, eq < 0 ? undefined : eq);
    let value: string | undefined = eq < 0 ? undefined : arg.slice(eq + 1);
    if (name === 'config') {
      config = value ?? argv[++i];
      if (!config) throw new ConfigError('--config: expected a file name');
      continue;
    }
    let negated = false;
    if (!optionKey(name) && name.startsWith('no-') && optionKey(name.slice(3))) {
      negated = true;
      name = name.slice(3);
    }
    const key = optionKey(name);
    if (!key) throw new ConfigError(`unknown option --${name} (see --help)`);
    const isBool = OPTION_SPECS[key].kind === 'boolean';
    if (negated) {
      if (!isBool || value !== undefined) throw new ConfigError(`--no-${toKebab(key)}: only for boolean options, without a value`);
      value = 'false';
    } else if (value === undefined) {
      const next = argv[i + 1];
      if (isBool && (next === undefined || next.startsWith('--') || !/^(true|false|1|0|yes|no|on|off)$/i.test(next))) value = 'true';
      else if (next === undefined) throw new ConfigError(`--${toKebab(key)}: expected a value`);
      else value = argv[++i];
    }
    (options as Record<string, unknown>)[key] = parseOptionValue(key, value);
  }
  return { options, config, help };
}

/** The flags that `parseFlags` reads back as `options` — for running the `wsgate` command from code. */
export function toFlags(options: Partial<GatewayOptions>): string[] {
  return Object.entries(options)
    .filter(([, v]) => v !== undefined && !(typeof v === 'number' && Number.isNaN(v)))
    .map(([k, v]) => `--${toKebab(k)}=${Array.isArray(v) ? v.join(',') : String(v)}`);
}

/** Resolve the whole configuration from argv and the environment. Throws ConfigError naming the option. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CliRequest {
  const flags = parseFlags(argv);
  if (flags.help) return { kind: 'help', text: usage() };
  const file = flags.config ?? env.WSGATE_CONFIG;
  const fromFile = file ? readConfigFile(file) : {};
  return { kind: 'run', options: resolveOptions({ ...fromFile, ...readEnv(env), ...flags.options }) };
}

