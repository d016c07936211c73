import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { renderTable, type Report } from './report.js';
import type { TimelineSample } from './timeline.js';

/** Options of {@link renderHtml}. */
export interface HtmlOptions {
  /** Take the time series from this report instead (an older report without one, charted from a re-run). */
  seriesFrom?: { report: Report; label: string };
  /** A sentence shown above the charts (why the series come from elsewhere, …). */
  note?: string;
}

/** One chart: a title, a unit and the sample fields it draws. */
interface ChartSpec {
  title: string;
  unit: string;
  series: { key: keyof TimelineSample; label: string; color: string }[];
  empty: string;
}

const CHARTS: ChartSpec[] = [
  { title: 'Connections', unit: 'clients', empty: '', series: [
    { key: 'open', label: 'open', color: '#2b8a3e' },
    { key: 'opened', label: 'opened (reconnects included)', color: '#1c7ed6' },
  ] },
  { title: 'Closes (cumulative)', unit: 'closes', empty: '', series: [
    { key: 'unexpectedCloses', label: 'unexpected', color: '#e03131' },
    { key: 'expectedCloses', label: 'expected', color: '#868e96' },
  ] },
  { title: 'Gateway RSS', unit: 'MiB', empty: 'no gateway of ours (--target)', series: [{ key: 'rssMiB', label: 'RSS', color: '#7048e8' }] },
  { title: 'Gateway CPU', unit: '% of one core', empty: 'no gateway of ours (--target)', series: [{ key: 'cpuPct', label: 'CPU', color: '#f08c00' }] },
  { title: 'Gateway event-loop delay', unit: 'ms', empty: 'no gateway of ours (--target)', series: [
    { key: 'lagP99Ms', label: 'p99 (10 ms sampling resolution included)', color: '#0c8599' },
    { key: 'lagMaxMs', label: 'max', color: '#c2255c' },
  ] },
  { title: 'Delivery latency', unit: 'ms', empty: 'no messages in this scenario (idle: only pings and heartbeats)', series: [
    { key: 'latencyP50Ms', label: 'p50', color: '#2b8a3e' },
    { key: 'latencyP99Ms', label: 'p99', color: '#f08c00' },
    { key: 'latencyMaxMs', label: 'max', color: '#e03131' },
  ] },
  { title: 'Liveness traffic (cumulative)', unit: 'frames', empty: '', series: [
    { key: 'pings', label: 'ping frames seen by clients', color: '#1c7ed6' },
    { key: 'heartbeatsReceived', label: 'system/heartbeat received', color: '#2b8a3e' },
    { key: 'heartbeatsSent', label: 'client/heartbeat sent', color: '#f08c00' },
  ] },
];

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

