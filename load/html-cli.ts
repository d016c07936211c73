#!/usr/bin/env node
/**
 * `npm run load:html -- REPORT.json OUT.html [--series OTHER.json] [--note TEXT] [--png FILE]`: write the HTML
 * report of a saved JSON report (`npm run load -- … --json`), optionally charting the time series of another
 * run (for reports written before the driver kept one), and optionally a PNG of it rendered by headless
 * Chromium (/usr/bin/chromium, or $CHROMIUM; never a downloaded browser).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderHtml, type HtmlOptions } from './report-html.js';
import type { Report } from './report.js';

const USAGE = 'usage: npm run load:html -- REPORT.json OUT.html [--series OTHER.json] [--note TEXT] [--png FILE]';

/** Render `htmlFile` in headless Chromium once its charts are drawn, and save a full-page PNG. */
export async function screenshot(htmlFile: string, pngFile: string): Promise<void> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1240, height: 900 } });
    await page.goto(pathToFileURL(resolve(htmlFile)).href);
    await page.waitForFunction(() => (window as unknown as { reportReady?: boolean }).reportReady === true, undefined, { timeout: 10_000 });
    await page.screenshot({ path: pngFile, fullPage: true });
  } finally {
    await browser.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) flags.set(a.slice(2), argv[++i] ?? '');
    else positional.push(a);
  }
  const [input, output] = positional;
  const unknown = [...flags.keys()].filter((k) => !['series', 'note', 'png'].includes(k));
  if (!input || !output || positional.length > 2 || unknown.length) {
    process.stderr.write(`${unknown.length ? `load:html: unknown option --${unknown[0]}\n` : ''}${USAGE}\n`);
    return 2;
  }
  const read = (f: string): Report => JSON.parse(readFileSync(f, 'utf8')) as Report;
  const opts: HtmlOptions = { note: flags.get('note') };
  const series = flags.get('series');
  if (series) {
    const other = read(series);
    opts.seriesFrom = { report: other, label: `${basename(series)} — ${other.scenario}, ${other.setup.clients.total} clients, ${other.startedAt}` };
  }
  writeFileSync(output, renderHtml(read(input), opts));
  const png = flags.get('png');
  if (png) await screenshot(output, png);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`load:html: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
