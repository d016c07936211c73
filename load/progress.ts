import cliProgress from 'cli-progress';
import type { Progress } from './types.js';

/** The live numbers shown while a run goes on. */
export interface LiveView {
  phase(name: string, total: number): void;
  update(value: number, p: Progress): void;
  stop(): void;
}

/**
 * The counters both views print. Liveness traffic is what an idle run consists of: show it, not only the (then
 * zero) message counters.
 */
function counters(p: Progress | undefined): string {
  return `open ${p?.open ?? 0} failed ${p?.failed ?? 0} cut ${p?.unexpectedCloses ?? 0} | pings ${p?.pings ?? 0} hb out ${p?.heartbeatsSent ?? 0} in ${p?.heartbeatsReceived ?? 0} | msgs out ${p?.sent ?? 0} in ${p?.received ?? 0} | resumed ${p?.resumed ?? 0}`;
}

/** A cli-progress bar on a TTY; on anything else, nothing at all (CI logs stay clean). */
export function liveView(enabled = Boolean(process.stdout.isTTY)): LiveView {
  if (!enabled) return { phase: () => undefined, update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      format: '{phase} |{bar}| {value}/{total} | {counters}',
      hideCursor: true,
      stream: process.stdout,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let last: Progress | undefined;
  const payload = (p: Progress | undefined, phase?: string): Record<string, unknown> => ({
    ...(phase ? { phase } : {}),
    counters: counters(p),
  });
  return {
    phase(name, total) {
      if (!started) bar.start(total, 0, payload(last, name.padEnd(8)));
      else bar.setTotal(total);
      started = true;
      bar.update(0, { phase: name.padEnd(8) });
    },
    update(value, p) {
      last = p;
      if (started) bar.update(value, payload(p));
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

/**
 * A status line on stderr every `everySeconds` and at each phase change — for long runs whose output goes to a
 * log file (`--progress S`), where the bar shows nothing.
 */
export function lineView(everySeconds: number, clients: number, write = (s: string): void => void process.stderr.write(s)): LiveView {
  const start = Date.now();
  let phase = '';
  let lastAt = 0;
  let total = 0;
  const line = (value: number, p: Progress | undefined): void => {
    const t = Math.round((Date.now() - start) / 1000);
    const of = phase === 'connect' ? `${value}/${clients}` : `${value}/${total} s`;
    write(`[load ${String(t).padStart(5)} s] ${phase.padEnd(7)} ${of} | ${counters(p)}\n`);
  };
  let last: Progress | undefined;
  return {
    phase(name, t) {
      phase = name;
      total = t;
      lastAt = Date.now();
      line(0, last);
    },
    update(value, p) {
      last = p;
      if (Date.now() - lastAt < everySeconds * 1000) return;
      lastAt = Date.now();
      line(value, p);
    },
    stop() {
      if (last) line(total, last);
    },
  };
}

/** Both views at once (the second is optional). */
export function bothViews(a: LiveView, b: LiveView | undefined): LiveView {
  if (!b) return a;
  return {
    phase: (n, t) => (a.phase(n, t), b.phase(n, t)),
    update: (v, p) => (a.update(v, p), b.update(v, p)),
    stop: () => (a.stop(), b.stop()),
  };
}
