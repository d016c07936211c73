import type { GatewayOptions } from '../src/config.js';
import { round, type Report } from './report.js';
import type { ClientMode } from './types.js';

/** Scenario names accepted by `--scenario`. */
export type ScenarioName = 'idle' | 'control' | 'legacy-idle' | 'chat' | 'reconnect-storm' | 'fuzz';

/** One expectation and whether it held. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** What a scenario does and what it expects. */
export interface Scenario {
  name: ScenarioName;
  summary: string;
  defaults: { clients: number; v2Share: number; duration: number; roomSize: number; via?: 'direct' | 'nginx' };
  /** Options for the gateway the driver starts (ignored with --target). */
  gateway: Partial<GatewayOptions>;
  mode: ClientMode;
  /** control: end as soon as every connection is gone. */
  endWhenAllClosed: boolean;
  checks(r: Report): Check[];
}

/** nginx's default proxy_read_timeout, ms, and the tolerance of the control scenario. */
export const NGINX_READ_TIMEOUT_MS = 60_000;
const CUT_TOLERANCE_MS = 2_000;

function check(name: string, ok: boolean, detail: string): Check {
  return { name, ok, detail };
}

function connectChecks(r: Report): Check[] {
  const c = r.connections;
  return [
    check('every client connected', c.neverConnected === 0 && c.opened >= r.setup.clients.total,
      `${r.setup.clients.total} clients, ${c.neverConnected} never connected; ${c.opened} connections opened ` +
        `(reconnects included), ${c.failed} failed attempts${c.failed ? ' (retried)' : ''}`),
  ];
}

function noUnexpectedCloses(r: Report): Check {
  const byCode = Object.entries(r.closes.byCode).map(([k, v]) => `${k}×${v}`).join(' ');
  return check('no unexpected close', r.closes.unexpected === 0, `${r.closes.unexpected} unexpected${byCode ? ` (${byCode})` : ''}`);
}

/** Pings must have reached every client when we know the gateway pings and the run outlasts an interval. */
function pingChecks(r: Report): Check[] {
  const out: Check[] = [];
  const interval = r.setup.gateway?.pingInterval ?? 0;
  if (!(interval > 0) || r.setup.idleSeconds < interval * 2) return out;
  const { v3, v2 } = r.liveness.pingsPerClient;
  if (v3.clients > 0) out.push(check('every v3 client saw ping frames', v3.min > 0, `min ${v3.min}, avg ${v3.avg}, max ${v3.max}`));
  if (v2.clients > 0) out.push(check('every v2 client saw ping frames', v2.min > 0, `min ${v2.min}, avg ${v2.avg}, max ${v2.max}`));
  return out;
}

function idleChecks(r: Report): Check[] {
  const long = r.setup.idleSeconds * 1000 > NGINX_READ_TIMEOUT_MS;
  return [
    ...connectChecks(r),
    noUnexpectedCloses(r),
    ...pingChecks(r),
    check('idle longer than nginx proxy_read_timeout', long, `${r.setup.idleSeconds} s idle vs 60 s`),
  ];
}

function controlChecks(r: Report): Check[] {
  const rx = r.closes.sinceLastRxMs;
  const lo = NGINX_READ_TIMEOUT_MS - CUT_TOLERANCE_MS;
  const hi = NGINX_READ_TIMEOUT_MS + CUT_TOLERANCE_MS;
  return [
    ...connectChecks(r),
    check('every connection cut', r.closes.unexpected === r.connections.opened && r.connections.opened > 0,
      `${r.closes.unexpected} of ${r.connections.opened} cut`),
    check('cut at 60 s ± 2 s of silence', r.closes.unexpected > 0 && rx.min >= lo && rx.max <= hi,
      `silence before the cut: min ${fmtS(rx.min)}, p50 ${fmtS(rx.p50)}, max ${fmtS(rx.max)}`),
  ];
}

function chatChecks(r: Report): Check[] {
  const m = r.messages;
  return [
    ...connectChecks(r),
    noUnexpectedCloses(r),
    check('messages delivered', m.received > 0 && m.lost === 0, `${m.sent} sent, ${m.received} received, ${m.lost} lost`),
    check('no duplicates', m.duplicated === 0 && m.seqDuplicates === 0, `${m.duplicated} duplicated, ${m.seqDuplicates} repeated seq`),
  ];
}

function stormChecks(r: Report): Check[] {
  const m = r.messages;
  const res = r.resumes;
  const dropped = res.dropped ?? 0;
  return [
    ...connectChecks(r),
    noUnexpectedCloses(r),
    check('every dropped client resumed', dropped > 0 && (res.resumed ?? 0) === dropped,
      Object.entries(res).map(([k, v]) => `${k} ${v}`).join(', ')),
    check('nothing lost', m.lost === 0 && m.seqGaps === 0, `${m.lost} channel messages lost, ${m.seqGaps} seq gaps`),
    check('nothing duplicated', m.duplicated === 0 && m.seqDuplicates === 0,
      `${m.duplicated} duplicated offsets, ${m.seqDuplicates} repeated seq`),
  ];
}

