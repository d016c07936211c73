import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Compile `entries` (repo-relative .ts files) from the current sources into one fresh directory, so
 * a test runs the real command — the bin, the load driver — as a child process without trusting a
 * `dist/` that may be stale when jest is run alone. The directory lives under node_modules so the
 * bundles' bare imports (ws, pino, …) resolve from the project; dependencies stay external.
 * `name` is the directory's name there: a new one per run, or a fixed one to overwrite.
 */
export async function bundleFromSource(entries: string[], name: string): Promise<{ dir: string; remove(): void }> {
  const { build } = await import('esbuild');
  const dir = join(ROOT, 'node_modules', '.cache', name);
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: entries.map((e) => join(ROOT, e)),
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: dir,
    logLevel: 'error',
  });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
