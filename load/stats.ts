import hdr from 'hdr-histogram-js';
import type { Spread, WorkerStats } from './types.js';

/** An HDR histogram with 3 significant digits, auto-resizing (values in whatever unit the caller picks). */
export function newHistogram(): hdr.Histogram {
  return hdr.build({ numberOfSignificantValueDigits: 3, autoResize: true });
}

/** Compressed base64, for IPC. An empty histogram encodes to ''. */
export function encodeHist(h: hdr.Histogram): string {
  return h.totalCount === 0 ? '' : hdr.encodeIntoCompressedBase64(h);
}

/** Add an encoded histogram into `into`. */
export function addEncoded(into: hdr.Histogram, encoded: string): void {
  if (encoded) into.add(hdr.decodeFromCompressedBase64(encoded));
}

/** An empty spread (min is +Infinity until the first client is added; JSON turns it into null, see spreadOf). */
export function emptySpread(): Spread {
  return { clients: 0, min: Number.POSITIVE_INFINITY, max: 0, sum: 0 };
}

/** Add one client's count to a spread. */
export function addToSpread(s: Spread, value: number): void {
  s.clients++;
  s.min = Math.min(s.min, value);
  s.max = Math.max(s.max, value);
  s.sum += value;
}

function mergeSpread(a: Spread, b: Spread): Spread {
  // A spread without clients has no meaningful min (it may arrive as null after JSON).
  if (b.clients === 0) return a;
  if (a.clients === 0) return { ...b };
  return { clients: a.clients + b.clients, min: Math.min(a.min, b.min), max: Math.max(a.max, b.max), sum: a.sum + b.sum };
}

function addCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** Increment `rec[key]`. */
export function bump(rec: Record<string, number>, key: string, by = 1): void {
  rec[key] = (rec[key] ?? 0) + by;
}

/** Zeroed worker stats. */
export function emptyStats(): WorkerStats {
  return {
    opened: 0,
    failed: 0,
    failReasons: {},
    neverConnected: 0,
    expectedCloses: 0,
    unexpectedCloses: 0,
    closesByCode: {},
    closesBySinceOpen: {},
    closeSinceOpenHist: '',
    closeSinceRxHist: '',
    pingsV3: emptySpread(),
    pingsV2: emptySpread(),
    heartbeatsReceived: 0,
    heartbeatsSent: 0,
    acksSent: 0,
    messages: { sent: 0, received: 0, lost: 0, duplicated: 0, outOfOrder: 0 },
    seq: { gaps: 0, duplicated: 0 },
    latencyHist: '',
    resumes: {},
    replayed: 0,
    errors: {},
  };
}

/** Buckets for "unexpected close, seconds since open": the 58–62 s bucket is nginx's default proxy_read_timeout. */
export function sinceOpenBucket(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return '<10s';
  if (s < 58) return '10-58s';
  if (s <= 62) return '58-62s';
  if (s < 120) return '62-120s';
  return '>=120s';
}

/** Merged stats with their histograms decoded. */
export interface MergedStats {
  stats: WorkerStats;
  latency: hdr.Histogram;
  closeSinceOpen: hdr.Histogram;
  closeSinceRx: hdr.Histogram;
}

/** Merge every worker's final stats. Spreads with no clients get min 0. */
export function mergeStats(all: WorkerStats[]): MergedStats {
  const latency = newHistogram();
  const closeSinceOpen = newHistogram();
  const closeSinceRx = newHistogram();
  let s = emptyStats();
  for (const w of all) {
    addEncoded(latency, w.latencyHist);
    addEncoded(closeSinceOpen, w.closeSinceOpenHist);
    addEncoded(closeSinceRx, w.closeSinceRxHist);
    s = {
      ...s,
      opened: s.opened + w.opened,
      failed: s.failed + w.failed,
      failReasons: addCounts(s.failReasons, w.failReasons),
      neverConnected: s.neverConnected + w.neverConnected,
      expectedCloses: s.expectedCloses + w.expectedCloses,
      unexpectedCloses: s.unexpectedCloses + w.unexpectedCloses,
      closesByCode: addCounts(s.closesByCode, w.closesByCode),
      closesBySinceOpen: addCounts(s.closesBySinceOpen, w.closesBySinceOpen),
      pingsV3: mergeSpread(s.pingsV3, w.pingsV3),
      pingsV2: mergeSpread(s.pingsV2, w.pingsV2),
      heartbeatsReceived: s.heartbeatsReceived + w.heartbeatsReceived,
      heartbeatsSent: s.heartbeatsSent + w.heartbeatsSent,
      acksSent: s.acksSent + w.acksSent,
      messages: addCounts(s.messages, w.messages) as WorkerStats['messages'],
      seq: addCounts(s.seq, w.seq) as WorkerStats['seq'],
      resumes: addCounts(s.resumes, w.resumes),
      replayed: s.replayed + w.replayed,
      errors: addCounts(s.errors, w.errors),
    };
  }
  for (const sp of [s.pingsV3, s.pingsV2]) if (!Number.isFinite(sp.min)) sp.min = 0;
  return { stats: s, latency, closeSinceOpen, closeSinceRx };
}
