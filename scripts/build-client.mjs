#!/usr/bin/env node
// Build the browser bundle of the client SDK: one ESM file with no imports, served by the demo
// page and usable from any page (`<script type="module">import { createClient } from '/…/wsgate-client.js'`),
// and next to it the SharedWorker script its shared mode starts (wsgate-shared-worker.js).
// Usage: node scripts/build-client.mjs [--outdir dist/client] [--minify]
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outdir = args.includes('--outdir') ? args[args.indexOf('--outdir') + 1] : join(root, 'dist', 'client');
const minify = args.includes('--minify');

const common = { bundle: true, platform: 'browser', target: 'es2020', sourcemap: true, minify, metafile: true, logLevel: 'warning' };
const results = [
  await build({ ...common, entryPoints: [join(root, 'src', 'client', 'index.ts')], outfile: join(outdir, 'wsgate-client.js'), format: 'esm' }),
  // The SharedWorker script of the shared mode, next to the bundle (where createClient looks for it).
  // A classic script (iife), so browsers without module workers can run it too.
  await build({ ...common, entryPoints: [join(root, 'src', 'client', 'shared-worker.ts')], outfile: join(outdir, 'wsgate-shared-worker.js'), format: 'iife' }),
];

for (const result of results) {
  // The SDK must stay browser-safe: fail the build if anything Node-only slipped in.
  const inputs = Object.keys(result.metafile.inputs);
  const nodeOnly = inputs.filter((p) => p.startsWith('node:') || p.includes('node_modules/ws/') || p.includes('node_modules/pino'));
  if (nodeOnly.length > 0) {
    console.error(`build-client: Node-only modules in the browser bundle: ${nodeOnly.join(', ')}`);
    process.exit(1);
  }
  const out = Object.entries(result.metafile.outputs).find(([p]) => p.endsWith('.js'));
  console.log(`build-client: ${out?.[0]} (${out?.[1].bytes} bytes, ${inputs.length} sources)`);
}
