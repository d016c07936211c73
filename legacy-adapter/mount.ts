import type { Registry } from 'prom-client';
import type { Gateway } from '../src/gateway.js';
import type { Clock } from '../src/time/clock.js';
import { createLegacyAdapter, type LegacyAdapter, type LegacyAdapterOptions } from './adapter.js';
import { legacyMetrics } from './metrics.js';

/**
 * What mounting uses of a gateway (`createGateway(...)`'s result). When `metrics` is there, the
 * adapter's `wsgate_legacy_*` series join its registry (the gateway's /metrics).
 */
export type MountableGateway = Pick<Gateway, 'url' | 'options' | 'logger' | 'mountUpgrade'> & {
  readonly metrics?: { readonly registry: Registry };
  /** The gateway's time source; the adapter's timers (v2 pings, close grace) run on it too. */
  readonly clock?: Clock;
};

/**
 * Seconds between the adapter's own pings on the v2 legs when the gateway's transport pings are
 * disabled (`ping_interval` 0): a v2 browser behind nginx still needs traffic within
 * `proxy_read_timeout` (60 s by default), and v2 has no other way to learn its client is gone. Default 10.
 */
export const DEFAULT_V2_PING_INTERVAL = 10;

/**
 * Mount a legacy adapter at `/ws` of a gateway. Its upstream is the gateway's own `/api/ws`; ping
 * interval/timeout and the frame limit follow the gateway's options unless `overrides` says otherwise.
 * Returns the adapter (close it before or with the gateway).
 */
export function mountLegacyAdapter(gateway: MountableGateway, overrides: Partial<LegacyAdapterOptions> = {}): LegacyAdapter {
  const o = gateway.options;
  const pingsOn = o.pingInterval > 0;
  let count = (): number => 0;
  // One set of series per gateway: a second adapter mounted on the same gateway reports nothing rather than clash.
  const registry = gateway.metrics?.registry;
  const observer = registry && !registry.getSingleMetric('wsgate_legacy_connections') ? legacyMetrics(registry, () => count()) : undefined;
  const adapter = createLegacyAdapter({
    // Asked per client, so mounting before `listen()` has picked the port still works.
    upstream: () => gateway.url('/api/ws'),
    pingInterval: pingsOn ? o.pingInterval : DEFAULT_V2_PING_INTERVAL,
    pingTimeout: pingsOn || o.pingTimeout > 0 ? o.pingTimeout : DEFAULT_V2_PING_INTERVAL,
    maxPayload: o.maxPayload,
    maxBuffered: o.maxBuffered,
    logger: gateway.logger.child({ component: 'legacy-adapter' }),
    // The adapter talks to its own process over loopback: the certificate names the public host, not 127.0.0.1.
    rejectUnauthorized: false,
    ...(gateway.clock ? { clock: gateway.clock } : {}),
    observer,
    ...overrides,
  });
  count = () => adapter.connectionCount;
  gateway.mountUpgrade('/ws', (req, socket, head) => adapter.handleUpgrade(req, socket, head));
  return adapter;
}