/** uPlot's minified build and stylesheet, inlined so the report works offline and from a file:// URL. */
function uplotAssets(): { js: string; css: string } {
  const require = createRequire(import.meta.url);
  return {
    js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
}

/** The charts' data: per chart, `[t, ...series]` columns, or null when every value is missing. */
function chartData(samples: TimelineSample[]): ({ spec: ChartSpec; data: (number | null)[][] | null })[] {
  const t = samples.map((s) => s.t);
  return CHARTS.map((spec) => {
    const cols = spec.series.map((se) => samples.map((s) => s[se.key] as number | null));
    const any = cols.some((c) => c.some((v) => v !== null));
    return { spec, data: any ? [t, ...cols] : null };
  });
}

/** Phase changes, for the dashed lines and labels drawn on every chart. */
function phases(samples: TimelineSample[]): { t: number; phase: string }[] {
  const out: { t: number; phase: string }[] = [];
  for (const s of samples) if (out.at(-1)?.phase !== s.phase) out.push({ t: s.t, phase: s.phase });
  return out;
}

const PAGE_SCRIPT = `
const { charts, phases } = JSON.parse(document.getElementById('data').textContent);
const phaseLines = (u) => {
  const ctx = u.ctx;
  ctx.save();
  ctx.setLineDash([4, 4]);
  ctx.strokeStyle = '#adb5bd';
  ctx.fillStyle = '#495057';
  ctx.font = (11 * devicePixelRatio) + 'px system-ui, sans-serif';
  for (const [i, p] of phases.entries()) {
    const x = Math.round(u.valToPos(p.t, 'x', true));
    ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
    // Short phases sit close together: alternate the label height so neighbours do not overlap.
    ctx.fillText(p.phase, x + 4 * devicePixelRatio, u.bbox.top + (12 + (i % 2) * 13) * devicePixelRatio);
  }
  ctx.restore();
};
for (const [i, c] of charts.entries()) {
  const box = document.getElementById('chart-' + i);
  if (!c.data) { box.insertAdjacentHTML('beforeend', '<p class="empty">' + c.spec.empty + '</p>'); continue; }
  new uPlot({
    width: 560, height: 220,
    scales: { x: { time: false } },
    axes: [{ label: 's since start' }, { label: c.spec.unit, size: 60 }],
    series: [{ label: 't (s)' }, ...c.spec.series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, spanGaps: false }))],
    hooks: { draw: [phaseLines] },
  }, c.data, box);
}
window.reportReady = true;
`;

/** The HTML report: the charts over time (uPlot, inlined), the printed table and the checks. Self-contained, offline. */
export function renderHtml(report: Report, opts: HtmlOptions = {}): string {
  const samples = opts.seriesFrom?.report.timeline ?? report.timeline ?? [];
  const { js, css } = uplotAssets();
  const data = { charts: chartData(samples), phases: phases(samples) };
  const verdict = report.pass ? 'PASS' : 'FAIL';
  const st = report.setup;
  const notes = [opts.note, opts.seriesFrom ? `Charts: ${opts.seriesFrom.label}.` : '', samples.length ? '' : 'This report has no time series (it was written before the driver kept one).']
    .filter(Boolean)
    .map((n) => `<p class="note">${esc(n!)}</p>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>wsgate load — ${esc(report.scenario)} ${st.clients.total} clients — ${verdict}</title>
<style>${css}
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #212529; max-width: 1200px; }
h1 { font-size: 20px; margin: 0 0 4px; } .pass { color: #2b8a3e; } .fail { color: #e03131; }
.meta { color: #495057; margin: 0 0 12px; } .note { background: #fff9db; border: 1px solid #ffe066; padding: 6px 10px; border-radius: 6px; }
.grid { display: grid; grid-template-columns: repeat(2, 580px); gap: 16px 20px; margin: 16px 0; }
.chart h2 { font-size: 14px; margin: 0 0 4px; } .empty { color: #868e96; font-style: italic; margin: 40px 0; }
pre { background: #f8f9fa; border: 1px solid #dee2e6; padding: 10px; border-radius: 6px; font-size: 12px; overflow-x: auto; }
</style></head><body>
<h1>wsgate load — ${esc(report.scenario)} — <span class="${report.pass ? 'pass' : 'fail'}">${verdict}</span></h1>
<p class="meta">${st.clients.total} clients (v3 ${st.clients.v3}, v2 ${st.clients.v2}), ${esc(st.via === 'nginx' ? 'through nginx' : st.via)},
measured ${st.idleSeconds} s · ${esc(report.startedAt)} · ${report.machine.nproc} × ${esc(report.machine.cpu)}, Node ${esc(report.machine.node)}<br>
<code>${esc(report.command)}</code></p>
${notes}
<div class="grid">
${CHARTS.map((c, i) => `<div class="chart" id="chart-${i}"><h2>${esc(c.title)} <small>(${esc(c.unit)})</small></h2></div>`).join('\n')}
</div>
<pre>${esc(renderTable(report))}</pre>
<script id="data" type="application/json">${scriptJson(data)}</script>
<script>${js}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
