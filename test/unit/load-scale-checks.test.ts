/**
 * The verdicts a scale-out load report adds (load/scale.ts): a replaced worker, a process near the open-file cap
 * and Redis growing while the clients idle each turn the run into a FAIL.
 */
import { scaleChecks, type ScaleSummary } from '../../load/scale.js';
import type { RedisSnapshot } from '../../load/redis-server.js';

const snap = (usedMemory: number, keys: number): RedisSnapshot => ({ usedMemory, usedMemoryRss: 0, commands: 0, keys, cpuSeconds: 0, calls: {}, at: 0 });

function summary(over: { workers?: number; peakFds?: number; idleEnd?: RedisSnapshot } = {}): ScaleSummary {
  const proc = (pid: number, role: 'primary' | 'worker') => ({
    pid, role, rssMiB: 80, peakRssMiB: 90, avgCpuPct: 5, peakCpuPct: 20, samples: 10, fds: 100, peakFds: role === 'worker' ? (over.peakFds ?? 12_600) : 30, idleCpuPct: 1, rampCpuPct: 10,
  });
  const workers = Array.from({ length: over.workers ?? 8 }, (_, i) => proc(100 + i, 'worker'));
  const idleStart = snap(100 * 2 ** 20, 400_000);
  return {
    gatewayProcesses: 8,
    mode: 'cluster',
    loadAvg: { before: [0.5, 0.5, 0.5], after: [1, 1, 1] },
    connections: { idleStart: 100_000, idleEnd: 100_000 },
    processes: [proc(99, 'primary'), ...workers],
    rss: { baselineMiB: 600, idleStartMiB: 2600, idleEndMiB: 2600, perConnectionKiB: 26, addedPerConnectionKiB: 20 },
    cpu: { rampPct: 80, idlePct: 60, connectSeconds: 340, idleSeconds: 180 },
    fds: { maxPerProcess: over.peakFds ?? 12_600 },
    redis: {
      baseline: snap(2 ** 20, 10), idleStart, idleEnd: over.idleEnd ?? idleStart, bytesPerSession: 1000,
      idleGrowthBytes: (over.idleEnd ?? idleStart).usedMemory - idleStart.usedMemory,
      idleKeysDelta: (over.idleEnd ?? idleStart).keys - idleStart.keys,
      idleCommandsPerSecond: 40, idleCallsPerSecond: {}, idleCpuPct: 1,
    },
  };
}

const failed = (s: ScaleSummary): string[] => scaleChecks(s).filter((c) => !c.ok).map((c) => c.name);

test('a healthy 100,000-client run passes every scale check', () => {
  expect(failed(summary())).toEqual([]);
});

test('a worker replaced during the run (one process more than asked for) fails the run', () => {
  expect(failed(summary({ workers: 9 }))).toEqual(['no gateway process died']);
});

test('a process at 19,000 open files or more fails the run', () => {
  expect(failed(summary({ peakFds: 19_000 }))).toEqual(['every gateway process under 19000 open files']);
});

test('Redis keys or memory growing while idle fail the run; a little allocator noise does not', () => {
  expect(failed(summary({ idleEnd: snap(100 * 2 ** 20 + 200_000, 400_000) }))).toEqual([]);
  expect(failed(summary({ idleEnd: snap(110 * 2 ** 20, 400_000) }))).toEqual(['Redis memory flat while idle']);
  expect(failed(summary({ idleEnd: snap(100 * 2 ** 20, 400_050) }))).toEqual(['Redis keys flat while idle']);
});

test('a run with traffic in its window (chat, reconnect storm) is not judged on Redis staying flat; processes and files still are', () => {
  const moved = summary({ idleEnd: snap(120 * 2 ** 20, 410_000) });
  expect(scaleChecks(moved, 'idle').filter((c) => !c.ok).map((c) => c.name)).toEqual(['Redis keys flat while idle', 'Redis memory flat while idle']);
  expect(scaleChecks(moved, 'traffic').map((c) => c.name)).toEqual(['no gateway process died', 'every gateway process under 19000 open files']);
  expect(scaleChecks(moved, 'traffic').every((c) => c.ok)).toBe(true);
  const full = summary({ idleEnd: snap(120 * 2 ** 20, 410_000), peakFds: 19_500 });
  expect(scaleChecks(full, 'traffic').filter((c) => !c.ok).map((c) => c.name)).toEqual(['every gateway process under 19000 open files']);
});
