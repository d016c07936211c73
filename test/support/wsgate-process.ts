import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { bundleFromSource } from './bundle.js';

let built: Promise<string> | undefined;

/** The `wsgate` command bundled from the current sources, once per test file. */
export function buildBin(): Promise<string> {
  // One directory per jest worker, overwritten by each test file (jest workers skip exit handlers).
  built ??= bundleFromSource(['bin/wsgate.ts'], `wsgate-bin-${process.pid}`).then(({ dir }) => join(dir, 'wsgate.js'));
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

/** Start `wsgate` with `args` (plus `--port 0 --host 127.0.0.1`), and `env` added to the environment; wait for "wsgate listening". */
export async function startWsgate(args: string[], timeoutMs = 10_000, env?: Record<string, string>): Promise<WsgateProcess> {
  const bin = await buildBin();
  const child = spawn(process.execPath, [bin, '--port', '0', '--host', '127.0.0.1', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: env && { ...process.env, ...env } });
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
