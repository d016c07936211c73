import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { toFlags } from '../src/cli.js';
import { resolveOptions, type GatewayOptions } from '../src/config.js';
import type { FromWorker, ToWorker } from './types.js';

/** A sibling module of this file (works from dist/load/ and from a bundle with the same entry names). */
function sibling(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

/** Stop a child: SIGTERM, then SIGKILL after `graceMs`. Resolves when it has exited. */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The gateway under test, running in its own process. */
export interface GatewayChild {
  child: ChildProcess;
  port: number;
  options: GatewayOptions;
  /** What it wrote to stderr/stdout (pino JSON at the default level), last 20 kB. */
  output(): string;
  /** Its warn/error log lines, counted by level and message. */
  logCounts: Record<string, number>;
}

const PINO_LEVELS: Record<number, string> = { 40: 'warn', 50: 'error', 60: 'fatal' };

/** Count pino JSON lines at warn or worse by `level msg`; other text counts as `stderr`. */
function countLogLines(chunk: string, into: Record<string, number>): void {
  for (const line of chunk.split('\n')) {
    if (!line.trim()) continue;
    let key = 'stderr';
    try {
      const rec = JSON.parse(line) as { level?: number; msg?: string };
      if ((rec.level ?? 0) < 40) continue;
      key = `${PINO_LEVELS[rec.level ?? 0] ?? rec.level} ${rec.msg ?? ''}`;
    } catch {
      /* not JSON: a crash trace or similar */
    }
    into[key] = (into[key] ?? 0) + 1;
  }
}

/** The ports of the gateway's `wsgate listening` log lines among `lines` (one per process: `--workers N` logs N). */
function listeningPorts(lines: string): number[] {
  const out: number[] = [];
  for (const line of lines.split('\n')) {
    if (!line.includes('"wsgate listening"')) continue;
    const rec = JSON.parse(line) as { port?: number };
    if (typeof rec.port === 'number') out.push(rec.port);
  }
  return out;
}

/**
 * Run the `wsgate` command (via load/gateway-child.js) with these options and wait for its port — with
 * `workers: 'N'`, until all N workers listen (they share the port).
 */
export function startGatewayChild(options: Partial<GatewayOptions>, timeoutMs = 20_000): Promise<GatewayChild> {
  // The driver puts up to 5,000 clients on one source address (load/run.ts): the per-address bound is a
  // defence against one hostile host, not what a load test measures, so it is off unless a scenario sets it.
  const given = { maxConnectionsPerIp: 0, ...options, port: 0, host: '127.0.0.1' };
  const child = fork(sibling('gateway-child'), toFlags(given), { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [...process.execArgv, '--expose-gc'] });
  let out = '';
  let partial = '';
  const logCounts: Record<string, number> = {};
  let listening: ((port: number) => void) | undefined;
  let waitingFor = Math.max(1, Number(options.workers) || 1);
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-20_000);
    const text = partial + d.toString();
    const cut = text.lastIndexOf('\n');
    partial = text.slice(cut + 1);
    const lines = text.slice(0, cut + 1);
    countLogLines(lines, logCounts);
    for (const port of listening ? listeningPorts(lines) : []) if (--waitingFor === 0) listening?.(port);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not start within ${timeoutMs} ms\n${out}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`gateway exited (${code}) during start\n${out}`));
    });
    listening = (port) => {
      listening = undefined;
      clearTimeout(t);
      resolve({ child, port, options: resolveOptions(given), output: () => out, logCounts });
    };
  });
}

/** A forked client worker. */
export interface WorkerChild {
  child: ChildProcess;
  send(msg: ToWorker): void;
}

/** Fork one client worker; `onMessage` gets everything it reports. */
export function startWorker(onMessage: (m: FromWorker) => void): WorkerChild {
  // A few thousand sockets each: a bigger heap than the default is not needed, but old-space head room helps.
  const child = fork(sibling('worker'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.on('message', (m: FromWorker) => onMessage(m));
  return {
    child,
    send: (msg) => {
      if (child.connected) child.send(msg);
    },
  };
}
