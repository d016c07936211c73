import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** GC pause buckets, seconds: minor GCs take well under a millisecond, a major one on a big heap tens of ms. */
const GC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * The gateway's Prometheus metrics (prefix `wsgate_`), one registry per gateway so several
 * gateways in one process (tests) do not collide. The two liveness layers have separate series.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly connections: Gauge;
  readonly sessions: Gauge<'state'>;
  readonly pingsSent: Counter;
  readonly pongRtt: Histogram;
  readonly pingTimeouts: Counter;
  readonly heartbeatsSent: Counter;
  readonly heartbeatsReceived: Counter;
  readonly heartbeatTimeouts: Counter;
  readonly messagesIn: Counter<'event'>;
  readonly messagesOut: Counter<'event'>;
  readonly replayed: Counter;
  readonly resumes: Counter<'outcome'>;
  readonly closes: Counter<'code'>;
  readonly bufferedBytes: Gauge;
  readonly dedupHits: Counter;
  readonly sessionsEvicted: Counter;
  readonly historyDropped: Counter;
  readonly historyBytes: Gauge;
  readonly hellos: Gauge<'state'>;
  /** The v3 endpoint's hellos being answered and waiting their turn. */
  hellosSource: (() => { active: number; waiting: number }) | undefined;
  /** The broker's history bytes under `max_history_bytes` (held in memory, or added to Redis by this process). */
  historyBytesSource: (() => number) | undefined;
  readonly errors: Counter<'code'>;
  readonly livenessLateness: Gauge<'layer'>;
  /** Where the liveness lateness comes from, by layer (set by the endpoint that owns the wheels). */
  private readonly latenessSources = new Map<string, () => number>();

  /** Client messages since the last scrape, by event (see `tallied`). */
  private readonly inPending: Tallies = new Map();
  /** Stream messages produced since the last scrape, by event. */
  private readonly outPending: Tallies = new Map();

  constructor(
    /** Collect Node process and event-loop metrics too (off in tests that make many gateways). */
    defaults = true,
    /** Computed at scrape time: sessions by state and replay-buffer bytes. */
    private readonly sample: () => { connected: number; disconnected: number; buffered: number } = () => ({ connected: 0, disconnected: 0, buffered: 0 }),
  ) {
    const r = [this.registry];
    const self = this;
    this.connections = new Gauge({ name: 'wsgate_connections', help: 'Open v3 connections by transport (ws: WebSocket, sse: Server-Sent Events + POSTs)', labelNames: ['transport'], registers: r });
    this.sessions = new Gauge({
      name: 'wsgate_sessions',
      help: 'Sessions by state',
      labelNames: ['state'],
      registers: r,
      collect() {
        const s = self.sample();
        this.set({ state: 'connected' }, s.connected);
        this.set({ state: 'disconnected' }, s.disconnected);
      },
    });
    this.pingsSent = new Counter({ name: 'wsgate_pings_sent_total', help: 'Transport ping frames sent', registers: r });
    this.pongRtt = new Histogram({
      name: 'wsgate_pong_rtt_seconds',
      help: 'Ping→pong round trip',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    });
    this.pingTimeouts = new Counter({ name: 'wsgate_ping_timeouts_total', help: 'Sockets terminated for a missing pong', registers: r });
    this.heartbeatsSent = new Counter({ name: 'wsgate_heartbeats_sent_total', help: 'system/heartbeat sent', registers: r });
    this.heartbeatsReceived = new Counter({ name: 'wsgate_heartbeats_received_total', help: 'client/heartbeat received', registers: r });
    this.heartbeatTimeouts = new Counter({ name: 'wsgate_heartbeat_timeouts_total', help: 'Connections closed 4100', registers: r });
    // Both counted per message as plain numbers (a fan-out makes one per subscriber) and handed over on each scrape.
    this.messagesIn = tallied('wsgate_messages_in_total', 'Client messages by event', this.inPending, r);
    this.messagesOut = tallied('wsgate_messages_out_total', 'Server messages by event', this.outPending, r);
    this.replayed = new Counter({ name: 'wsgate_replayed_messages_total', help: 'Messages replayed on resume', registers: r });
    this.resumes = new Counter({ name: 'wsgate_resumes_total', help: 'Resume attempts by outcome', labelNames: ['outcome'], registers: r });
    this.closes = new Counter({ name: 'wsgate_closes_total', help: 'Closed connections by code', labelNames: ['code'], registers: r });
    this.bufferedBytes = new Gauge({
      name: 'wsgate_replay_buffer_bytes',
      help: 'Bytes held in session replay buffers',
      registers: r,
      collect() {
        this.set(self.sample().buffered);
      },
    });
    this.sessionsEvicted = new Counter({
      name: 'wsgate_sessions_evicted_total',
      help: 'Disconnected sessions ended early to keep --max-disconnected-sessions/--max-disconnected-bytes',
      registers: r,
    });
    this.historyDropped = new Counter({
      name: 'wsgate_channel_history_dropped_total',
      help: 'Channel history messages dropped before history_size/history_ttl to keep --max-history-bytes (in memory; with --redis, entries this process added, deleted from Redis)',
      registers: r,
    });
    this.historyBytes = new Gauge({
      name: 'wsgate_channel_history_bytes',
      help: "Bytes all channels' history holds in this process (message JSON plus a fixed cost per message and channel); with --redis, the history this process added to Redis that may still be there",
      registers: r,
      collect() {
        if (self.historyBytesSource) this.set(self.historyBytesSource());
      },
    });
    this.hellos = new Gauge({
      name: 'wsgate_hellos',
      help: 'client/hellos received and not yet answered: being answered (at most --hello-concurrency) or waiting their turn',
      labelNames: ['state'],
      registers: r,
      collect() {
        const c = self.hellosSource?.();
        if (!c) return;
        this.set({ state: 'answering' }, c.active);
        this.set({ state: 'waiting' }, c.waiting);
      },
    });
    this.dedupHits = new Counter({ name: 'wsgate_dedup_hits_total', help: 'Client messages dropped as duplicates', registers: r });
    this.errors = new Counter({ name: 'wsgate_errors_total', help: 'system/error sent, by code', labelNames: ['code'], registers: r });
    this.livenessLateness = new Gauge({
      name: 'wsgate_liveness_lateness_max_seconds',
      help: 'Longest delay of a liveness wheel (pings, heartbeats) behind its schedule since the last scrape, by layer',
      labelNames: ['layer'],
      registers: r,
      collect() {
        for (const [layer, take] of self.latenessSources) this.set({ layer }, take() / 1000);
      },
    });
    // prom-client's own collectors: CPU, RSS, heap spaces, handles, event-loop lag (min/mean/max/p50/p90/p99 since
    // the last scrape, sampled every 10 ms) and GC pauses by kind. A blocked loop delays pings and heartbeats, so
    // the lag's max is the first figure to watch.
    if (defaults) {
      collectDefaultMetrics({ register: this.registry, prefix: 'wsgate_', eventLoopMonitoringPrecision: 10, gcDurationBuckets: GC_BUCKETS });
    }
  }

  /** Report `layer`'s lateness (ms since the last call; the call resets it) as wsgate_liveness_lateness_max_seconds. */
  watchLateness(layer: 'transport' | 'app', take: () => number): void {
    this.latenessSources.set(layer, take);
  }

  /** Count one client message of `event` (already reduced to a bounded label). */
  countIn(event: string): void {
    tally(this.inPending, event);
  }

  /** Count one stream message produced for a session (called once per recipient). */
  countOut(event: string): void {
    tally(this.outPending, event);
  }
}

type Tallies = Map<string, { n: number }>;

function tally(tallies: Tallies, event: string): void {
  const t = tallies.get(event);
  if (t) t.n++;
  else tallies.set(event, { n: 1 });
}

/** A counter by event fed from `tallies` when scraped: the per-message path adds to a number, prom-client is not on it. */
function tallied(name: string, help: string, tallies: Tallies, registers: Registry[]): Counter<'event'> {
  return new Counter({
    name, help, labelNames: ['event'], registers,
    collect() {
      for (const [event, t] of tallies) {
        if (t.n > 0) this.labels(event).inc(t.n);
        t.n = 0;
      }
    },
  });
}
