import cliProgress from 'cli-progress';
import type { Progress } from './types.js';

/** The live numbers shown while a run goes on. */
export interface LiveView {
  phase(name: string, total: number): void;
  update(value: number, p: Progress): void;
  stop(): void;
}

/** A cli-progress bar on a TTY; on anything else, nothing at all (CI logs stay clean). */
export function liveView(enabled = Boolean(process.stdout.isTTY)): LiveView {
  if (!enabled) return { phase: () => undefined, update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      // Liveness traffic is what an idle run consists of: show it, not only the (then zero) message counters.
      format: '{phase} |{bar}| {value}/{total} | open {open} failed {failed} cut {cut} | pings {pings} hb out {hbOut} in {hbIn} | msgs out {sent} in {recv} | resumed {resumed}',
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
    open: p?.open ?? 0,
    failed: p?.failed ?? 0,
    cut: p?.unexpectedCloses ?? 0,
    pings: p?.pings ?? 0,
    hbOut: p?.heartbeatsSent ?? 0,
    hbIn: p?.heartbeatsReceived ?? 0,
    sent: p?.sent ?? 0,
    recv: p?.received ?? 0,
    resumed: p?.resumed ?? 0,
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
