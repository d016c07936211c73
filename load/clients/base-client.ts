import type hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { bump, sinceOpenBucket } from '../stats.js';
import type { WorkerConfig, WorkerStats } from '../types.js';
import { ChatTracker, OffsetTracker, nowMs } from './trackers.js';

/** Attempts at the first connection before a client counts as never connected. */
const FIRST_CONNECT_ATTEMPTS = 3;

/** What every client of one worker shares: the config, the counters and the worker's callbacks. */
export interface ClientContext {
  config: WorkerConfig;
  stats: WorkerStats;
  /** Delivery latency, microseconds. */
  latency: hdr.Histogram;
  /** The same, since the last progress snapshot (the report's latency-over-time chart). */
  latencyWindow: hdr.Histogram;
  /** Unexpected closes: ms since open. */
  closeSinceOpen: hdr.Histogram;
  /** Unexpected closes: ms since the last frame (data or ping) arrived. */
  closeSinceRx: hdr.Histogram;
  /** Set once the run is over: closes from then on are ours. */
  stopping: boolean;
  /** First time a client is fully up (v3: system/init, v2: system/init) or has failed for good. */
  settled(client: BaseClient): void;
}

/**
 * One load client: a `ws` connection plus what both protocol versions count the same way — opens, failures,
 * ping frames, closes (expected or not, by code and by time since open), the application heartbeat timer.
 */
export abstract class BaseClient {
  /** Sender key, unique in the run, e.g. `c42`. */
  readonly key: string;
  /** Ping frames seen over the client's whole life (all its connections). */
  pings = 0;
  /** Chat lines sent. */
  sentChat = 0;
  protected ws: WebSocket | undefined;
  protected openedAt = 0;
  protected lastRx = 0;
  protected everOpened = false;
  protected isSettled = false;
  /** Per connection: set when we close it ourselves (drop, stop), so its close is not counted as unexpected. */
  protected conn = { byUs: false };
  protected readonly chat = new ChatTracker();
  protected readonly offsets = new OffsetTracker();
  private heartbeat: NodeJS.Timeout | undefined;
  private connectAttempts = 0;

  constructor(
    protected readonly ctx: ClientContext,
    readonly index: number,
    protected readonly localAddress: string | undefined,
  ) {
    this.key = `c${index}`;
  }

  /** 2 or 3. */
  abstract readonly version: 2 | 3;
  protected abstract url(): string;
  protected abstract onOpen(): void;
  protected abstract onFrame(frame: Record<string, unknown>): void;
  /** Send one chat line. */
  abstract sendChat(): void;

  /** Open a connection (again). */
  connect(): void {
    const conn = (this.conn = { byUs: false });
    let opened = false;
    const ws = new WebSocket(this.url(), {
      localAddress: this.localAddress,
      perMessageDeflate: false,
      handshakeTimeout: 20_000,
      rejectUnauthorized: false,
    });
    this.ws = ws;
    ws.on('open', () => {
      opened = true;
      this.everOpened = true;
      this.ctx.stats.opened++;
      this.openedAt = this.lastRx = nowMs();
      this.onOpen();
    });
    ws.on('ping', () => {
      this.pings++;
      this.lastRx = nowMs();
    });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('error', (err) => {
      if (!opened) this.onConnectFailed(err.message);
    });
    ws.on('close', (code) => {
      this.stopHeartbeat();
      if (opened) this.onClosed(code, conn.byUs);
    });
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    this.lastRx = nowMs();
    if (isBinary) return void bump(this.ctx.stats.errors, 'binary_frame');
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      return void bump(this.ctx.stats.errors, 'bad_json');
    }
    if (frame && typeof frame === 'object' && !Array.isArray(frame)) this.onFrame(frame as Record<string, unknown>);
  }

  protected onConnectFailed(reason: string): void {
    this.ctx.stats.failed++;
    bump(this.ctx.stats.failReasons, reason.replace(/\d+\.\d+\.\d+\.\d+:\d+/g, 'ADDR').slice(0, 80));
    // Like a real client, retry a failed first connect a few times (jittered, growing pause); every failed
    // attempt stays counted in `failed`, and a client that never got in counts in `neverConnected`.
    if (!this.everOpened && !this.ctx.stopping && ++this.connectAttempts < FIRST_CONNECT_ATTEMPTS) {
      setTimeout(() => this.connect(), (0.5 + Math.random()) * 1000 * 2 ** this.connectAttempts);
      return;
    }
    this.settle();
  }

  protected onClosed(code: number, byUs: boolean): void {
    const s = this.ctx.stats;
    if (byUs || this.ctx.stopping) {
      s.expectedCloses++;
      return;
    }
    const now = nowMs();
    s.unexpectedCloses++;
    bump(s.closesByCode, String(code));
    bump(s.closesBySinceOpen, sinceOpenBucket(now - this.openedAt));
    this.ctx.closeSinceOpen.recordValue(Math.max(1, Math.round(now - this.openedAt)));
    this.ctx.closeSinceRx.recordValue(Math.max(1, Math.round(now - this.lastRx)));
    this.settle();
  }

  /** Mark this client as up (or failed for good) once, for the ramp. */
  protected settle(): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.ctx.settled(this);
  }

  /** Send a JSON frame if the socket is open. */
  protected send(frame: object): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Send `client/heartbeat` every `intervalS` seconds (0: never), as docs/protocol.md §3.2 asks of clients. */
  protected startHeartbeat(intervalS: number): void {
    this.stopHeartbeat();
    if (!(intervalS > 0)) return;
    this.heartbeat = setInterval(() => {
      if (this.send({ event: 'client/heartbeat' })) this.ctx.stats.heartbeatsSent++;
    }, intervalS * 1000);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** Drop the connection abruptly (no close frame), as a lost network would. */
  drop(): void {
    this.conn.byUs = true;
    this.ws?.terminate();
  }

  /** Close normally at the end of the run. Resolves when closed (or after 5 s). */
  close(): Promise<void> {
    const ws = this.ws;
    this.conn.byUs = true;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 5000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'load run over');
    });
  }

  /** Did this client open at least once? */
  get opened(): boolean {
    return this.everOpened;
  }

  /** Count lost chat lines / channel offsets at the end of the run. */
  finish(lastOffset: number, sentBySender: Record<string, number>): void {
    this.chat.finish(this.key, sentBySender, this.ctx.stats.messages);
    this.offsets.finish(lastOffset, this.ctx.stats.messages);
  }

  /** Record a chat line's delivery. */
  protected onChat(sender: string, n: number, sentAt: number): void {
    this.chat.add(sender, n, this.ctx.stats.messages);
    this.recordLatency(sentAt);
  }

  /** Record one delivery latency (from the send time, ms) in the run's and the current window's histograms. */
  protected recordLatency(sentAt: number): void {
    const us = Math.max(1, Math.round((nowMs() - sentAt) * 1000));
    this.ctx.latency.recordValue(us);
    this.ctx.latencyWindow.recordValue(us);
  }
}
