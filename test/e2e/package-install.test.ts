import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * What a user of another project does: `npm pack` wsgate, `npm i` the tarball into an empty project,
 * import `wsgate`, `wsgate/client` and `wsgate/legacy-adapter`, connect, and run the `wsgate` command.
 * The pack happens in a copy of the sources (its `prepare` builds there), so the repo's dist/ is not
 * rebuilt under other tests' feet. Dependencies come from npm's cache (`--prefer-offline`).
 */
const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCES = ['package.json', 'package-lock.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'src', 'legacy-adapter', 'load', 'bin', 'scripts', 'docs'];

let work: string;
let tarball: string;
let files: string[];
let consumer: string;

const CONSUMER_SCRIPT = `
import WebSocket from 'ws';
import { createGateway, CLIENT_BUNDLE_PATH } from 'wsgate';
import { WsgateClient } from 'wsgate/client';
import { mountLegacyAdapter } from 'wsgate/legacy-adapter';

const gw = createGateway({ port: 0, host: '127.0.0.1', logLevel: 'silent' });
mountLegacyAdapter(gw);
await gw.listen();
const client = new WsgateClient({ url: gw.url('/api/ws'), WebSocket, profile: { name: 'ann' } });
const connected = await new Promise((resolve) => client.on('connected', resolve));
const v2 = new WebSocket(gw.url('/ws') + '?username=bob');
const v2Frames = [];
await new Promise((resolve) => v2.on('message', (data) => {
  v2Frames.push(JSON.parse(String(data)));
  if (v2Frames.some((f) => f.event === 'system/init')) resolve();
}));
console.log(JSON.stringify({ sessionId: connected.sessionId, v2Events: v2Frames.map((f) => f.event), members: v2Frames[0].members, bundlePath: CLIENT_BUNDLE_PATH }));
v2.close();
client.close();
await gw.close();
`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'wsgate-pack-'));
  const copy = join(work, 'wsgate');
  mkdirSync(copy);
  for (const entry of SOURCES) cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: copy, maxBuffer: 64 * 1024 * 1024 });
  const packed = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, packed[0]!.filename);
  files = packed[0]!.files.map((f) => f.path);

  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run('npm', ['i', tarball, 'ws', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: consumer });
  writeFileSync(join(consumer, 'use.mjs'), CONSUMER_SCRIPT);
}, 240_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  test('holds the build, the browser bundle and the docs, and no tests or load results', () => {
    expect(files).toEqual(expect.arrayContaining(['dist/src/index.js', 'dist/src/client/index.js', 'dist/legacy-adapter/index.js', 'dist/bin/wsgate.js', 'dist/client/wsgate-client.js', 'docs/protocol.md', 'docs/asyncapi.yaml']));
    expect(files.filter((f) => /^(test|load)\/|^dist\/(load|test)\/|\.test\.|results/.test(f))).toEqual([]);
    expect(readdirSync(join(consumer, 'node_modules', 'wsgate'))).not.toContain('test');
  });

  test('another project imports wsgate, wsgate/client and wsgate/legacy-adapter and connects', async () => {
    const { stdout } = await run(process.execPath, ['use.mjs'], { cwd: consumer, timeout: 30_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as { sessionId: string; v2Events: string[]; members: { displayname: string }[]; bundlePath: string };
    expect(out.sessionId).toMatch(/^[\w-]{21}$/);
    expect(out.v2Events).toEqual(['member/list', 'system/init']);
    expect(out.members.map((m) => m.displayname).sort()).toEqual(['ann', 'bob']);
    expect(out.bundlePath).toBe('/wsgate-client.js');
  }, 60_000);

  test('its wsgate command starts, names its endpoints and serves the browser bundle', async () => {
    const child = spawn(join(consumer, 'node_modules', '.bin', 'wsgate'), ['--port', '0', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no "wsgate listening" line')), 20_000);
        let buf = '';
        child.stdout!.on('data', (d: Buffer) => {
          buf += d.toString();
          for (const line of buf.split('\n')) {
            if (!line.includes('"wsgate listening"')) continue;
            clearTimeout(timer);
            resolve(JSON.parse(line) as Record<string, unknown>);
          }
        });
      });
      const base = `127.0.0.1:${String(listening.port)}`;
      expect(listening).toMatchObject({ msg: 'wsgate listening', host: '127.0.0.1' });
      expect(listening.urls).toEqual({
        v3: `ws://${base}/api/ws`,
        v2: `ws://${base}/ws`,
        sse: `http://${base}/api/sse`,
        api: `http://${base}/api/`,
        metrics: `http://${base}/metrics`,
        health: `http://${base}/healthz`,
        client: `http://${base}/wsgate-client.js`,
      });
      const res = await fetch(`${listening.urls && (listening.urls as Record<string, string>).client}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('javascript');
      expect(await res.text()).toContain('WsgateClient');
      // The shared mode's worker script ships and is served next to the bundle.
      const worker = await fetch(`http://${base}/wsgate-shared-worker.js`);
      expect(worker.status).toBe(200);
      expect(await worker.text()).toContain('onconnect');
    } finally {
      child.kill('SIGKILL');
    }
  }, 40_000);
});
