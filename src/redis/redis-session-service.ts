import { randomBytes } from 'node:crypto';
import { nanoid } from 'nanoid';
import type { Logger } from 'pino';
import { CloseCode, closeEndsSession } from '../protocol/codes.js';
import { EncodedPayload } from '../protocol/codec.js';
import type { Profile, SessionInfo, StreamPosition } from '../protocol/events.js';
import type { DetachReason, EndReason, ResumeResult, RoomMembersPage, SessionService, SessionSummary } from '../session/session-service.js';
import type { HeldFrame } from '../session/replay-buffer.js';
import { Session, type SessionLimits, type SessionLink, type StreamSink } from '../session/session.js';
import type { Clock } from '../time/clock.js';
import { Outbox } from './outbox.js';
import { OutageLog } from './outage-log.js';
import type { BusHandler, ProcessBus } from './process-bus.js';
import { SharedRoomPresence } from './room-counts.js';
import type { RedisSessionStore, RoomSnapshot } from './session-store.js';
import { SinkQueue } from './sink-queue.js';
import { TurnCork } from './turn-cork.js';

/** What the gateway plugs into the Redis session service. */
export interface RedisSessionHooks {
  /** A session left this process (ended, or moved to another): drop its local subscriptions. */
  onEnded?(session: Session, reason: EndReason): void;
  /** A session resumed here from another process: re-attach its channels after the positions its buffer got. */
  restoreChannels?(session: Session, channels: Map<string, StreamPosition>): Promise<void>;
}

/**
 * The SessionService for a gateway of several processes sharing one Redis. The session itself —
 * record, seq, replay buffer, dedup window, room — lives in Redis (RedisSessionStore); this
 * process holds a local Session object only for the sessions whose socket it holds (or held, while
 * they may still resume here), with a mirror of the replay buffer its connection replays from.
 * Stream messages go out through Redis (the Session's sink), come back numbered over this
 * process's bus channel, and an Outbox per session writes them in seq order, once.
 */
export class RedisSessionService implements SessionService, StreamSink, BusHandler {
  private readonly local = new Map<string, Session>();
  private readonly outboxes = new Map<string, Outbox>();
  /** system/init lists read at attach (bounded by the presence limit), for the `system/init` sent right after. */
  private readonly rosters = new WeakMap<Session, RoomSnapshot>();
  /** This process's members per room, and the counts big rooms hear (docs/protocol.md §4.6). */
  private readonly presence: SharedRoomPresence;
  /** Created, not yet in Redis (attach announces them). */
  private readonly unannounced = new WeakSet<Session>();
  /** Disconnects Redis did not hear (it was away); told when it is back. */
  private readonly undelivered = new Set<Session>();
  /** Frames that arrive for a session while this process is claiming it (before its outbox exists). */
  private readonly claiming = new Map<string, { seq: number; text: HeldFrame }[]>();
  /** Sessions whose outbox waits behind a gap, with the timer that reads the gap back from Redis. */
  private readonly repairs = new Map<string, unknown>();
  /** Sessions ended here while Redis was away, and why: ended there too when it is back. */
  private readonly unended = new Map<string, EndReason>();
  private readonly queue: SinkQueue;
  private readonly outage: OutageLog;
  /** Sockets written from the bus this turn, corked until its end. */
  private readonly cork = new TurnCork();
  private resyncing = false;
  /** Acks of this turn not sent to Redis yet: session → the highest seq (bounded by the local sessions, emptied each turn). */
  private readonly acks = new Map<string, number>();
  private acksDue = false;
  /** Resyncs failed in a row (Redis went away again mid-way): the retry backs off, only the first one warns. */
  private resyncFailures = 0;
  private closed = false;

  constructor(
    private readonly store: RedisSessionStore,
    private readonly bus: ProcessBus,
    private readonly limits: SessionLimits,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly hooks: RedisSessionHooks = {},
  ) {
    this.outage = new OutageLog(() => bus.healthy, logger);
    this.queue = new SinkQueue(store, (err, step) => {
      if (!this.outage.expected(err)) logger.warn({ err: (err as Error).message, step }, 'stream message not stored in Redis');
    });
    // A few ms past the note key's TTL: a timer may round a millisecond early, and the read must see the whole tick.
    this.presence = new SharedRoomPresence(clock, store.presenceTickMs + 5, (rooms) => store.counts(rooms), logger);
  }

  /** Connect, join the bus, start the liveness key and the sweeps. Rejects when Redis cannot be reached. */
  async start(timeoutMs?: number): Promise<void> {
    await this.store.ready(timeoutMs);
    await this.bus.start(this);
  }

