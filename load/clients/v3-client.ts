import { bump } from '../stats.js';
import { BaseClient } from './base-client.js';
import { chatText, parseChatText } from './trackers.js';

/** Resume attempts after a drop before the client gives up (each after a jittered, growing pause). */
const MAX_RECONNECTS = 6;

/**
 * A v3 client speaking docs/protocol.md directly: `client/hello`, `client/heartbeat` each `heartbeat_interval`,
 * cumulative `client/ack`, resume with `last_seq` after a drop, `seq` checked for gaps and repeats.
 */
export class V3Client extends BaseClient {
  readonly version = 3 as const;
  private sessionId = '';
  private resumeToken = '';
  private lastSeq = 0;
  private ackedSeq = 0;
  private resuming = false;
  private reconnects = 0;
  private subscribed = false;
  /** fuzz: ids of chat lines sent and not yet acked (system/ack). */
  private readonly unacked = new Set<string>();

  protected url(): string {
    return this.ctx.config.v3Url;
  }

  private room(): string {
    const c = this.ctx.config;
    return c.room ?? `load-${Math.floor(this.index / c.roomSize)}`;
  }

  protected onOpen(): void {
    const resume = this.resuming
      ? { session_id: this.sessionId, resume_token: this.resumeToken, last_seq: this.lastSeq }
      : undefined;
    this.send({ event: 'client/hello', payload: { profile: { name: this.key }, room: this.room(), resume } });
  }

  protected onFrame(f: Record<string, unknown>): void {
    if (typeof f.seq === 'number') this.checkSeq(f.seq);
    const p = (f.payload ?? {}) as Record<string, unknown>;
    const s = this.ctx.stats;
    switch (f.event) {
      case 'system/init':
        return this.onInit(p);
      case 'system/heartbeat':
        s.heartbeatsReceived++;
        return;
      case 'channel/subscribed':
        if (typeof p.offset === 'number') this.offsets.setBase(p.offset);
        return;
      case 'channel/message':
        return this.onChannelMessage(p);
      case 'send/broadcast': {
        const body = (p.body ?? {}) as Record<string, unknown>;
        const line = parseChatText(body.text);
        if (line) this.onChat(line.sender, line.n, line.sentAt);
        return;
      }
      case 'system/error':
        bump(s.errors, `v3:${String(p.code)}`);
        return;
      case 'system/ack':
        if (typeof p.id === 'string') this.unacked.delete(p.id);
        return;
      default:
        return;
    }
  }

  private checkSeq(seq: number): void {
    const s = this.ctx.stats.seq;
    if (seq <= this.lastSeq) s.duplicated++;
    else {
      if (seq > this.lastSeq + 1) s.gaps += seq - this.lastSeq - 1;
      this.lastSeq = seq;
    }
  }

  private onInit(p: Record<string, unknown>): void {
    const s = this.ctx.stats;
    if (this.resuming) {
      const outcome = p.resumed === true ? 'resumed' : `new_session:${String(p.resume_error ?? 'unknown')}`;
      bump(s.resumes, outcome);
      if (typeof p.replayed === 'number') s.replayed += p.replayed;
      this.resuming = false;
      this.reconnects = 0;
    }
    if (p.resumed !== true) {
      // A fresh session numbers its messages from 1 again and has no subscriptions.
      this.lastSeq = this.ackedSeq = 0;
      this.subscribed = false;
    }
    this.sessionId = String(p.session_id ?? '');
    this.resumeToken = String(p.resume_token ?? '');
    this.startHeartbeat(Number(p.heartbeat_interval ?? 0));
    if ((this.ctx.config.mode === 'storm' || this.ctx.config.mode === 'fuzz') && !this.subscribed) {
      this.subscribed = true;
      this.send({ event: 'channel/subscribe', payload: { channel: this.ctx.config.channel } });
    }
    this.settle();
  }

  private onChannelMessage(p: Record<string, unknown>): void {
    if (typeof p.offset !== 'number') return;
    this.offsets.add(p.offset, this.ctx.stats.messages);
    const data = p.data as { t?: unknown } | undefined;
    if (typeof data?.t === 'number') this.recordLatency(data.t);
  }

  /** Send the cumulative ack if anything new arrived (the worker calls this about once a second). */
  ack(): void {
    if (this.lastSeq > this.ackedSeq && this.send({ event: 'client/ack', payload: { seq: this.lastSeq } })) {
      this.ackedSeq = this.lastSeq;
      this.ctx.stats.acksSent++;
    }
  }

  sendChat(): void {
    const text = chatText(this.key, this.sentChat + 1);
    // fuzz bystanders send with an id: every line must be acked (system/ack), under attack too.
    const id = this.ctx.config.mode === 'fuzz' ? `${this.key}-${this.sentChat + 1}` : undefined;
    if (this.send({ event: 'send/broadcast', id, payload: { subject: 'chat/message', body: { text } } })) {
      this.sentChat++;
      this.ctx.stats.messages.sent++;
      if (id) this.unacked.add(id);
    }
  }

  override finish(lastOffset: number, sentBySender: Record<string, number>): void {
    super.finish(lastOffset, sentBySender);
    if (this.unacked.size > 0) bump(this.ctx.stats.errors, 'unacked chat lines', this.unacked.size);
  }

  /** Drop abruptly, then reconnect at once and resume with `last_seq`. */
  override drop(): void {
    if (!this.sessionId) return;
    super.drop();
    this.resuming = true;
    setImmediate(() => this.connect());
  }

  protected override onConnectFailed(reason: string): void {
    if (!this.resuming) return super.onConnectFailed(reason);
    bump(this.ctx.stats.failReasons, `reconnect: ${reason.slice(0, 60)}`);
    if (++this.reconnects > MAX_RECONNECTS) {
      bump(this.ctx.stats.resumes, 'gave_up');
      this.resuming = false;
      return;
    }
    const pause = Math.random() * 100 * 2 ** this.reconnects;
    setTimeout(() => this.connect(), pause);
  }
}
