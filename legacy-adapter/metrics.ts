import { Counter, Gauge, type Registry } from 'prom-client';
import type { LegacyObserver } from './legacy-pair.js';

/**
 * The legacy adapter's series (prefix `wsgate_legacy_`) on a gateway's registry, so one `/metrics`
 * shows whether ping forwarding really happens: pings relayed to v2 clients should track the
 * gateway's pings sent to the adapter's upstream connections, and pongs should come back.
 */
export function legacyMetrics(registry: Registry, connectionCount: () => number): LegacyObserver {
  const registers = [registry];
  new Gauge({
    name: 'wsgate_legacy_connections',
    help: 'v2 clients connected through the legacy adapter',
    registers,
    collect() {
      this.set(connectionCount());
    },
  });
  const relayed = new Counter({
    name: 'wsgate_legacy_relayed_total',
    help: 'Ping and pong frames relayed between v2 clients and the gateway',
    labelNames: ['kind', 'direction'],
    registers,
  });
  const adapterPings = new Counter({ name: 'wsgate_legacy_adapter_pings_total', help: 'Pings the adapter sent to silent v2 legs itself', registers });
  const timeouts = new Counter({ name: 'wsgate_legacy_ping_timeouts_total', help: 'v2 clients closed for leaving an adapter ping unanswered', registers });
  const closes = new Counter({ name: 'wsgate_legacy_closes_total', help: 'v2 legs closed by the adapter, by close code', labelNames: ['code'], registers });
  return {
    relayed: (kind, direction) => relayed.inc({ kind, direction }),
    adapterPing: () => adapterPings.inc(),
    adapterPingTimeout: () => timeouts.inc(),
    closed: (code) => closes.inc({ code: String(code) }),
  };
}
