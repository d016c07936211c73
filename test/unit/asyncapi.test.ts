import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BROADCAST_TO_V2, V2_TO_V3, V3_TO_V2 } from '../../legacy-adapter/translate.js';
import { v2Disconnect, v2Error } from '../../legacy-adapter/v2-codec.js';
import { ClientEvent, ServerEvent } from '../../src/protocol/events.js';

/**
 * docs/asyncapi.yaml is validated by @asyncapi/parser (in a child node process: the parser is heavy
 * ESM and does not belong in jest's VM) and must name exactly the events the code sends and accepts.
 */
const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'check-asyncapi.mjs');
const DOC = join(ROOT, 'docs', 'asyncapi.yaml');

interface Summary {
  errors: string[];
  operations: Record<string, { action: string; address: string[]; events: string[]; generic: number }>;
}

async function check(file: string): Promise<{ code: number; summary: Summary }> {
  try {
    const { stdout } = await run(process.execPath, [SCRIPT, file], { cwd: ROOT });
    return { code: 0, summary: JSON.parse(stdout) as Summary };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, summary: JSON.parse(e.stdout) as Summary };
  }
}

const sorted = (names: Iterable<string>): string[] => [...new Set(names)].sort();

/** Every v2 event the adapter can send: run each v3→v2 rule (and each broadcast subject) on a sample. */
function v2EventsSent(): string[] {
  const sample = { sessions: [{ id: 'a', profile: { name: 'ann' }, is_connected: true }], session_id: 'a', code: 'x', message: 'm', reason: 'r', id: 'a', profile: {} };
  const out = Object.values(V3_TO_V2).flatMap((rule) => rule(sample));
  for (const [subject, rule] of Object.entries(BROADCAST_TO_V2)) out.push(rule('a', { text: subject, emote: subject }));
  out.push(v2Error('bad_message', 'm'), v2Disconnect('upstream_lost', 'm'));
  return sorted(out.map((f) => f.event));
}

describe('docs/asyncapi.yaml', () => {
  let summary: Summary;
  beforeAll(async () => {
    const result = await check(DOC);
    expect(result.summary.errors).toEqual([]);
    expect(result.code).toBe(0);
    summary = result.summary;
  }, 60_000);

  test('describes both endpoints, both directions', () => {
    const ops = Object.values(summary.operations).map((o) => `${o.action} ${o.address.join()}`);
    expect(ops.sort()).toEqual(['receive /api/ws', 'receive /ws', 'send /api/ws', 'send /ws']);
  });

  test('v3: the client events the gateway handles itself, plus one generic application event', () => {
    const op = summary.operations.v3Receive!;
    expect(sorted(op.events)).toEqual(sorted(Object.values(ClientEvent)));
    expect(op.generic).toBe(1);
  });

  test('v3: the events the gateway sends, plus one generic application event', () => {
    const op = summary.operations.v3Send!;
    expect(sorted(op.events)).toEqual(sorted(Object.values(ServerEvent)));
    expect(op.generic).toBe(1);
  });

  test('v2: the events the adapter translates itself, plus the pass-through', () => {
    const op = summary.operations.v2Receive!;
    expect(sorted(op.events)).toEqual(sorted(Object.keys(V2_TO_V3)));
    expect(op.generic).toBe(1);
  });

  test('v2: the events the adapter sends, plus the pass-through', () => {
    const op = summary.operations.v2Send!;
    expect(sorted(op.events)).toEqual(v2EventsSent());
    expect(op.generic).toBe(1);
  });

  test('docs/protocol.md names every event of the document', () => {
    const prose = readFileSync(join(ROOT, 'docs', 'protocol.md'), 'utf8');
    const all = Object.values(summary.operations).flatMap((o) => o.events);
    expect(all.filter((e) => !prose.includes(`\`${e}`))).toEqual([]);
  });

  test('a broken document is reported, naming the place', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asyncapi-'));
    try {
      const broken = readFileSync(DOC, 'utf8').replace('    action: send\n    title: gateway → v3 client', '    action: shout\n    title: gateway → v3 client');
      writeFileSync(join(dir, 'broken.yaml'), broken);
      const result = await check(join(dir, 'broken.yaml'));
      expect(result.code).toBe(1);
      expect(result.summary.errors.join('\n')).toMatch(/operations\.v3Send\.action/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
