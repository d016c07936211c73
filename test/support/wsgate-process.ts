import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Inside node_modules so the bundle's external imports (ws, pino, …) resolve; never committed. */
const OUT_DIR = join(ROOT, 'node_modules/.cache/wsgate-test');

let built: Promise<string> | undefined;

/**
 * Bundle `bin/wsgate.ts` from the current sources with esbuild (dependencies stay external), so
 * the test runs the real command without depending on a possibly stale `dist/`. Once per test file.
 */
export function buildBin(): Promise<string> {
  built ??= (async () => {
    mkdirSync(OUT_DIR, { recursive: true });
    const out = join(OUT_DIR, `wsgate-${process.pid}.mjs`);
    const esbuild = join(ROOT, 'node_modules/.bin/esbuild');
    await promisify(execFile)(esbuild, [join(ROOT, 'bin/wsgate.ts'), '--bundle', '--platform=node', '--format=esm', '--packages=external', `--outfile=${out}`, '--log-level=warning']);
    return out;
  })();
  return built;
}

/** A running `wsgate` child process. */
export interface WsgateProcess {
  child: ChildProcess;
  port: number;
  /** http://127.0.0.1:PORT (https when TLS). */
  base: string;
  /** Log lines (parsed pino JSON) so far. */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code (or 128 + signal) and when it happened. */
  exited: Promise<{ code: number; at: number }>;
  /** Kill it hard if it is still running (test cleanup). */
  kill(): void;
}

/** Start `wsgate` with `args` (plus `--port 0 --host 127.0.0.1`) and wait for "wsgate listening". */
export async function startWsgate(args: string[], timeoutMs = 10_000): Promise<WsgateProcess> {
  const bin = await buildBin();
  const child = spawn(process.execPath, [bin, '--port', '0', '--host', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number; at: number }>((res) =>
    child.once('exit', (code, signal) => res({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 2), at: Date.now() })),
  );
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`wsgate did not start: ${stderr}`)), timeoutMs);
    let pending = '';
    child.stdout!.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (entry.msg === 'wsgate listening') {
            clearTimeout(timer);
            res(entry.port as number);
          }
        } catch {
          // not a log line
        }
      }
    });
    void exited.then(({ code }) => rej(new Error(`wsgate exited ${code} before listening: ${stderr}`)));
  });
  const tls = args.includes('--tls-cert');
  return {
    child,
    port,
    base: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    logs,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
