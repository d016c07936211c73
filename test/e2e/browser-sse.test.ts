import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { mountDemo } from '../../src/demo/mount-demo.js';
import type { Gateway } from '../../src/index.js';
import { startGateway } from '../support/gateway.js';
import { metric } from '../support/http-api.js';
import { startNginx, type NginxHandle } from '../support/nginx.js';
import { buildClientBundle, CHROMIUM_ARGS, eventually, range, selfSignedCert, spkiHash, view } from './browser-support.js';

// The demo page in Chromium through docs/nginx-sse.conf as shipped (ports, certificate, upstream
// substituted; /demo/ passed through for the page): nginx passes no upgrades, so the SDK falls
// back to Server-Sent Events + POSTs, on the same sessions, with nginx's default 60 s read timeout.

let dir: string;
let gw: Gateway;
let nginx: NginxHandle;
let browser: Browser;
let context: BrowserContext | undefined;
let origin: string;

function configFrom(doc: string, port: number, upstream: number, tls: { cert: string; key: string }): string {
  const site = doc
    .replace('listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`)
    .replace('server 127.0.0.1:8080;', `server 127.0.0.1:${upstream};`)
    .replace(/ssl_certificate\s+\S+;/, `ssl_certificate ${tls.cert};`)
    .replace(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${tls.key};`)
    .replace('    location / {', '    location /demo/ { proxy_pass http://wsgate; }\n    location / {');
  writeFileSync(join(dir, 'site.conf'), site);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, t)};`).join('\n');
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}pid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')} warn;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n${temp}\n  include ${join(dir, 'site.conf')};\n}\n`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsgate-sse-'));
  buildClientBundle();
  const tls = selfSignedCert(dir);
  // ping_interval at its default (10 s): its comment lines alone must keep nginx's 60 s read timeout
  // away, so the application heartbeat (whose 60 s beat could do it by luck) is off.
  gw = await startGateway({ heartbeatInterval: 0 });
  mountDemo(gw, { publisher: false });
  const doc = readFileSync(join(process.cwd(), 'docs', 'nginx-sse.conf'), 'utf8');
  nginx = await startNginx({ upstreamPort: gw.port, tls, config: (_d, port) => configFrom(doc, port, gw.port, tls) });
  origin = `https://127.0.0.1:${nginx.port}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${spkiHash(tls.cert)}`] });
}, 60_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await nginx?.stop();
  await gw?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function openPage(channel: string): Promise<Page> {
  context ??= await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await page.goto(`${origin}/demo/?channels=${channel}`);
  await eventually(async () => {
    const v = await view(page);
    return v.state === 'connected' && v.subStates[channel] === 'subscribed';
  }, 30_000, 'the page to connect over SSE and subscribe');
  return page;
}

const transportOf = (page: Page): Promise<string> => page.evaluate(() => (window as unknown as { demo: { client: { transport: string } } }).demo.client.transport);
const scrape = async (): Promise<string> => (await fetch(gw.url('/metrics'))).text();

async function publish(channel: string, values: number[]): Promise<void> {
  for (const v of values) await gw.publish(channel, { level: 'INFO', text: `line ${v}` });
}

describe('the demo page through nginx that passes no upgrades', () => {
  it('falls back to SSE on the same sessions: two tabs share one stream, sends work, a cut stream resumes with nothing lost', async () => {
    const ch = 'sse:demo';
    const a = await openPage(ch);
    const b = await openPage(ch);
    expect(await transportOf(a)).toBe('sse');
    expect((await view(a)).sessionId).toBe((await view(b)).sessionId);
    const m = await scrape();
    expect(metric(m, 'wsgate_connections', { transport: 'sse' })).toBe(1);
    expect(metric(m, 'wsgate_connections', { transport: 'ws' })).toBe(0);
    expect(await a.locator('#mode').textContent()).toContain('SSE');

    await publish(ch, range(10));
    // A client → server frame over POST: the page publishes, both tabs see it.
    await a.evaluate((c) => (window as unknown as { demo: { client: { publish(ch: string, d: unknown): Promise<unknown> } } }).demo.client.publish(c, { level: 'INFO', text: 'line 11' }), ch);
    await eventually(async () => ((await view(b)).received[ch]?.length ?? 0) >= 11, 10_000, 'eleven');

    expect(gw.dropConnection((await view(a)).sessionId!)).toBe(true);
    await publish(ch, range(9, 12));
    for (const page of [a, b]) await eventually(async () => ((await view(page)).received[ch]?.length ?? 0) >= 20, 20_000, 'twenty after the cut');
    await new Promise((r) => setTimeout(r, 300));
    for (const page of [a, b]) {
      const v = await view(page);
      expect(v.received[ch]).toEqual(range(20));
      expect(v.stats.resumes).toBe(1);
    }
    const shown = await b.$$eval(`[data-channel="${ch}"] li[data-offset]`, (els) => els.map((e) => Number((e as HTMLElement).dataset.offset)));
    expect(shown).toEqual(range(20));
    await context?.close();
    context = undefined;
  });

  it('stays connected while idle for longer than nginx\'s 60 s read timeout, without a reconnect', async () => {
    const ch = 'sse:idle';
    const page = await openPage(ch);
    expect(await transportOf(page)).toBe('sse');
    const before = await view(page);
    const closesBefore = (await scrape()).split('\n').filter((l) => l.startsWith('wsgate_closes_total'));
    await new Promise((r) => setTimeout(r, 65_000));
    const after = await view(page);
    expect(after.state).toBe('connected');
    expect(after.stats.reconnects).toBe(before.stats.reconnects);
    expect((await scrape()).split('\n').filter((l) => l.startsWith('wsgate_closes_total'))).toEqual(closesBefore);
    await publish(ch, [1]);
    await eventually(async () => ((await view(page)).received[ch]?.length ?? 0) === 1, 10_000, 'a message after the idle minute');
    expect(nginx.errorLog()).not.toMatch(/upstream timed out/);
  }, 120_000);
});
