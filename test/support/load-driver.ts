/**
 * For the e2e tests: the load driver bundled from source and run as a child process, the way a user
 * runs `npm run load`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../../load/report.js';
import { bundleFromSource } from './bundle.js';

/** Bundle the load driver (cli, worker, gateway-child; the failover storm) from source; run it with {@link runDriver}. */
export function bundleDriver(): Promise<{ dir: string; remove(): void }> {
  return bundleFromSource(['load/cli.ts', 'load/worker.ts', 'load/gateway-child.ts', 'load/hostile-worker.ts', 'load/redis-failover.ts', 'load/failover-shard.ts'], `wsgate-load-${process.pid}-${Date.now()}`);
}

/** What one driver run produced. */
export interface DriverRun {
  code: number | null;
  stdout: string;
  stderr: string;
  report: Report | undefined;
}

/** Run the bundled driver with `args` (plus --json into the bundle dir) and read its report. */
export function runDriver(dir: string, args: string[]): Promise<DriverRun> {
  const json = join(dir, `report-${Date.now()}.json`);
  const child = spawn(process.execPath, [join(dir, 'cli.js'), ...args, '--json', json], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      let report: Report | undefined;
      try {
        report = JSON.parse(readFileSync(json, 'utf8')) as Report;
      } catch {
        report = undefined;
      }
      resolve({ code, stdout, stderr, report });
    });
  });
}
