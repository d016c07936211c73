/** Medians, the results and goals tables, the chart's rows and the markdown report of `npm run bench`. */
import type { MachineInfo } from '../report.js';
import type { ChartRow } from './chart.js';
import type { BenchSizes, Figures, ScenarioName } from './scenarios.js';
import type { BenchKind } from './servers.js';

/** One run: scenario → server → figures. */
export type RunResults = Partial<Record<ScenarioName, Partial<Record<BenchKind, Figures>>>>;

/** What bench.json holds. */
export interface BenchReport {
  command: string;
  startedAt: string;
  sizes: BenchSizes & { runs: number };
  machine: MachineInfo;
  loadBefore: string;
  loadAfter: string;
  runs: RunResults[];
  medians: RunResults;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  // An even count averages the middle two: rounded, so 26.687 does not print as 26.686999999999998.
  return s.length % 2 ? s[m]! : Math.round(((s[m - 1]! + s[m]!) / 2) * 1000) / 1000;
}

/** Figure by figure, the median over the runs. */
export function medians(runs: RunResults[]): RunResults {
  const out: RunResults = {};
  for (const run of runs) {
    for (const [sc, byKind] of Object.entries(run) as [ScenarioName, Partial<Record<BenchKind, Figures>>][]) {
      for (const [kind, figs] of Object.entries(byKind) as [BenchKind, Figures][]) {
        const target = ((out[sc] ??= {})[kind] ??= {});
        for (const name of Object.keys(figs)) {
          target[name] = median(runs.map((r) => r[sc]?.[kind]?.[name]).filter((v): v is number => typeof v === 'number'));
        }
      }
    }
  }
  return out;
}

function pad(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n');
}

/** Every figure of every scenario, one row per scenario × server. */
export function resultsTable(med: RunResults): string {
  const lines: string[] = [];
  for (const [sc, byKind] of Object.entries(med)) {
    const names = Object.keys(Object.values(byKind)[0] ?? {});
    const rows = [[sc, ...names], ...Object.entries(byKind).map(([k, f]) => [k, ...names.map((n) => String(f[n] ?? '-'))])];
    lines.push(pad(rows));
  }
  return lines.join('\n\n');
}

const fig = (med: RunResults, sc: ScenarioName, kind: BenchKind, name: string): number | undefined => med[sc]?.[kind]?.[name];
function ratio(a: number | undefined, b: number | undefined): number | null {
  return a === undefined || b === undefined || b === 0 ? null : Math.round((a / b) * 100) / 100;
}

interface Goal {
  what: string;
  value: number | null;
  goal: string;
  met: boolean | null;
}

/** The goals, each with wsgate's figure or ratio. */
export function goals(med: RunResults, z: BenchSizes): Goal[] {
  const g = (sc: ScenarioName, n: string, k: BenchKind = 'wsgate'): number | undefined => fig(med, sc, k, n);
  const check = (what: string, value: number | null | undefined, goal: string, ok: (v: number) => boolean): Goal => ({
    what, value: value ?? null, goal, met: value === null || value === undefined ? null : ok(value),
  });
  return [
    check('idle heap per connection ÷ ws', ratio(g('idle', 'heapKiB'), g('idle', 'heapKiB', 'ws')), '≤ 1.5', (v) => v <= 1.5),
    check('idle RSS per connection ÷ ws', ratio(g('idle', 'rssKiB'), g('idle', 'rssKiB', 'ws')), '≤ 1.5', (v) => v <= 1.5),
    check('fan-out deliveries/s ÷ ws', ratio(g('fanout', 'deliveriesPerSec'), g('fanout', 'deliveriesPerSec', 'ws')), '≥ 0.9', (v) => v >= 0.9),
    check('fan-out longest event-loop block, ms', g('fanout', 'maxBlockMs'), '≤ 10', (v) => v <= 10),
    check('echo round trips/s ÷ ws', ratio(g('echo', 'roundTripsPerSec'), g('echo', 'roundTripsPerSec', 'ws')), '≥ 0.9', (v) => v >= 0.9),
    check('echo round trips/s ÷ Socket.IO', ratio(g('echo', 'roundTripsPerSec'), g('echo', 'roundTripsPerSec', 'socketio')), '≥ 2', (v) => v >= 2),
    // The server's own cost, whatever else the machine runs: round trips per CPU-second of the server process.
    check('echo round trips per server CPU-s ÷ ws', ratio(g('echo', 'rtPerServerCpuSec'), g('echo', 'rtPerServerCpuSec', 'ws')), '≥ 0.9', (v) => v >= 0.9),
    check('echo round trips per server CPU-s ÷ Socket.IO', ratio(g('echo', 'rtPerServerCpuSec'), g('echo', 'rtPerServerCpuSec', 'socketio')), '≥ 2', (v) => v >= 2),
    check('join: clients that got system/init', g('join', 'joined') ?? null, `= ${z.join}`, (v) => v === z.join),
    check('join: clients arriving per second', g('join', 'arrivalsPerSec') ?? null, '≥ 500', (v) => v >= 500),
    check('join: p99 hello→init, ms', g('join', 'p99InitMs') ?? null, '≤ 1000', (v) => v <= 1000),
    check('join: most KiB one client received', g('join', 'maxKiBPerClient') ?? null, '≤ 64', (v) => v <= 64),
    check('join: gateway peak CPU, % of a core', g('join', 'serverPeakCpuPct') ?? null, '< 95 (not saturated)', (v) => v < 95),
    check('storm: seconds until all ready ÷ ws', ratio(g('storm', 'seconds'), g('storm', 'seconds', 'ws')), '(reported)', () => true),
  ];
}

