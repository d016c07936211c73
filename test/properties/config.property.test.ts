/**
 * The configuration parser on random argv and environment: it either resolves to options or
 * throws a ConfigError whose message names an option (or the bad argument) — never another
 * exception, and never a value outside its declared bounds.
 */
import fc from 'fast-check';
import { parseCli } from '../../src/cli.js';
import { ConfigError, GATEWAY_OPTIONS, toKebab, toUpperSnake, type GatewayOptions } from '../../src/config.js';
import { anyText } from '../support/arbitraries.js';

const KEYS = Object.keys(GATEWAY_OPTIONS) as (keyof GatewayOptions)[];
const flagNames = KEYS.map(toKebab);

const value = fc.oneof(
  fc.constantFrom('0', '-1', '1', '1.5', '65536', '99999999999999999999', 'NaN', 'Infinity', '-0', '1e3', '0x10', ' 7 ', 'true', 'false', 'yes', 'off', '', ',', 'a,b', 'debug', 'loud', '*'),
  anyText,
  fc.double().map(String),
  fc.integer().map(String),
);

const arg = fc.oneof(
  fc.tuple(fc.constantFrom(...flagNames), value).map(([f, v]) => [`--${f}`, v]),
  fc.tuple(fc.constantFrom(...flagNames), value).map(([f, v]) => [`--${f}=${v}`]),
  fc.constantFrom(...flagNames).map((f) => [`--no-${f}`]),
  fc.constantFrom(...flagNames).map((f) => [`--${f}`]),
  fc.constantFrom('--help', '-h', '--version', '-V', '--config', '--', '---', '--=', '--no-', 'stray', '--Ping-Interval', '--ping_interval', '--constructor', '--__proto__', '--to-string').map((a) => [a]),
  fc.string({ maxLength: 12 }).map((a) => [`--${a}`]),
);

const env = fc.dictionary(
  fc.oneof(fc.constantFrom(...KEYS.map((k) => `WSGATE_${toUpperSnake(k)}`)), fc.constantFrom('WSGATE_CONSTRUCTOR', 'WSGATE___PROTO__', 'WSGATE_')),
  value,
  { maxKeys: 4 },
);

/** What a ConfigError must name: a flag, or the argument it could not read. */
const NAMES_SOMETHING = /--[a-z][a-z-]*|unexpected argument|unknown option/;

test('random argv and env: options within bounds, or a ConfigError naming the option', () => {
  let resolved = 0;
  fc.assert(
    fc.property(fc.array(arg, { maxLength: 6 }).map((a) => a.flat()), env, (argv, environment) => {
      // --config would read a file named by random text; the parser's file path is covered by unit tests.
      const safeArgv = argv.filter((a, i) => a !== '--config' && argv[i - 1] !== '--config' && !a.startsWith('--config='));
      let out;
      try {
        out = parseCli(safeArgv, environment);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as Error).message).toMatch(NAMES_SOMETHING);
        return;
      }
      if (out.kind !== 'run') return;
      resolved++;
      for (const key of KEYS) {
        const decl = GATEWAY_OPTIONS[key];
        const v = out.options[key];
        if (decl.kind === 'number' || decl.kind === 'integer' || decl.kind === 'seconds') {
          expect(Number.isFinite(v)).toBe(true);
          if (decl.min !== undefined) expect(v as number).toBeGreaterThanOrEqual(decl.min);
          if (decl.max !== undefined) expect(v as number).toBeLessThanOrEqual(decl.max);
        }
      }
    }),
    { numRuns: 3000 },
  );
  expect(resolved).toBeGreaterThan(0); // the generator also reaches configurations that start
});
