import { AggregatorRegistry, type Registry } from 'prom-client';
import { isMetricsRequest, type MetricsRequest } from './primary.js';

/**
 * In a `--workers` worker: `/metrics` on any worker answers for all of them. The worker asks the
 * primary over IPC; the primary collects every worker's registry (prom-client's cluster protocol,
 * answered by the listener AggregatorRegistry installs in each worker) and sends back the merged
 * text. Returns the function the `/metrics` route calls.
 */
export function clusterMetricsSource(registry: Registry, timeoutMs = 5000): () => Promise<string> {
  // Constructing one installs prom-client's worker-side listener; setRegistries says what to report.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  const pending = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  let next = 0;
  process.on('message', (m: unknown) => {
    if (!isMetricsRequest(m)) return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.text !== undefined) p.resolve(m.text);
    else p.reject(new Error(m.error ?? 'no metrics'));
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the primary did not answer with the cluster metrics'));
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer });
      process.send!({ type: 'wsgate:metrics', id } satisfies MetricsRequest);
    });
}