  unavailable(): string | undefined {
    if (!this.bus.healthy) return 'the gateway cannot reach Redis; try again later';
    // Until Redis has heard again of the sessions held here, a roster it gives a new client would be wrong.
    return this.resyncing ? 'the gateway is catching up with Redis; try again in a moment' : undefined;
  }

  async create(room: string, profile: Profile, resumable: boolean): Promise<Session> {
    JSON.stringify(profile); // a profile that cannot be encoded fails here, before anything is recorded
    const session = new Session(nanoid(), randomBytes(24).toString('base64url'), room, profile, resumable, this.limits, this.clock.now());
    session.sink = this;
    this.unannounced.add(session);
    return session;
  }

  async resume(sessionId: string, token: string, lastSeq: number, userId?: string): Promise<ResumeResult> {
    this.queue.flush();
    // Frames numbered after the claim are published to this process and may beat the claim's own reply here.
    const early: { seq: number; text: HeldFrame }[] = [];
    this.claiming.set(sessionId, early);
    let r: Awaited<ReturnType<RedisSessionStore['claim']>>;
    try {
      r = await this.store.claim(sessionId, token, lastSeq, userId);
    } finally {
      if (this.claiming.get(sessionId) === early) this.claiming.delete(sessionId);
    }
    if (!r.ok) {
      if (r.error === 'gap') {
        const old = this.local.get(sessionId);
        old?.link?.close(CloseCode.Replaced, 'resume failed (gap); session ended');
        if (old) this.dropLocal(old, 'gap');
        await this.store.end(sessionId, 'gap');
      }
      return r;
    }
    const c = r.session;
    let session = this.local.get(sessionId);
    const arrived = !session;
    if (!session) {
      session = new Session(sessionId, token, c.room, c.profile, c.resumable, this.limits, this.clock.now());
      session.sink = this;
      session.seq = lastSeq;
      session.state = 'disconnected';
      this.track(session, lastSeq + 1);
    }
    this.rosters.set(session, c.roster);
    this.presence.sized(c.room, c.roster.size);
    const box = this.outboxes.get(sessionId)!;
    for (const f of early) box.push(f.seq, f.text);
    for (const f of await this.store.frames(sessionId, Math.max(lastSeq + 1, box.expected), c.seq)) box.push(f.seq, f.text);
    if (arrived) {
      this.hooks.restoreChannels?.(session, c.channels).catch((err: unknown) => this.logger.warn({ err, session: sessionId }, 'channels not restored'));
    }
    return { ok: true, session, replayed: c.seq - lastSeq };
  }

  async attach(session: Session, link: SessionLink): Promise<void> {
    if (session.state === 'ended') throw new Error(`session ${session.id} has ended`);
    if (this.unannounced.has(session)) {
      // Known here before Redis announces it: frames numbered for it meanwhile (a member joining) are kept.
      this.track(session, 1);
      this.queue.flush();
      try {
        const roster = await this.store.create(session.id, session.resumeToken, session.room, session.profile, session.resumable, session.auth?.userId);
        this.rosters.set(session, roster);
        this.presence.sized(session.room, roster.size);
      } catch (err) {
        this.local.delete(session.id);
        this.outboxes.delete(session.id);
        this.presence.remove(session);
        throw err;
      }
      this.unannounced.delete(session);
    }
    if (session.link && session.link !== link) session.link.close(CloseCode.Replaced, 'session resumed by another connection');
    session.link = link;
    session.state = 'connected';
  }

  async detach(session: Session, link: SessionLink, how: DetachReason): Promise<void> {
    if (session.link !== link || session.state === 'ended') return;
    if (!session.resumable || closeEndsSession(how.code, how.byServer)) {
      await this.end(session, how.code === CloseCode.Kicked ? 'kicked' : 'closed');
      return;
    }
    session.state = 'disconnected';
    session.link = undefined;
    session.disconnectedAt = this.clock.now();
    this.queue.flush();
    try {
      await this.store.disconnect(session.id);
    } catch (err) {
      this.undelivered.add(session);
      if (!this.outage.expected(err)) throw err;
    }
  }

  async end(session: Session, reason: EndReason): Promise<void> {
    const announced = !this.unannounced.has(session);
    this.dropLocal(session, reason);
    if (!announced) return;
    this.queue.flush();
    try {
      await this.store.end(session.id, reason);
    } catch (err) {
      if (!this.outage.expected(err)) throw err;
      this.unended.set(session.id, reason);
    }
  }

  async expire(session: Session): Promise<void> {
    if (session.state === 'disconnected') await this.end(session, 'expired');
  }

