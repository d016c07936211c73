import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import type { Report } from '../../load/report.js';
import { renderHtml } from '../../load/report-html.js';
import { bundleDriver, runDriver, type DriverRun } from '../support/load-driver.js';
import { CHROMIUM_ARGS } from './browser-support.js';

/**
 * The load driver's --html report: a real (small) chat run writes a per-second timeline and an HTML file
 * whose charts headless Chromium draws with no network at all (uPlot is inlined).
 */
let driver: { dir: string; remove(): void };
let browser: Browser;
let run: DriverRun;
let html: string;

beforeAll(async () => {
  driver = await bundleDriver();
  html = join(driver.dir, 'report.html');
  run = await runDriver(driver.dir, ['--scenario', 'chat', '--clients', '20', '--v2-share', '0.2', '--duration', '4', '--via', 'direct', '--html', html]);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  driver?.remove();
});

/** Open an HTML file with every network request refused; resolve the number of charts drawn and what was requested. */
async function render(file: string): Promise<{ canvases: number; empty: number; requested: string[] }> {
  const context = await browser.newContext();
  try {
    const requested: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url === pathToFileURL(file).href) return route.continue();
      requested.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction(() => (window as unknown as { reportReady?: boolean }).reportReady === true, undefined, { timeout: 10_000 });
    return { canvases: await page.locator('.chart canvas').count(), empty: await page.locator('.chart .empty').count(), requested };
  } finally {
    await context.close();
  }
}

test('a run keeps a per-second timeline of connections, gateway RSS/CPU/event-loop delay and latency', () => {
  expect(run.code).toBe(0);
  const tl = run.report!.timeline!;
  expect(tl.length).toBeGreaterThanOrEqual(4);
  expect(tl.map((s) => s.phase)).toContain('chat');
  expect(Math.max(...tl.map((s) => s.open))).toBe(20);
  expect(tl.every((s) => s.rssMiB !== null && s.rssMiB > 10)).toBe(true);
  expect(tl.some((s) => s.cpuPct !== null)).toBe(true);
  expect(tl.some((s) => s.lagP99Ms !== null && s.lagP99Ms > 0)).toBe(true);
  expect(tl.some((s) => s.phase === 'chat' && s.latencyP50Ms !== null)).toBe(true);
  // The counters an idle run is made of are live too, not only the chat messages.
  expect(tl.at(-1)!.pings + tl.at(-1)!.heartbeatsReceived + tl.at(-1)!.received).toBeGreaterThan(0);
});

test('--html writes a report whose charts draw offline, one per measure', async () => {
  const text = readFileSync(html, 'utf8');
  expect(text).toContain('wsgate load — chat');
  expect(text).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/);
  const r = await render(html);
  expect(r.requested).toEqual([]);
  expect(r.canvases).toBe(7);
  expect(r.empty).toBe(0);
}, 30_000);

test('a report written before timelines existed is charted from a re-run, and says so', async () => {
  const old = { ...run.report!, timeline: undefined } as Report;
  const bare = join(driver.dir, 'bare.html');
  writeFileSync(bare, renderHtml(old));
  expect(readFileSync(bare, 'utf8')).toContain('has no time series');
  const borrowed = join(driver.dir, 'borrowed.html');
  writeFileSync(borrowed, renderHtml(old, { seriesFrom: { report: run.report!, label: 'chat-20.json' } }));
  expect(readFileSync(borrowed, 'utf8')).toContain('Charts: chat-20.json');
  expect((await render(borrowed)).canvases).toBe(7);
}, 30_000);
