import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { eventually, startBrowserStack, view, type BrowserStack } from './browser-support.js';

let stack: BrowserStack;
let context: BrowserContext | undefined;

beforeAll(async () => {
  // The demo's own fake log publisher this time (logs:api, logs:auth, logs:billing, logs:worker).
  stack = await startBrowserStack({}, { publisher: true, publishPeriodMs: 100 });
}, 60_000);
afterAll(async () => {
  await context?.close();
  await stack?.stop();
});

const CHANNELS = ['logs:api', 'logs:auth', 'logs:billing', 'logs:worker'];

describe('the demo page', () => {
  it('shows four live log tails over one connection, each pausable, with state and heartbeat counters', async () => {
    context = await stack.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    await page.goto(`${stack.origin}/demo/`);
    const lines = (ch: string): Promise<number> => page.locator(`[data-channel="${ch}"] li[data-offset]`).count();
    await eventually(async () => (await Promise.all(CHANNELS.map(lines))).every((n) => n >= 3), 20_000, 'lines in every panel');
    expect(stack.gw.sessions().filter((s) => s.isConnected)).toHaveLength(1); // one connection carries all four

    // Pause one channel from its button: it stops growing while the others go on.
    await page.locator('[data-channel="logs:billing"] button.toggle').click();
    await eventually(async () => (await view(page)).subStates['logs:billing'] === 'paused', 5_000, 'billing paused');
    const billingBefore = await lines('logs:billing');
    const apiBefore = await lines('logs:api');
    await eventually(async () => (await lines('logs:api')) >= apiBefore + 3, 10_000, 'api to keep going');
    expect(await lines('logs:billing')).toBe(billingBefore);

    // Cut the socket from the server side: the page shows a reconnect and a resume.
    await page.locator('#drop').click();
    await eventually(async () => {
      const v = await view(page);
      return v.state === 'connected' && v.stats.resumes >= 1;
    }, 15_000, 'resume after the cut');
    expect(await page.locator('#state').textContent()).toBe('connected');
    expect(await page.locator('#events').textContent()).toContain('resumed session');

    // Heartbeat counters move (heartbeat_interval is 1 s here) and the ping interval is shown.
    await eventually(async () => Number(await page.locator('#hb-in').textContent()) >= 2, 10_000, 'server heartbeats seen');
    expect(await page.locator('#ping').textContent()).toBe('1');

    // No offset shown twice or out of order in any running panel, and no line that reads like a repeat of another.
    for (const ch of CHANNELS) {
      const offsets = await page.$$eval(`[data-channel="${ch}"] li[data-offset]`, (els) => els.map((e) => Number((e as HTMLElement).dataset.offset)));
      for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBe(offsets[i - 1]! + 1);
      const texts = await page.$$eval(`[data-channel="${ch}"] li[data-offset] .txt`, (els) => els.map((e) => e.textContent));
      expect(texts.length).toBeGreaterThan(2);
      expect(new Set(texts).size).toBe(texts.length);
    }

    // The "pause while hidden" box says what it does on the page itself, and nothing the page asked for failed (favicon included).
    expect(await page.locator('#auto-pause').isEnabled()).toBe(true);
    expect(await page.locator('.controls .hint').isVisible()).toBe(true);
    expect(await page.locator('.controls .hint').textContent()).toContain('reloads the page');
    expect(failed).toEqual([]);

    if (process.env.WSGATE_SCREENSHOT) {
      // docs/demo.png: let the tails fill up a little first.
      await new Promise((r) => setTimeout(r, 2500));
      await page.screenshot({ path: join(process.cwd(), 'docs', 'demo.png') });
    }
  });

  it('runs the browser snippet of docs/client.md as written, importing /wsgate-client.js from the gateway', async () => {
    const md = readFileSync(join(process.cwd(), 'docs', 'client.md'), 'utf8');
    const snippet = /### Browser[\s\S]*?```html\n([\s\S]*?)```/.exec(md)?.[1];
    expect(snippet).toContain("from '/wsgate-client.js'");
    const ctx = await stack.browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await ctx.newPage();
      // The page itself is the user's, served from the gateway's origin like any app route (through nginx).
      stack.gw.route('GET', '/snippet.html', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><meta charset="utf-8">${snippet!}`);
      });
      const logged: string[] = [];
      const errors: string[] = [];
      page.on('console', (m) => logged.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${stack.origin}/snippet.html`);
      await eventually(async () => (await page.title()) === 'connected' && logged.some((l) => /^\d+ hello$/.test(l)), 15_000, 'the snippet to connect and see its own message').catch(async (e: Error) => { throw new Error(`${e.message}: title ${await page.title()}, console ${JSON.stringify(logged.slice(-5))}, errors ${JSON.stringify(errors)}`); });
      expect(errors).toEqual([]);
    } finally {
      await ctx.close();
    }
  });
});