  get(id: string): Session | undefined {
    return this.local.get(id);
  }

  all(): IterableIterator<Session> {
    return this.local.values();
  }

  /** Big rooms (docs/protocol.md §4.6) work across processes: the Lua scripts size the room at each change. */
  get presenceLimit(): number {
    return this.store.presenceLimit;
  }

  /** The list read from Redis when `self` joined or resumed (at most presence_limit entries in a big room). */
  roster(_room: string, self?: Session): SessionInfo[] {
    const r = self && this.rosters.get(self);
    if (self) this.rosters.delete(self);
    return r?.list ?? [];
  }

  roomSize(room: string, self?: Session): number {
    return (self && this.rosters.get(self)?.size) ?? this.presence.size(room);
  }

  /** `room/list`: one bounded range of the room's joining order, read from Redis with the room's size. */
  async page(room: string, offset: number, limit: number): Promise<RoomMembersPage> {
    const p = await this.store.page(room, offset, limit);
    this.presence.sized(room, p.size);
    return { total: p.size, sessions: p.list };
  }

  async toOthers(session: Session, event: string, payload: unknown): Promise<void> {
    this.queue.flush();
    await this.store.toRoomJson(session.room, session.id, event, payload instanceof EncodedPayload ? payload.json : JSON.stringify(payload ?? null));
  }

  async sendTo(sessionId: string, event: string, payload: unknown): Promise<{ seq: number; connected: boolean } | undefined> {
    this.queue.flush();
    const json = payload instanceof EncodedPayload ? payload.json : payload === undefined ? undefined : JSON.stringify(payload);
    const d = await this.store.deliverJson([sessionId], event, json);
    return d.count > 0 ? { seq: d.seq, connected: d.connected } : undefined;
  }

  async endById(sessionId: string, reason: EndReason): Promise<boolean> {
    const session = this.local.get(sessionId);
    if (!session) {
      this.queue.flush();
      return this.store.end(sessionId, reason); // its owner, if any, is told and closes the socket
    }
    session.link?.close(reason === 'kicked' ? CloseCode.Kicked : CloseCode.Normal, 'session ended by the server');
    await this.end(session, reason);
    return true;
  }

  async list(room: string | null): Promise<SessionSummary[]> {
    const all = await this.store.list();
    return all
      .filter((s) => room === null || s.room === room)
      .map((s) => ({ ...s, disconnectedAt: s.is_connected ? 0 : s.disconnectedAt }));
  }

  ack(session: Session, seq: number): void {
    session.ack(seq);
    // Redis hears the acks of one event-loop turn (all the sockets read in it) in one script, not one each: an ack
    // only lets Redis drop frames sooner, so a turn later changes nothing a client can see.
    if ((this.acks.get(session.id) ?? -1) < seq) this.acks.set(session.id, seq);
    if (!this.acksDue) {
      this.acksDue = true;
      setImmediate(this.flushAcks);
    }
  }

  private readonly flushAcks = (): void => {
    this.acksDue = false;
    if (this.acks.size === 0) return;
    const acks = [...this.acks];
    this.acks.clear();
    this.queue.flush();
    this.store.ackMany(acks).catch((err: unknown) => this.logger.debug({ err: (err as Error).message }, 'acks not stored'));
  };

  remember(session: Session, id: string): Promise<boolean> {
    this.queue.flush();
    return this.store.dedup(session.id, id);
  }

  forget(session: Session, id: string): void {
    this.store.forget(session.id, id).catch((err: unknown) => this.logger.debug({ err: (err as Error).message }, 'dedup id not forgotten'));
  }

  /** Leave the gateway: local sessions are dropped, not ended — their clients resume on the other processes. */
  async close(): Promise<void> {
    this.closed = true;
    this.presence.stop();
    for (const s of this.local.values()) {
      s.state = 'ended';
      s.link = undefined;
      this.hooks.onEnded?.(s, 'shutdown');
    }
    this.local.clear();
    this.outboxes.clear();
    for (const t of this.repairs.values()) this.clock.clearTimeout(t);
    this.repairs.clear();
    this.cork.release();
    this.flushAcks();
    this.queue.flush();
    await this.bus.stop();
    await this.store.close();
  }

  // StreamSink: every stream message of a local session goes to Redis, batched per tick.
  send(session: Session, event: string, payloadJson: string | undefined, id: string | undefined): void {
    this.queue.push(session.id, event, payloadJson, id);
  }

