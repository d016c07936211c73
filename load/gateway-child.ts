/**
 * The gateway under test is the real `wsgate` command (bin/wsgate.ts, flags from the driver),
 * forked as its own process so its RSS and CPU can be read from /proc/<pid> apart from the
 * clients'. It drains and exits when the driver that forked it goes away, and runs a full GC when asked.
 */
import { getHeapStatistics } from 'node:v8';
import '../bin/wsgate.js';

process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
// The fuzz scenario reads RSS after a full collection (forked with --expose-gc): an idle V8 does not
// collect on its own, so garbage would read as retained memory.
// It answers with the heap figures, so the report can tell retained objects from memory the allocator kept.
process.on('message', (m) => {
  if (m !== 'gc') return;
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, external } = process.memoryUsage();
  const { total_heap_size: heapTotal } = getHeapStatistics();
  process.send?.({ heapUsedMiB: heapUsed / 2 ** 20, heapTotalMiB: heapTotal / 2 ** 20, externalMiB: external / 2 ** 20 });
});
