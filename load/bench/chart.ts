/**
 * The bench's chart: wsgate's ratios against raw `ws` and Socket.IO as grouped bars, drawn by Chart.js in the
 * system Chromium (headless, via playwright-core) and saved as a PNG.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';

/** One group of bars: a figure and wsgate's ratio against each other server. */
export interface ChartRow {
  label: string;
  vsWs: number | null;
  vsSocketIo: number | null;
  /** The goal for the ratio against ws, drawn as a marker. */
  goal?: number;
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];

/** Render the rows into `file` (PNG, 1100×520). */
export async function renderChart(rows: ChartRow[], title: string, file: string): Promise<void> {
  // The UMD build sits next to the package's CommonJS entry (its `exports` map does not list it).
  const chartJs = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 520 } });
    await page.setContent('<html><body style="margin:0;background:#fff"><canvas id="c" width="1100" height="520"></canvas></body></html>');
    await page.addScriptTag({ path: chartJs });
    await page.evaluate(({ rows, title }) => {
      const w = window as unknown as { Chart: new (el: unknown, cfg: unknown) => unknown };
      new w.Chart(document.getElementById('c'), {
        type: 'bar',
        data: {
          labels: rows.map((r) => r.label),
          datasets: [
            { label: 'wsgate ÷ raw ws', data: rows.map((r) => r.vsWs), backgroundColor: '#3b6fb6' },
            { label: 'wsgate ÷ Socket.IO', data: rows.map((r) => r.vsSocketIo), backgroundColor: '#e08a2c' },
            { type: 'line', label: 'goal (vs ws)', data: rows.map((r) => r.goal ?? null), showLine: false, pointStyle: 'line', pointRadius: 28, borderColor: '#c0392b', borderWidth: 3 },
          ],
        },
        options: {
          animation: false, responsive: false,
          plugins: { title: { display: true, text: title, font: { size: 16 } }, legend: { position: 'bottom' } },
          scales: { y: { beginAtZero: true, title: { display: true, text: 'ratio (1 = same as the other server)' } } },
        },
      });
    }, { rows, title });
    await page.locator('#c').screenshot({ path: file });
  } finally {
    await browser.close();
  }
}
