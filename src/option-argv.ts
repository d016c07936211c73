import { parseArgs } from 'node:util';
import { ConfigError, coerce, flagOf, keyOf, toKebab, type OptionTable } from './option-schema.js';

/**
 * argv for an option table (`wsgate` and `wsgate legacy`), read with node:util parseArgs: the
 * flags are derived from the table, values are coerced here and validated with the rest of the options.
 */

/** What argv holds besides options: `--config FILE`, `--help`, `--version`. */
export interface ArgvResult<T extends OptionTable> {
  options: Partial<Record<keyof T, unknown>>;
  config?: string;
  help: boolean;
  version: boolean;
}

/** Flags every command has besides its table. */
const META = { config: { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' } } as const;

/**
 * Read argv with node:util parseArgs: `--flag value`, `--flag=value`, booleans as `--flag`,
 * `--flag false` or `--no-flag`. Values are coerced, not yet validated. Unknown flags throw.
 */
export function fromArgv<T extends OptionTable>(table: T, argv: readonly string[], meta: { config: boolean; version: boolean }): ArgvResult<T> {
  const parseOptions = Object.fromEntries(Object.entries(table).map(([k, d]) => [toKebab(k), { type: d.kind === 'boolean' ? 'boolean' : 'string' } as const]));
  const { tokens } = parseArgs({ args: [...argv], options: { ...META, ...parseOptions }, strict: false, allowPositionals: true, tokens: true });
  const out: ArgvResult<T> = { options: {}, help: false, version: false };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') throw new ConfigError(`unexpected argument "${t.value}" (options start with --; see --help)`);
    const next = tokens[i + 1];
    const following = next?.kind === 'positional' ? next.value : undefined;
    if (t.name === 'help' || t.name === 'h') out.help = true;
    else if ((t.name === 'version' || t.name === 'V') && meta.version) out.version = true;
    else if (t.name === 'config' && meta.config) {
      out.config = t.value ?? (following !== undefined ? (i++, following) : undefined);
      if (!out.config) throw new ConfigError('--config: expected a file name');
    } else i += readOption(table, t.name, t.rawName, t.value, following, out.options);
  }
  return out;
}

/** One `--name[=value]` token into `into`; returns how many following tokens it used (0 or 1). */
function readOption<T extends OptionTable>(table: T, name: string, rawName: string, value: string | undefined, following: string | undefined, into: Partial<Record<keyof T, unknown>>): number {
  let key = keyOf(table, name);
  let negated = false;
  if (!key && name.startsWith('no-')) {
    key = keyOf(table, name.slice(3));
    negated = key !== undefined;
  }
  if (!key || !rawName.startsWith('--')) throw new ConfigError(`unknown option "${rawName}" (see --help)`);
  const decl = table[key]!;
  if (negated) {
    if (decl.kind !== 'boolean' || value !== undefined) throw new ConfigError(`--no-${toKebab(key)}: only for on/off options, without a value`);
    into[key] = false;
    return 0;
  }
  if (value !== undefined) {
    into[key] = coerce(decl, value);
    return 0;
  }
  if (decl.kind === 'boolean') {
    // `--legacy false` as well as a bare `--legacy`; a command takes no positionals, so any other word is a bad value.
    if (following === undefined) {
      into[key] = true;
      return 0;
    }
    into[key] = coerce(decl, following);
    return 1;
  }
  if (following === undefined) throw new ConfigError(`${flagOf(key)}: needs a value`);
  into[key] = coerce(decl, following);
  return 1;
}

/** The flags that `fromArgv` reads back as `options` — for running a command from code. */
export function toArgv(options: Record<string, unknown>): string[] {
  return Object.entries(options)
    .filter(([, v]) => v !== undefined && !(typeof v === 'number' && Number.isNaN(v)))
    .map(([k, v]) => `--${toKebab(k)}=${Array.isArray(v) ? v.join(',') : String(v)}`);
}
