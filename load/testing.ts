/**
 * For the e2e tests: bundle the driver from source with esbuild (so the tests do not depend on a `dist/` build
 * someone else may be rewriting) and run it as a child process, the way a user runs `npm run load`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Report } from './report.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Bundle load/cli.ts, worker.ts and gateway-child.ts into a fresh directory under node_modules/.cache. */
export async function bundleDriver(): Promise<{ dir: string; remove(): void }> {
  const { build } = await import('esbuild');
  // Under node_modules so that the bundles' bare imports (ws, pino, …) resolve from the project.
  const dir = join(ROOT, 'node_modules', '.cache', `wsgate-load-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: ['cli', 'worker', 'gateway-child'].map((n) => join(ROOT, 'load', `${n}.ts`)),
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: dir,
    logLevel: 'error',
  });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
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