/** The goals as a table. */
export function goalsTable(med: RunResults, z: BenchSizes): string {
  const rows = goals(med, z).map((x) => [x.what, x.value === null ? '-' : String(x.value), x.goal, x.met === null ? 'not run' : x.met ? 'met' : 'NOT MET']);
  return pad([['goal (issue 12)', 'wsgate', 'target', ''], ...rows]);
}

/** Ratio rows for the chart: throughput ratios as they are, memory and time as "how many times better" (other ÷ wsgate). */
export function chartRows(med: RunResults): ChartRow[] {
  const up = (sc: ScenarioName, n: string, label: string, goal?: number): ChartRow => ({
    label, vsWs: ratio(fig(med, sc, 'wsgate', n), fig(med, sc, 'ws', n)), vsSocketIo: ratio(fig(med, sc, 'wsgate', n), fig(med, sc, 'socketio', n)), goal,
  });
  const down = (sc: ScenarioName, n: string, label: string, goal?: number): ChartRow => ({
    label, vsWs: ratio(fig(med, sc, 'ws', n), fig(med, sc, 'wsgate', n)), vsSocketIo: ratio(fig(med, sc, 'socketio', n), fig(med, sc, 'wsgate', n)), goal,
  });
  return [
    up('echo', 'roundTripsPerSec', 'echo round trips/s', 0.9),
    up('echo', 'rtPerServerCpuSec', 'echo round trips per server CPU-s', 0.9),
    up('fanout', 'deliveriesPerSec', 'fan-out deliveries/s', 0.9),
    down('fanout', 'p99Ms', 'fan-out p99 latency (inverse)'),
    down('idle', 'heapKiB', 'idle heap/conn (inverse)', 1 / 1.5),
    down('idle', 'rssKiB', 'idle RSS/conn (inverse)', 1 / 1.5),
    down('join', 'seconds', 'join time (inverse)'),
    down('storm', 'seconds', 'storm time (inverse)'),
  ].filter((r) => r.vsWs !== null || r.vsSocketIo !== null);
}

/** bench.md. */
export function markdown(r: BenchReport): string {
  const m = r.machine;
  return `# wsgate next to raw \`ws\` and Socket.IO (\`npm run bench\`)

\`\`\`
${r.command}
\`\`\`

Started ${r.startedAt}. Machine: ${m.nproc} × ${m.cpu}, ${m.memTotalGiB} GiB, node ${m.node}, ${m.kernel}, open files ${m.openFilesLimit}.
Load before and after (the machine is shared; the ratios come from the same run with the same clients):

\`\`\`
${r.loadBefore}
${r.loadAfter}
\`\`\`

Sizes: ${JSON.stringify(r.sizes)}.

![ratios](bench.png)

## Goals (medians of ${r.sizes.runs} run(s))

\`\`\`
${goalsTable(r.medians, r.sizes)}
\`\`\`

## All figures (medians)

\`\`\`
${resultsTable(r.medians)}
\`\`\`

What the figures mean: docs/load.md ("npm run bench"). Every run's own figures are in bench.json. How to read some:

- **fan-out p50/p99** count from the server's send stamp. ws and Socket.IO stamp each message just before their
  synchronous loop sends it; wsgate's publishes all return at once and are then delivered in slices, so its latency
  spans the whole delivery. **maxBlockMs** is the longest gap between runs of a 1 ms timer during the fan-out (and
  the bench clients' acks that arrive meanwhile), **check100MsBlockMs** the same figure for a known 100 ms block;
  **maxBlockCpuMs** the server's CPU time within its heaviest gap (the block without the time a shared machine gave
  to other processes); **quietMaxBlockMs** the same over a quiet second just before — on a shared machine the OS
  alone delays timers that much; **maxGcMs** the longest GC pause during the fan-out; **pingLateMs** how late
  wsgate's ping wheel ran against its schedule.
- **echo** spreads its clients over \`--echo-workers\` client processes. On a 2-core machine the clients and the
  server share the cores, so round trips/s also depend on the clients' cost (**clientCpuUsPerRt**) and on whatever
  else runs; **serverCpuUsPerRt** (CPU time of the server process per round trip, user + system, from /proc) and its
  inverse **rtPerServerCpuSec** are the server's own cost. The goals table checks both.
- **join** uses the same client processes for every server; wsgate's clients parse more (envelopes, seq, acks, a
  100-entry system/init in a big room), so when the machine is busy their pacing slips first (arrivals/s under the
  offered rate).
`;
}
