import { z } from 'zod';

/**
 * The machinery behind every option table (`wsgate` and `wsgate legacy`): each option is declared
 * once, as an OptionDecl, and its flag, environment variable, config-file key, --help line, zod
 * validation and TypeScript type are all derived from that one declaration.
 */

/** What kind of value an option takes; `seconds` options also get a resolved `…Ms` field. */
export type OptionKind = 'seconds' | 'number' | 'integer' | 'boolean' | 'string' | 'list' | 'choice';

/** One option, declared once. */
export interface OptionDecl<K extends OptionKind = OptionKind, C extends string = string> {
  readonly kind: K;
  /** The embedded default; undefined: required, or computed from others (see `defaultText`). */
  readonly default?: ValueOfKind<K, C>;
  /** --help text. */
  readonly help: string;
  /** Unit shown in --help (`s` for seconds options unless given). */
  readonly unit?: string;
  /** Inclusive bounds of number kinds. */
  readonly min?: number;
  readonly max?: number;
  /** Values a `choice` accepts. */
  readonly choices?: readonly C[];
  /** Value placeholder in --help, e.g. `N`, `LEVEL`; by kind if not given. */
  readonly placeholder?: string;
  /** Default as shown in --help when the value alone says too little. */
  readonly defaultText?: string;
  /** Must be given (no default). */
  readonly required?: boolean;
  /** Extra check on a string, or on each entry of a list (e.g. a URL scheme); returns the complaint, or undefined when fine. */
  readonly check?: (value: string) => string | undefined;
}

/** The value type an option kind stands for. */
export type ValueOfKind<K extends OptionKind, C extends string = string> = K extends 'boolean'
  ? boolean
  : K extends 'string'
    ? string
    : K extends 'list'
      ? string[]
      : K extends 'choice'
        ? C
        : number;

/** The value type of one declaration. */
export type ValueOf<D> = D extends OptionDecl<infer K, infer C> ? ValueOfKind<K, C> : never;

/** A table of declarations, keyed by the camelCase option name. */
export type OptionTable = Record<string, OptionDecl>;

/** The options object a table describes (doc comments of the table's keys carry over). */
export type OptionsOf<T extends OptionTable> = { -readonly [K in keyof T]: ValueOf<T[K]> };

/** Keys of the `seconds` options of a table. */
export type SecondsKeys<T extends OptionTable> = { [K in keyof T]: T[K]['kind'] extends 'seconds' ? K : never }[keyof T] & string;

/** The same options resolved: every `seconds` option also as `<name>Ms`, milliseconds, for the code to use. */
export type ResolvedOf<T extends OptionTable> = OptionsOf<T> & { readonly [K in SecondsKeys<T> as `${K}Ms`]: number };

/** Declare one option; `kind`-specific helpers keep the table short and typed. */
export const opt = {
  /** Seconds, fractions allowed. */
  seconds: (d: Omit<OptionDecl<'seconds'>, 'kind'>): OptionDecl<'seconds'> => ({ kind: 'seconds', unit: 's', ...d }),
  number: (d: Omit<OptionDecl<'number'>, 'kind'>): OptionDecl<'number'> => ({ kind: 'number', ...d }),
  integer: (d: Omit<OptionDecl<'integer'>, 'kind'>): OptionDecl<'integer'> => ({ kind: 'integer', ...d }),
  boolean: (d: Omit<OptionDecl<'boolean'>, 'kind'>): OptionDecl<'boolean'> => ({ kind: 'boolean', ...d }),
  string: (d: Omit<OptionDecl<'string'>, 'kind'>): OptionDecl<'string'> => ({ kind: 'string', ...d }),
  list: (d: Omit<OptionDecl<'list'>, 'kind'>): OptionDecl<'list'> => ({ kind: 'list', ...d }),
  choice: <C extends string>(d: Omit<OptionDecl<'choice', C>, 'kind'> & { choices: readonly C[] }): OptionDecl<'choice', C> => ({ kind: 'choice', ...d }),
};

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
/** `--ping-interval`, the name every message uses. */
export const flagOf = (key: string): string => `--${toKebab(key)}`;

