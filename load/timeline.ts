import { newHistogram, addEncoded } from './stats.js';
import type { ProcSampler } from './proc-stats.js';
import type { Progress } from './types.js';

/** One second of a run, as the HTML report charts it. `null`: not measured (e.g. no gateway of ours with --target). */
export interface TimelineSample {
  /** Seconds since the workers started. */
  t: number;
  /** The driver's phase then: connect, idle, chat, steady, storm, drain. */
  phase: string;
  open: number;
  opened: number;
  expectedCloses: number;
  unexpectedCloses: number;
  pings: number;
  heartbeatsSent: number;
  heartbeatsReceived: number;
  sent: number;
  received: number;
  rssMiB: number | null;
  /** % of one core over the last second. */
  cpuPct: number | null;
  /** The gateway's event-loop delay since the previous sample (its /metrics), ms. */
  lagP99Ms: number | null;
  lagMaxMs: number | null;
  /** Delivery latency of the messages received during the last second, ms. */
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  latencyMaxMs: number | null;
}

/** Where the timeline reads its numbers. */
export interface TimelineSources {
  /** The workers' summed progress, and the latency windows they sent since the last call. */
  progress(): { total: Progress; latencyWindows: string[] };
  /** The gateway process (or the sum of a --workers group). */
  sampler?: Pick<ProcSampler, 'current'>;
  /** The gateway's own /metrics (direct, not through nginx); undefined with --target. */
  metricsUrl?: string;
}

const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** Read one Prometheus gauge value from exposition text. */
export function gauge(text: string, name: string): number | null {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

/** Samples the run once a second: client counters, the gateway's RSS, CPU and event-loop delay, delivery latency. */
export class Timeline {
  readonly samples: TimelineSample[] = [];
  private phase = 'connect';
  private readonly start = Date.now();
  private readonly timer: NodeJS.Timeout;
  private scraping = false;

  constructor(private readonly sources: TimelineSources) {
    this.timer = setInterval(() => void this.sample(), 1000);
    this.timer.unref();
  }

  /** The phase the following samples belong to. */
  mark(phase: string): void {
    this.phase = phase;
  }

  /** Stop sampling; returns the samples. */
  stop(): TimelineSample[] {
    clearInterval(this.timer);
    return this.samples;
  }

  private async sample(): Promise<void> {
    const t = round((Date.now() - this.start) / 1000, 1);
    const { total: p, latencyWindows } = this.sources.progress();
    const latency = newHistogram();
    for (const w of latencyWindows) addEncoded(latency, w);
    const ms = (us: number): number => round(us / 1000, 3);
    const proc = this.sources.sampler?.current();
    const lag = await this.scrapeLag();
    this.samples.push({
      t,
      phase: this.phase,
      open: p.open,
      opened: p.opened,
      expectedCloses: p.expectedCloses,
      unexpectedCloses: p.unexpectedCloses,
      pings: p.pings,
      heartbeatsSent: p.heartbeatsSent,
      heartbeatsReceived: p.heartbeatsReceived,
      sent: p.sent,
      received: p.received,
      rssMiB: proc ? round(proc.rssMiB, 1) : null,
      cpuPct: proc ? round(proc.cpuPct, 1) : null,
      lagP99Ms: lag.p99,
      lagMaxMs: lag.max,
      latencyP50Ms: latency.totalCount ? ms(latency.getValueAtPercentile(50)) : null,
      latencyP99Ms: latency.totalCount ? ms(latency.getValueAtPercentile(99)) : null,
      latencyMaxMs: latency.totalCount ? ms(latency.maxValue) : null,
    });
  }

  /** prom-client resets its event-loop histogram at each scrape, so each reading covers the time since the last. */
  private async scrapeLag(): Promise<{ p99: number | null; max: number | null }> {
    const none = { p99: null, max: null };
    if (!this.sources.metricsUrl || this.scraping) return none;
    this.scraping = true;
    try {
      const res = await fetch(this.sources.metricsUrl, { signal: AbortSignal.timeout(900) });
      const text = await res.text();
      const p99 = gauge(text, 'wsgate_nodejs_eventloop_lag_p99_seconds');
      const max = gauge(text, 'wsgate_nodejs_eventloop_lag_max_seconds');
      return { p99: p99 === null ? null : round(p99 * 1000, 2), max: max === null ? null : round(max * 1000, 2) };
    } catch {
      return none; // a busy gateway that cannot answer in time: a gap in the chart, not a failed run
    } finally {
      this.scraping = false;
    }
  }
}