/** fuzz: the gateway survives hostile clients and the bystanders notice nothing. */
function fuzzChecks(r: Report): Check[] {
  const m = r.messages;
  const f = r.fuzz;
  if (!f) return [check('fuzz phase ran', false, 'no fuzz summary')];
  const h = f.hostile;
  const unacked = r.errors['unacked chat lines'] ?? 0;
  return [
    ...connectChecks(r),
    check('gateway process never exited', f.gatewayAlive, f.gatewayAlive ? 'still running at the end' : 'the gateway process exited'),
    check('bystanders never disconnected', r.closes.unexpected === 0, noUnexpectedCloses(r).detail),
    check('bystanders lost nothing', m.received > 0 && m.lost === 0 && m.seqGaps === 0 && unacked === 0,
      `${m.sent} chat lines sent, ${m.received} messages received, ${m.lost} lost, ${m.seqGaps} seq gaps, ${unacked} unacked`),
    check('bystanders got no duplicate', m.duplicated === 0 && m.seqDuplicates === 0, `${m.duplicated} duplicated, ${m.seqDuplicates} repeated seq`),
    check('/healthz answered within 1 s throughout', f.health.failed === 0 && f.health.samples > 0,
      `${f.health.samples} samples, ${f.health.failed} failed or slower than 1 s, max ${f.health.maxMs} ms, p99 ${f.health.p99Ms} ms`),
    referencedCheck(f),
    check('hostile traffic was sent', h.frames > 0 && h.httpRequests > 0, `${h.frames} hostile frames, ${h.httpRequests} hostile HTTP requests, ${h.connections} hostile WebSocket connections`),
  ];
}

/**
 * fuzz: what the attack left referenced. After the hostile sessions expired and a full GC, the V8 heap in use plus
 * external memory (Buffers) is back within 25 % + 8 MiB of its baseline: a leak or state without bound would stay.
 * RSS is reported, not judged: V8 keeps heap pages it grew under attack reserved for a while (seen: RSS 82 → 114 MiB
 * after, with 15.7 MiB in use). Without heap figures (a gateway that does not answer the GC request) RSS is judged.
 */
function referencedCheck(f: NonNullable<Report['fuzz']>): Check {
  const rss = `RSS ${f.rss.baselineMiB} → peak ${f.rss.peakMiB} → ${f.rss.afterMiB} MiB (${f.rss.settleSeconds} s after the hostiles left; ${f.rss.beforeGcMiB} MiB before a full GC)`;
  const before = f.heap.baselineMiB + (f.heap.externalBaselineMiB ?? 0);
  const after = f.heap.afterMiB + (f.heap.externalAfterMiB ?? 0);
  if (before <= 0) return check('RSS back within 25 % of its baseline', f.rss.afterMiB <= f.rss.baselineMiB * 1.25, rss);
  return check('memory still referenced back near its baseline', after <= before * 1.25 + 8,
    `heap in use + external after GC: ${round(before, 1)} → ${round(after, 1)} MiB (allowed ${round(before * 1.25 + 8, 1)}); ${rss}`);
}

function fmtS(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Every scenario by name. */
export const SCENARIOS: Record<ScenarioName, Scenario> = {
  idle: {
    name: 'idle',
    summary: 'connect v3 + v2 clients, stay idle past 60 s; pass = no unexpected close',
    defaults: { clients: 200, v2Share: 0.25, duration: 75, roomSize: 10 },
    gateway: {},
    mode: 'idle',
    endWhenAllClosed: false,
    checks: idleChecks,
  },
  control: {
    name: 'control',
    summary: 'gateway pings off, heartbeat 130 s; pass = nginx cuts every connection at 60 s ± 2 s',
    // One client per room: presence events (a roommate cut → session/state) would be traffic that restarts
    // nginx's timer for the others, and so would the client/ack they answer with.
    defaults: { clients: 100, v2Share: 0, duration: 66, roomSize: 1 },
    // The gateway sends its first system/heartbeat at 0.5–1 × the interval: 130 s keeps it after nginx's 60 s cut.
    gateway: { pingInterval: 0, heartbeatInterval: 130 },
    mode: 'idle',
    endWhenAllClosed: true,
    checks: controlChecks,
  },
  'legacy-idle': {
    name: 'legacy-idle',
    summary: 'like idle, with v2 clients only (through the adapter at /ws)',
    defaults: { clients: 100, v2Share: 1, duration: 75, roomSize: 10 },
    gateway: {},
    mode: 'idle',
    endWhenAllClosed: false,
    checks: idleChecks,
  },
  chat: {
    name: 'chat',
    summary: 'v2 + v3 clients in one room chatting at --rate; delivery latency, loss, duplicates',
    defaults: { clients: 100, v2Share: 0.5, duration: 30, roomSize: 10 },
    gateway: {},
    mode: 'chat',
    endWhenAllClosed: false,
    checks: chatChecks,
  },
  'reconnect-storm': {
    name: 'reconnect-storm',
    summary: 'drop --drop-share of the clients at once; all resume with last_seq; count replayed/lost/duplicated',
    defaults: { clients: 1000, v2Share: 0, duration: 20, roomSize: 10 },
    gateway: {},
    mode: 'storm',
    endWhenAllClosed: false,
    checks: stormChecks,
  },
  fuzz: {
    name: 'fuzz',
    summary: 'hostile v3/v2/HTTP clients (--hostile lanes) while bystanders chat (acked) and read a channel; pass = nothing breaks',
    // Direct: nginx would filter the garbage request lines before they reach the gateway.
    defaults: { clients: 20, v2Share: 0, duration: 60, roomSize: 20, via: 'direct' },
    gateway: {},
    mode: 'fuzz',
    endWhenAllClosed: false,
    checks: fuzzChecks,
  },
};
