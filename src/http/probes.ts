import type { Registry } from 'prom-client';
import { sendJson, type HttpFront } from './http-front.js';

/**
 * The operator's routes: `GET /healthz` (the process answers), `GET /readyz` (503 while draining,
 * so a load balancer stops sending new clients) and `GET /metrics` (Prometheus text).
 */
export function mountProbes(front: HttpFront, metrics: Registry): void {
  front.route('GET', '/healthz', (_req, res) => sendJson(res, 200, { status: 'ok' }));
  front.route('GET', '/readyz', (_req, res) => {
    if (front.acceptingUpgrades) sendJson(res, 200, { status: 'ready' });
    else sendJson(res, 503, { status: 'draining' });
  });
  front.route('GET', '/metrics', async (_req, res) => {
    const text = await metrics.metrics();
    res.writeHead(200, { 'content-type': metrics.contentType });
    res.end(text);
  });
}
