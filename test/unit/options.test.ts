import { readFileSync } from 'node:fs';
import { parseCli, toFlags } from '../../src/cli.js';
import { ConfigError, GATEWAY_OPTIONS, readEnv, resolveOptions } from '../../src/config.js';
import { createGateway } from '../../src/gateway.js';
import { parseLegacyArgs } from '../../legacy-adapter/cli.js';

const bad = (argv: string[]): string => {
  try {
    parseCli(argv, {});
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
};

describe('one option schema', () => {
  test('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(parseCli(['--version'], {})).toEqual({ kind: 'version', text: `wsgate ${pkg.version}` });
  });

  test('--help has one aligned column of flags with value placeholders, and the log levels', () => {
    const r = parseCli(['--help'], {});
    if (r.kind !== 'help') throw new Error('no help');
    const rows = r.text.split('\n').filter((l) => /^ {2}-/.test(l));
    expect(rows.length).toBe(Object.keys(GATEWAY_OPTIONS).length + 3);
    const column = new Set(rows.map((l) => /^ {2}\S.*? {2,}(?=\S)/.exec(l)![0].length));
    expect(column.size).toBe(1);
    expect(r.text).toMatch(/ {2}--port N +TCP port/);
    expect(r.text).toMatch(/--log-level LEVEL +log level: fatal, error, warn, info, debug, trace, silent/);
  });

  test('a bad value names the option and, for on/off options, the values accepted', () => {
    expect(bad(['--legacy', 'maybe'])).toBe('--legacy: expected true or false (also yes/no, on/off, 1/0), got "maybe"');
    expect(bad(['--ping-interval', '-2'])).toBe('--ping-interval: must be at least 0, got -2');
    expect(bad(['--max-payload', '1.5'])).toBe('--max-payload: expected a whole number, got 1.5');
    expect(bad(['--log-level', 'loud'])).toContain('--log-level: expected one of fatal, error');
    expect(bad(['--port'])).toBe('--port: needs a value');
    expect(() => parseCli([], { WSGATE_LEGACY: 'perhaps' })).toThrow('--legacy: expected true or false');
    expect(bad(['--trust-proxy', '10.0.0.0/99'])).toContain('--trust-proxy: "10.0.0.0/99" has a bad prefix length');
    expect(bad(['--trust-proxy', 'loopback,proxy.example'])).toContain('--trust-proxy: "proxy.example" is not an IP address');
    expect(bad(['--max-connections-per-ip', '-1'])).toBe('--max-connections-per-ip: must be at least 0, got -1');
  });

  test('on/off options read every spelling', () => {
    const legacy = (argv: string[]): boolean => {
      const r = parseCli(argv, {});
      if (r.kind !== 'run') throw new Error('not run');
      return r.options.legacy;
    };
    expect(legacy(['--legacy', 'off'])).toBe(false);
    expect(legacy(['--legacy=no'])).toBe(false);
    expect(legacy(['--no-legacy'])).toBe(false);
    expect(legacy(['--legacy', '--demo'])).toBe(true);
    expect(readEnv({ WSGATE_DEMO: 'YES' }).demo).toBe(true);
  });

  test('seconds become milliseconds once, in the resolved options', () => {
    const o = resolveOptions({ pingInterval: 0.5, heartbeatInterval: 3, drainBatchPause: 0.05 });
    expect(o).toMatchObject({ pingInterval: 0.5, pingIntervalMs: 500, heartbeatTimeoutMs: 6000, sessionTtlMs: 120_000, helloTimeoutMs: 5000, historyTtlMs: 300_000, drainTimeoutMs: 30_000 });
    expect(o.drainBatchPauseMs).toBeCloseTo(50);
    // Resolving resolved options (as spread by a caller) recomputes the ms fields from the seconds.
    expect(resolveOptions({ ...o, pingInterval: 2 }).pingIntervalMs).toBe(2000);
  });

  test('options resolved by the command are not resolved again by the gateway', async () => {
    const r = parseCli(['--port', '0', '--host', '127.0.0.1', '--log-level', 'silent'], {});
    if (r.kind !== 'run') throw new Error('not run');
    const gw = createGateway(r.options);
    expect(gw.options).toBe(r.options);
    await gw.close();
  });

  test('toFlags round-trips through the command line', () => {
    const options = { pingInterval: 0.25, allowedOrigins: ['https://a.example'], clientPublish: false, logLevel: 'warn' as const };
    const r = parseCli(toFlags(options), {});
    if (r.kind !== 'run') throw new Error('not run');
    expect(r.options).toMatchObject(options);
  });
});

describe('wsgate legacy uses the same machinery', () => {
  test('shared options keep the gateway bounds; ports and sizes are not read as seconds', () => {
    const base = ['--port', '0', '--upstream', 'ws://127.0.0.1:1/api/ws'];
    expect(() => parseLegacyArgs([...base, '--max-payload', '10'])).toThrow('--max-payload: must be at least 64, got 10');
    expect(() => parseLegacyArgs(['--port', '1.5', '--upstream', 'ws://h/api/ws'])).toThrow('--port: expected a whole number, got 1.5');
    expect(() => parseLegacyArgs(['--port', '70000', '--upstream', 'ws://h/api/ws'])).toThrow('--port: must be at most 65535');
    expect(() => parseLegacyArgs([...base, '--config', 'x.yaml'])).toThrow('unknown option "--config"');
    expect(parseLegacyArgs([...base, '--ping-interval', '0.5'])).toMatchObject({ port: 0, pingInterval: 0.5, pingTimeout: 10, maxPayload: 65536, logLevel: 'info' });
  });
});

test('the adapter library refuses the same values as the legacy flags', async () => {
  const { validateAdapterOptions } = await import('../../legacy-adapter/adapter.js');
  const ok = { upstream: 'ws://127.0.0.1:1/api/ws', pingInterval: 10, pingTimeout: 10 };
  expect(() => validateAdapterOptions(ok)).not.toThrow();
  expect(() => validateAdapterOptions({ ...ok, upstream: () => 'anything' })).not.toThrow();
  expect(() => validateAdapterOptions({ ...ok, upstream: 'http://x' })).toThrow('--upstream: expected a ws:// or wss:// URL');
  expect(() => validateAdapterOptions({ ...ok, pingInterval: -1 })).toThrow('--ping-interval: must be at least 0, got -1');
  expect(() => validateAdapterOptions({ ...ok, maxPayload: 10.5 })).toThrow('--max-payload: expected a whole number, got 10.5');
  expect(() => validateAdapterOptions({ ...ok, pingTimeout: 0 })).toThrow('--ping-timeout: expected a number of seconds > 0');
});