const TRUE_WORDS = ['true', 'yes', 'on', '1'];
const FALSE_WORDS = ['false', 'no', 'off', '0'];
const BOOL_WORDS = 'true or false (also yes/no, on/off, 1/0)';

/** Turn a raw value (flag or env text, or a JSON/YAML value) into the declared type where it plainly is one; else leave it for zod to refuse. */
export function coerce(decl: OptionDecl, raw: unknown): unknown {
  if (typeof raw !== 'string') {
    return decl.kind === 'list' && Array.isArray(raw) ? raw.map(String) : raw;
  }
  switch (decl.kind) {
    case 'boolean': {
      const s = raw.toLowerCase();
      return TRUE_WORDS.includes(s) ? true : FALSE_WORDS.includes(s) ? false : raw;
    }
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'string':
    case 'choice':
      return raw;
    default: {
      const n = raw.trim() === '' ? Number.NaN : Number(raw);
      return Number.isFinite(n) ? n : raw;
    }
  }
}

/** The zod schema of one option's value. */
export function zodFor(decl: OptionDecl): z.ZodTypeAny {
  switch (decl.kind) {
    case 'boolean':
      return z.boolean();
    case 'list': {
      const check = decl.check;
      return z.array(check ? z.string().superRefine((v, ctx) => void (check(v) && ctx.addIssue({ code: 'custom', message: check(v) }))) : z.string());
    }
    case 'choice':
      return z.enum(decl.choices as [string, ...string[]]);
    case 'string': {
      const check = decl.check;
      return check ? z.string().superRefine((v, ctx) => void (check(v) && ctx.addIssue({ code: 'custom', message: check(v) }))) : z.string();
    }
    default: {
      let n = decl.kind === 'integer' ? z.number().int() : z.number();
      n = n.finite();
      if (decl.min !== undefined) n = n.min(decl.min);
      if (decl.max !== undefined) n = n.max(decl.max);
      return n;
    }
  }
}

const show = (v: unknown): string => (typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v));

/** The house messages for zod's issues: `--ping-interval: must be at least 0, got -2`. */
export function describeIssue(table: OptionTable, issue: z.ZodIssue, value: unknown): string {
  const key = String(issue.path[0] ?? '');
  const decl = table[key];
  const flag = key ? flagOf(key) : 'options';
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined && decl?.required) return `${flag}: required`;
      if (issue.expected === 'integer') return `${flag}: expected a whole number, got ${show(value)}`;
      if (issue.expected === 'boolean') return `${flag}: expected ${BOOL_WORDS}, got ${show(value)}`;
      return `${flag}: expected ${issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}, got ${show(value)}`;
    case 'not_finite':
      return `${flag}: expected a number, got ${show(value)}`;
    case 'too_small':
      return `${flag}: must be at least ${String(issue.minimum)}, got ${show(value)}`;
    case 'too_big':
      return `${flag}: must be at most ${String(issue.maximum)}, got ${show(value)}`;
    case 'invalid_enum_value':
      return `${flag}: expected one of ${issue.options.join(', ')}, got ${show(value)}`;
    case 'unrecognized_keys':
      return `unknown option "${issue.keys[0] ?? ''}"`;
    default:
      return issue.message.startsWith('--') ? issue.message : `${flag}: ${issue.message}`;
  }
}

/** The zod object of a whole table (strict: unknown keys are refused). */
export function objectSchema<T extends OptionTable>(table: T): z.ZodObject<Record<string, z.ZodTypeAny>, 'strict'> {
  return z.object(Object.fromEntries(Object.entries(table).map(([k, d]) => [k, zodFor(d)]))).strict();
}

/**
 * Validate merged options against a table's schema; throw a ConfigError for the first bad one.
 * `refine` adds the checks that span options (its messages already name the flag).
 */
