import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository describes its protocol itself: nothing may point outside it (the contract a user who cloned the
 * repo does not have), and every "docs/protocol.md §N" a file cites names a section that exists.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TEXT = /\.(ts|mjs|js|md|yaml|yml|json|html|css|conf|sh)$/;
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => TEXT.test(f) && !f.startsWith('load/results/') && f !== 'package-lock.json');
const read = (f: string): string => {
  try {
    return readFileSync(join(ROOT, f), 'utf8');
  } catch {
    return ''; // listed but deleted in the work tree
  }
};

test('no file points outside the repository for the protocol', () => {
  const outside = files.filter((f) => f !== 'test/unit/self-contained.test.ts' && /\.\.\/shared|shared\/PROTOCOL|PROTOCOL\.md/.test(read(f)));
  expect(outside).toEqual([]);
});

test('every "docs/protocol.md §N" citation names a section of docs/protocol.md', () => {
  const sections = new Set([...read('docs/protocol.md').matchAll(/^#{2,3} (\d+(?:\.\d+)?)[. ]/gm)].map((m) => m[1]));
  expect(sections.size).toBeGreaterThan(20);
  const bad: string[] = [];
  let cited = 0;
  for (const f of files) {
    for (const line of read(f).split('\n')) {
      const at = line.indexOf('protocol.md §');
      if (at < 0) continue;
      for (const m of line.slice(at).matchAll(/§(\d+(?:\.\d+)?)/g)) {
        cited++;
        if (!sections.has(m[1]!)) bad.push(`${f}: §${m[1]}`);
      }
    }
  }
  expect(cited).toBeGreaterThan(20);
  expect(bad).toEqual([]);
});