  // BusHandler
  frame(id: string, seq: number, text: HeldFrame): void {
    const box = this.outboxes.get(id);
    if (!box) {
      this.claiming.get(id)?.push({ seq, text });
      return;
    }
    const link = this.local.get(id)?.link;
    if (link) this.cork.hold(link);
    box.push(seq, text);
    if (box.waiting > 0 && !this.repairs.has(id)) {
      // A frame is missing before this one (lost with a subscriber connection, or still on its way): read it back if it does not come.
      this.repairs.set(id, this.clock.setTimeout(() => void this.repair(id), 250));
    }
  }

  private async repair(id: string): Promise<void> {
    this.repairs.delete(id);
    const box = this.outboxes.get(id);
    if (!box || box.waiting === 0) return;
    try {
      const frames = await this.store.frames(id, box.expected, box.firstHeld - 1);
      if (frames.length > 0 && frames[0]!.seq > box.expected) {
        // Trimmed from the replay buffer before it was written: the client must resume and hear `gap`, not miss it silently.
        this.local.get(id)?.link?.close(CloseCode.SlowConsumer, 'messages were lost before they could be written');
        return;
      }
      for (const f of frames) box.push(f.seq, f.text);
    } catch (err) {
      this.logger.debug({ err: (err as Error).message, session: id }, 'missing frames not read back yet');
    }
    if (box.waiting > 0 && this.outboxes.get(id) === box) this.repairs.set(id, this.clock.setTimeout(() => void this.repair(id), 1000));
  }

  roomChanged(room: string): void {
    if (!this.closed) this.presence.noticed(room);
  }

  moved(id: string): void {
    const s = this.local.get(id);
    if (!s) return;
    s.link?.close(CloseCode.Replaced, 'session resumed on another gateway process');
    this.dropLocal(s, 'replaced');
  }

  ended(id: string, reason: string): void {
    const s = this.local.get(id);
    if (!s) return;
    s.link?.close(reason === 'kicked' ? CloseCode.Kicked : CloseCode.Normal, 'session ended by the server');
    this.dropLocal(s, reason as EndReason);
  }

  /** Redis is back after an outage: tell it what it missed, put back what it lost, read back missed frames. */
  resync(): void {
    if (this.closed) return;
    this.resyncing = true;
    this.presence.noticedAll(); // notes published while the subscriber was away are lost
    this.catchUp().then(
      () => {
        this.resyncing = false;
        this.resyncFailures = 0;
      },
      (err: unknown) => {
        // Redis went away again mid-way: try again (the subscriber's next `ready` may never come if it stayed up),
        // backing off to 30 s. One warning per outage, not one a second while it lasts; the retries are debug.
        const failures = ++this.resyncFailures;
        const log = failures === 1 ? this.logger.warn.bind(this.logger) : this.logger.debug.bind(this.logger);
        log({ err: (err as Error).message, failures }, 'resync with Redis failed; retrying');
        this.clock.setTimeout(() => this.resync(), Math.min(1000 * 2 ** (failures - 1), 30_000));
      },
    );
  }

  private async catchUp(): Promise<void> {
    await this.store.ready(30_000);
    for (const [id, reason] of [...this.unended]) {
      await this.store.end(id, reason);
      this.unended.delete(id);
    }
    let restored = 0;
    for (const s of [...this.local.values()]) {
      if (await this.store.restore(s)) restored++;
      if (this.undelivered.delete(s) && s.state === 'disconnected') await this.store.disconnect(s.id);
      const box = this.outboxes.get(s.id);
      if (box) for (const f of await this.store.frames(s.id, box.expected, Number.MAX_SAFE_INTEGER)) box.push(f.seq, f.text);
    }
    this.outage.over();
    this.logger.info({ sessions: this.local.size, restored }, 'back in touch with Redis');
  }

  private track(session: Session, next: number): void {
    this.local.set(session.id, session);
    this.presence.add(session);
    this.outboxes.set(session.id, new Outbox(next, (seq, text) => session.accept(seq, text)));
  }

  /** Forget a session here (ended, or moved to another process); Redis is not touched. */
  private dropLocal(session: Session, reason: EndReason): void {
    if (session.state === 'ended') return;
    session.state = 'ended';
    session.link = undefined;
    this.unannounced.delete(session);
    this.undelivered.delete(session);
    if (this.local.get(session.id) === session) {
      this.local.delete(session.id);
      this.outboxes.delete(session.id);
      this.presence.remove(session);
      const repair = this.repairs.get(session.id);
      if (repair !== undefined) this.clock.clearTimeout(repair);
      this.repairs.delete(session.id);
    }
    this.hooks.onEnded?.(session, reason);
  }
}
