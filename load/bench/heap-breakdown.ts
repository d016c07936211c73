#!/usr/bin/env node
/**
 * Where the bytes of an idle connection go: heap snapshots of a bench server (raw `ws` and wsgate) before and after
 * N idle clients connect (hello done, one channel subscription, own rooms, as in the bench's idle scenario), the
 * self sizes grouped by constructor (closures by function name), the difference divided by N.
 *
 *   npm run build && node dist/load/bench/heap-breakdown.js [--clients 2000] [--kinds ws,wsgate] [--top 25] [--keep]
 *   (--keep leaves the snapshots in the temporary directory it names, for Chrome DevTools)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAll, withSetup, type Server } from './scenarios.js';
import type { BenchKind } from './servers.js';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Total self size by "type:name" (objects by constructor, closures by function name, strings etc. by type). */
function groups(file: string): Map<string, { bytes: number; count: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const [T, N, S] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const out = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const type = types[snap.nodes[i + T]!]!;
    const named = type === 'object' || type === 'closure' || type === 'native';
    const key = named ? `${type}:${snap.strings[snap.nodes[i + N]!]}` : type;
    const g = out.get(key) ?? { bytes: 0, count: 0 };
    g.bytes += snap.nodes[i + S]!;
    g.count++;
    out.set(key, g);
  }
  return out;
}

async function snapshot(s: Server, dir: string, name: string): Promise<string> {
  const file = join(dir, `${name}.heapsnapshot`);
  await s.ask({ cmd: 'snapshot', file });
  return file;
}

async function breakdown(kind: BenchKind, n: number, top: number, dir: string): Promise<string> {
  const rows = await withSetup(kind, n, 6000, async (s, ws) => {
    const before = groups(await snapshot(s, dir, `${kind}-before`));
    const c = await connectAll(kind, s.port, ws, n, { room: 'own', subscribe: true });
    await new Promise((r) => setTimeout(r, 2000));
    const after = groups(await snapshot(s, dir, `${kind}-after`));
    return [...after].map(([key, a]) => {
      const b = before.get(key) ?? { bytes: 0, count: 0 };
      return { key, bytes: (a.bytes - b.bytes) / c.ok, count: (a.count - b.count) / c.ok };
    });
  });
  rows.sort((a, b) => b.bytes - a.bytes);
  const total = rows.reduce((t, r) => t + r.bytes, 0);
  const lines = rows.slice(0, top).map((r) => `| ${r.key.replace(/\|/g, '\\|')} | ${r.count.toFixed(2)} | ${r.bytes.toFixed(0)} |`);
  return [`### ${kind}: ${(total / 1024).toFixed(2)} KiB of heap per connection (${n} connections)`, '',
    '| type:constructor | objects / conn | bytes / conn |', '|---|---:|---:|', ...lines, ''].join('\n');
}

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const n = Number(arg('clients', '2000'));
const top = Number(arg('top', '25'));
const kinds = arg('kinds', 'ws,wsgate').split(',') as BenchKind[];
const dir = mkdtempSync(join(tmpdir(), 'wsgate-heap-'));
try {
  for (const k of kinds) process.stdout.write(`${await breakdown(k, n, top, dir)}\n`);
} finally {
  if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  else process.stdout.write(`snapshots kept in ${dir}\n`);
}
process.exit(0);
