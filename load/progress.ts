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
      format: '{phase} |{bar}| {value}/{total} | open {open} failed {failed} cut {cut} | sent {sent} recv {recv} resumed {resumed}',
      hideCursor: true,
      stream: process.stdout,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let last: Progress = { opened: 0, failed: 0, open: 0, unexpectedCloses: 0, received: 0, sent: 0, resumed: 0 };
  const payload = (p: Progress, phase?: string): Record<string, unknown> => ({
    ...(phase ? { phase } : {}),
    open: p.open,
    failed: p.failed,
    cut: p.unexpectedCloses,
    sent: p.sent,
    recv: p.received,
    resumed: p.resumed,
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