export function validate<T extends OptionTable>(table: T, merged: Record<string, unknown>, refine?: (o: OptionsOf<T>) => string | undefined): OptionsOf<T> {
  const result = objectSchema(table).safeParse(merged);
  if (!result.success) {
    // Report in table order, so the first bad option named is the first one a user reads in --help.
    const order = Object.keys(table);
    const issues = [...result.error.issues].sort((a, b) => rank(order, a) - rank(order, b));
    const first = issues[0]!;
    throw new ConfigError(describeIssue(table, first, merged[String(first.path[0])]));
  }
  const options = result.data as OptionsOf<T>;
  const complaint = refine?.(options);
  if (complaint) throw new ConfigError(complaint);
  return options;
}

function rank(order: string[], issue: z.ZodIssue): number {
  const i = order.indexOf(String(issue.path[0]));
  return i < 0 ? -1 : i;
}

/** Add the `…Ms` field of every `seconds` option: the one place seconds become milliseconds. */
export function withMilliseconds<T extends OptionTable>(table: T, options: OptionsOf<T>): ResolvedOf<T> {
  const out: Record<string, unknown> = { ...options };
  for (const [key, decl] of Object.entries(table)) {
    if (decl.kind === 'seconds') out[`${key}Ms`] = (options[key] as number) * 1000;
  }
  return out as ResolvedOf<T>;
}

const normalise = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');

/** Find the option a flag, env or file key names, in any case style (`ping-interval`, `ping_interval`, `pingInterval`). */
export function keyOf<T extends OptionTable>(table: T, name: string): (keyof T & string) | undefined {
  const wanted = normalise(name);
  return Object.keys(table).find((k) => normalise(k) === wanted);
}

/** Options from `<PREFIX><UPPER_SNAKE>` environment variables (empty values are unset). */
export function fromEnv<T extends OptionTable>(table: T, env: NodeJS.ProcessEnv, prefix: string): Partial<Record<keyof T, unknown>> {
  const out: Partial<Record<keyof T, unknown>> = {};
  for (const [key, decl] of Object.entries(table)) {
    const raw = env[`${prefix}${toUpperSnake(key)}`];
    if (raw !== undefined && raw !== '') out[key as keyof T] = coerce(decl, raw);
  }
  return out;
}

/** Options from a parsed config-file object (keys in any case style); unknown keys throw. */
export function fromObject<T extends OptionTable>(table: T, data: Record<string, unknown>, where: string): Partial<Record<keyof T, unknown>> {
  const out: Partial<Record<keyof T, unknown>> = {};
  for (const [name, raw] of Object.entries(data)) {
    const key = keyOf(table, name);
    if (!key) throw new ConfigError(`--config: unknown option "${name}" in ${where}`);
    out[key] = coerce(table[key]!, raw);
  }
  return out;
}

/** The placeholder of an option's value in --help. */
function placeholder(decl: OptionDecl): string {
  if (decl.placeholder) return decl.placeholder;
  const byKind: Record<OptionKind, string> = { seconds: 'S', number: 'N', integer: 'N', boolean: '[BOOL]', string: 'TEXT', list: 'LIST', choice: 'VALUE' };
  return byKind[decl.kind];
}

/** One help row per option, aligned in one column: `--flag PLACEHOLDER  help (default …; env …)`. */
export function helpRows<T extends OptionTable>(table: T, envPrefix: string | undefined, extra: readonly [string, string][] = []): string {
  const rows: [string, string][] = [...extra];
  for (const [key, d] of Object.entries(table)) {
    const choices = d.kind === 'choice' ? `: ${d.choices!.join(', ')}` : '';
    const unit = d.unit ? ` ${d.unit}` : '';
    const def = d.required ? 'required' : d.defaultText ? `default ${d.defaultText}` : `default ${typeof d.default === 'string' ? d.default : show(d.default)}${unit}`;
    const env = envPrefix ? `; env ${envPrefix}${toUpperSnake(key)}` : '';
    rows.push([`${flagOf(key)} ${placeholder(d)}`, `${d.help}${choices} (${def}${env})`]);
  }
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`).join('\n');
}
