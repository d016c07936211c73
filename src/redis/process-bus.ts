import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { frameCost, type HeldFrame, type SharedFrame } from '../session/replay-buffer.js';
import { systemClock, type Clock } from '../time/clock.js';
import { closeRedis, openRedis, whenReady } from './connection.js';
import type { RedisSessionStore } from './session-store.js';

/** What the bus hands to the gateway process it runs in. */
export interface BusHandler {
  /**
   * A stream frame for a session this process owns (may arrive out of order: feed an Outbox): its own text, or
   * one frame shared by the sessions of a group (written as text(seq)).
   */
  frame(id: string, seq: number, frame: HeldFrame): void;
  /** The session was resumed on another process: close the local socket with 4002, forget it here. */
  moved(id: string): void;
  /** The session was ended from another process (API kick, expiry). */
  ended(id: string, reason: string): void;
  /** The subscriber connection came back after a loss: frames may be missing, read them back from the streams. */
  resync(): void;
  /** A room over the presence limit changed (the `rooms` channel, at most once per tick): its counts are due. */
  roomChanged(room: string): void;
}

/** Timings of the bus; defaults suit the 30 s "dead process seen disconnected" promise. */
export interface BusTimings {
  /** Liveness key TTL, ms (default 10,000); refreshed every third of it. */
  livenessTtlMs?: number;
  /** How often dead processes are looked for, ms (default 5,000). */
  reapIntervalMs?: number;
  /** How often expired sessions are ended, ms (default 1,000). */
  sweepIntervalMs?: number;
}

/** One frame for each listed session: head .. ',"seq":N' .. tail, with [id, N, id, N, …]. */
type FrameGroup = [string, string, (string | number)[]];

interface FramesMessage {
  f?: FrameGroup;
  /** Several groups in order: the frames one channel script numbered for this process's sessions. */
  g?: FrameGroup[];
  m?: string;
  e?: [string, string];
}

/**
 * This process's side of the cross-process bus: the pub/sub channel other processes (and the
 * Lua scripts) write its sessions' frames and control messages to, the liveness key other
 * processes watch, and the two sweeps every process runs — dead processes' sessions are
 * disconnected (reaped), expired sessions ended. Sweeps are Lua scripts, atomic, so several
 * processes running them at once end each session once.
 */
export class ProcessBus {
  private readonly sub: Redis;
  private readonly timers: unknown[] = [];
  private handler: BusHandler | undefined;
  private readyOnce = false;
  private stopped = false;
  private readonly liveness: number;
  private readonly reapEvery: number;
  private readonly sweepEvery: number;

  constructor(
    private readonly store: RedisSessionStore,
    private readonly logger?: Logger,
    timings: BusTimings = {},
    private readonly clock: Clock = systemClock,
  ) {
    this.liveness = timings.livenessTtlMs ?? 10_000;
    this.reapEvery = timings.reapIntervalMs ?? 5_000;
    this.sweepEvery = timings.sweepIntervalMs ?? 1_000;
    this.sub = openRedis(store.target, 'wsgate-bus');
    this.sub.on('error', (err: Error) => logger?.debug({ err: err.message, role: 'bus' }, 'redis connection error'));
    this.sub.on('message', (ch: string, text: string) => (ch === store.roomsChannel ? this.handler?.roomChanged(text) : this.onMessage(text)));
    this.sub.on('ready', () => {
      if (this.readyOnce) this.handler?.resync();
      this.readyOnce = true;
    });
  }

  /** Subscribe to this process's channel, go live, start the sweeps. */
  async start(handler: BusHandler): Promise<void> {
    this.handler = handler;
    await whenReady(this.sub);
    await this.sub.subscribe(`${this.store.prefix}p:${this.store.proc}`, this.store.roomsChannel);
    await this.store.heartbeat(this.liveness);
    this.every(Math.floor(this.liveness / 3), () => this.store.heartbeat(this.liveness));
    this.every(this.reapEvery, async () => {
      const n = await this.store.reapDead();
      if (n > 0) this.logger?.info({ sessions: n }, 'sessions of a dead gateway process disconnected');
    });
    this.every(this.sweepEvery, () => this.store.sweep());
  }

  /** Both of this process's Redis connections are up. */
  get healthy(): boolean {
    return this.sub.status === 'ready' && this.store.redis.status === 'ready';
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.splice(0)) this.clock.clearTimeout(t);
    await closeRedis(this.sub);
  }

  private every(ms: number, fn: () => Promise<unknown>): void {
    const slot = this.timers.length;
    const tick = (): void => {
      if (this.stopped) return;
      // A failure (Redis away) is retried next period; the process keeps serving what it can.
      fn()
        .catch((err: unknown) => this.logger?.debug({ err: (err as Error).message }, 'redis sweep failed'))
        .finally(() => {
          if (!this.stopped) this.timers[slot] = this.clock.setTimeout(tick, ms);
        });
    };
    this.timers.push(this.clock.setTimeout(tick, ms));
  }

  private onMessage(text: string): void {
    const h = this.handler;
    if (!h) return;
    let msg: FramesMessage;
    try {
      msg = JSON.parse(text) as FramesMessage;
    } catch {
      return;
    }
    if (msg.f) this.frames(h, msg.f);
    else if (msg.g) for (const group of msg.g) this.frames(h, group);
    else if (msg.m) h.moved(msg.m);
    else if (msg.e) h.ended(msg.e[0], msg.e[1]);
  }

  private frames(h: BusHandler, [head, tail, list]: FrameGroup): void {
    // The group's frames differ only in their seq: each session's replay mirror holds this one object, not a text
    // of its own (as the in-memory fan-out does, see SharedFrame); the text is made for the socket and then dropped.
    const text = (seq: number): string => `${head},"seq":${seq}${tail}`;
    const shared: SharedFrame = { text, cost: frameCost(text(0)) };
    for (let i = 0; i + 1 < list.length; i += 2) h.frame(String(list[i]), Number(list[i + 1]), list.length === 2 ? text(Number(list[1])) : shared);
  }
}
