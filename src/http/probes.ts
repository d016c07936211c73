import type { Registry } from 'prom-client';
import { sendJson, type HttpFront } from './http-front.js';

/**
 * The operator's routes: `GET /healthz` (the process answers), `GET /readyz` (503 while draining,
 * so a load balancer stops sending new clients) and `GET /metrics` (Prometheus text).
 */
export function mountProbes(
  front: HttpFront,
  metrics: Registry,
  unavailable: () => string | undefined = () => undefined,
  /** The /metrics text; `--workers` answers for every worker (src/cluster/worker-metrics.ts). */
  text: () => Promise<string> = () => metrics.metrics(),
): void {
  front.route('GET', '/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
  front.route('GET', '/readyz', (_req, res) => {
    // Not ready while draining, or while the shared store (Redis) is unreachable: new clients would be refused (1013).
    const why = front.acceptingUpgrades ? unavailable() : 'draining';
    if (!why) sendJson(res, 200, { status: 'ready' });
    else sendJson(res, 503, { status: why === 'draining' ? why : 'unavailable', reason: why });
  });
  front.route('GET', '/metrics', async (_req, res) => {
    const body = await text();
    res.writeHead(200, { 'content-type': metrics.contentType });
    res.end(body);
  });
}
