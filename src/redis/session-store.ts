import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ChannelMessage } from '../broker/broker.js';
import type { ResumeError } from '../protocol/codes.js';
import type { Profile, SessionInfo, StreamPosition } from '../protocol/events.js';
import { PRESENCE_TICK_MS } from '../session/registry.js';
import { DEFAULT_PREFIX, closeRedis, openRedis, whenReady, type RedisTarget } from './connection.js';
import * as lua from './session-lua.js';

/** Options of the Redis session store. */
export interface SessionStoreOptions extends RedisTarget {
  /** This process's id in Redis (liveness key, ownership, pub/sub channel). */
  proc: string;
  /** Replay buffer cap per session, messages. */
  bufferMaxMessages: number;
  /** Replay buffer cap per session, bytes as the in-memory buffer counts them (frameCost); default unbounded. */
  bufferMaxBytes?: number;
  /** Client message ids remembered per session. */
  dedupWindow: number;
  /** Seconds a disconnected session is kept. */
  sessionTtl: number;
  /** Members above which a room gets counts instead of per-member presence (docs/protocol.md §4.6); default 100. */
  presenceLimit?: number;
  /** How often, at most, a big room's change is announced to the processes, ms; default PRESENCE_TICK_MS, as in memory. */
  presenceTickMs?: number;
  now?: () => number;
}

/** A session as the store returns it on resume. */
export interface ClaimedSession {
  id: string;
  room: string;
  profile: Profile;
  resumable: boolean;
  /** Last seq assigned; the replay is last_seq+1 … seq. */
  seq: number;
  /** The process that owned it before ('' none, or this process itself). */
  previousOwner: string;
  roster: RoomSnapshot;
  /** Channel → position of the last channel message put into its stream. */
  channels: Map<string, StreamPosition>;
}

/** What `restore` needs of a local session (a Session has it). */
export interface RestorableSession {
  id: string;
  resumeToken: string;
  room: string;
  profile: Profile;
  resumable: boolean;
  seq: number;
  isConnected: boolean;
  subscriptions: Iterable<string>;
  auth?: { userId: string };
}

/** A room's size and some of its members (system/init's list, or a room/list page), read in one step. */
export interface RoomSnapshot {
  size: number;
  list: SessionInfo[];
}

/** Outcome of `claim`. */
export type ClaimResult = { ok: true; session: ClaimedSession } | { ok: false; error: ResumeError };

/** The session's fields for `GET /api/sessions`. */
export interface StoredSessionInfo extends SessionInfo {
  room: string;
  /** The JWT `sub` of its user; undefined without JWT. */
  user?: string;
  owner: string;
  seq: number;
  createdAt: number;
  disconnectedAt: number;
  /** Frames in the replay buffer, and their bytes (frameCost). */
  buffered: number;
  bufferedBytes: number;
  subscriptions: string[];
}

/** Sessions of a dead process disconnected per script: each tells its room, so a chunk is ~this × room size commands. */
const REAP_CHUNK = 200;
/** Sessions' acks per script (a turn's acks are sent together; this bounds how long one call holds Redis). */
const ACKS_PER_CALL = 500;

const SCRIPTS = {
  wsCreate: lua.CREATE_LUA,
  wsClaim: lua.CLAIM_LUA,
  wsDisconnect: lua.DISCONNECT_LUA,
  wsEnd: lua.END_LUA,
  wsSweep: lua.SWEEP_LUA,
  wsReap: lua.REAP_LUA,
  wsDeliver: lua.DELIVER_LUA,
  wsRoom: lua.ROOM_LUA,
  wsChannel: lua.CHANNEL_LUA,
  wsDedup: lua.DEDUP_LUA,
  wsAck: lua.ACK_LUA,
  wsFrames: lua.FRAMES_LUA,
  wsRestore: lua.RESTORE_LUA,
  wsPage: lua.PAGE_LUA,
} as const;

type Scripted = Redis & Record<keyof typeof SCRIPTS, (...args: (string | number)[]) => Promise<unknown>>;

/**
 * Sessions kept in Redis, so any gateway process can resume, reach or end any session: the
 * session record, its replay buffer (a capped list of frames), dedup window, channel
 * positions and room membership. Every stream message goes through one Lua script that assigns
 * the seq, appends the frame and PUBLISHes it to the owning process in the same atomic step, so
 * the order a client sees is the order Redis assigned, whichever process sent it.
 * Key layout: src/redis/session-lua.ts and docs/scaling.md.
 */
export class RedisSessionStore {
  readonly redis: Scripted;
  readonly prefix: string;
  private readonly now: () => number;

  constructor(private readonly opts: SessionStoreOptions) {
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.now = opts.now ?? Date.now;
    this.redis = openRedis(opts, 'wsgate-sessions') as Scripted;
    // Without a listener ioredis prints every failed reconnect with a stack; the bus reports the outage instead (/readyz).
    this.redis.on('error', () => undefined);
    for (const [name, script] of Object.entries(SCRIPTS)) {
      this.redis.defineCommand(name, { numberOfKeys: 0, lua: lua.withPresence(script, this.presenceLimit, this.presenceTickMs) });
    }
  }

  ready(timeoutMs?: number): Promise<void> {
    return whenReady(this.redis, timeoutMs);
  }

  get proc(): string {
    return this.opts.proc;
  }

  /** Where it connects (URL and TLS), for the other connections of the same process. */
  get target(): RedisTarget {
    return this.opts;
  }

  /** Members above which a room gets counts instead of per-member presence. */
  get presenceLimit(): number {
    return this.opts.presenceLimit ?? 100;
  }

  /** The TTL of a big room's note key: changes within it are announced once. */
  get presenceTickMs(): number {
    return this.opts.presenceTickMs ?? PRESENCE_TICK_MS;
  }

  /** Create a connected session owned by this process (of `user`, the JWT sub, if any) and announce it to its room. Returns its system/init list. */
  async create(id: string, token: string, room: string, profile: Profile, resumable: boolean, user?: string): Promise<RoomSnapshot> {
    const args = [this.prefix, id, room, JSON.stringify(profile), hashToken(token), resumable ? 1 : 0, this.proc, this.now(), this.max, user ?? '', this.maxBytes];
    const [size, flat] = (await this.redis.wsCreate(...args)) as [number, string[]];
    return toSnapshot(size, flat);
  }

  /** Resume on this process: checks token, user (JWT sub, if given) and replay range, takes ownership (the old owner is told). */
  async claim(id: string, token: string, lastSeq: number, user?: string): Promise<ClaimResult> {
    const r = (await this.redis.wsClaim(this.prefix, id, hashToken(token), lastSeq, this.proc, this.now(), this.max, user ?? '')) as unknown[];
    if (r[0] === 'err') return { ok: false, error: r[1] as ResumeError };
    const [, seq, room, prof, res, prev, size, flat, chans] = r as [string, number, string, string, string, string, number, string[], string[]];
    const channels = new Map<string, StreamPosition>();
    for (let i = 0; i + 1 < chans.length; i += 2) channels.set(chans[i]!, parsePosition(chans[i + 1]!));
    return { ok: true, session: { id, room, profile: JSON.parse(prof) as Profile, resumable: res === '1', seq: Number(seq), previousOwner: prev, roster: toSnapshot(size, flat), channels } };
  }

  /** This process's connection of the session went away; it stays resumable for session_ttl. */
  async disconnect(id: string): Promise<boolean> {
    return (await this.redis.wsDisconnect(this.prefix, id, this.proc, this.now(), this.opts.sessionTtl * 1000, this.max)) === 1;
  }

  /** End a session anywhere (idempotent); its owner process, if another, is told to close it. Returns false when unknown. */
  async end(id: string, reason: string): Promise<boolean> {
    return (await this.redis.wsEnd(this.prefix, id, reason, this.proc, this.max)) !== null;
  }

  /** A stream message to sessions (any process). Returns how many exist. */
  async deliver(ids: string[], event: string, payload: unknown, msgId?: string): Promise<number> {
    return (await this.deliverSeq(ids, event, payload, msgId)).count;
  }

  /** Like deliver, with the payload already JSON (undefined: no payload); also returns the seq given and whether the last target is connected. */
  async deliverJson(ids: string[], event: string, payloadJson: string | undefined, msgId?: string): Promise<Delivered> {
    const [head, tail] = frameParts(event, payloadJson, msgId);
    return delivered(await this.redis.wsDeliver(this.prefix, this.max, head, tail, ...ids));
  }

  /** Like deliver, also returning the seq the last session gave it (the API's 202 reports it). */
  deliverSeq(ids: string[], event: string, payload: unknown, msgId?: string): Promise<Delivered> {
    return this.deliverJson(ids, event, JSON.stringify(payload ?? null), msgId);
  }

  /** A stream message to every member of `room` except `exceptId`. Returns how many. */
  toRoom(room: string, exceptId: string, event: string, payload: unknown): Promise<number> {
    return this.toRoomJson(room, exceptId, event, JSON.stringify(payload ?? null));
  }

  /** toRoom with the payload already JSON. */
  async toRoomJson(room: string, exceptId: string, event: string, payloadJson: string): Promise<number> {
    const [head, tail] = frameParts(event, payloadJson);
    return delivered(await this.redis.wsRoom(this.prefix, this.max, head, tail, room, exceptId)).count;
  }

  /** A channel message into the streams of subscribed sessions that do not have it yet (idempotent). Returns how many got it. */
  channelDeliver(ids: string[], m: ChannelMessage): Promise<number> {
    const json = JSON.stringify({ channel: m.channel, offset: m.offset, epoch: m.epoch, data: m.data });
    return this.channelDeliverMany([{ ids, channel: m.channel, offset: m.offset, epoch: m.epoch, json }]);
  }

  /** Several channel messages in order, one script: their frames reach each owner together. Returns how many got the last. */
  async channelDeliverMany(batch: readonly ChannelBatchItem[]): Promise<number> {
    const args: (string | number)[] = [this.prefix, this.max];
    let before: readonly string[] = [];
    for (const b of batch) {
      // A burst on one channel goes to the same sessions message after message: their ids are sent once ('=' after).
      args.push(...frameParts('channel/message', b.json), b.channel, b.offset, b.epoch, sameIds(b.ids, before) ? '=' : b.ids.join(' '));
      before = b.ids;
    }
    return delivered(await this.redis.wsChannel(...args)).count;
  }

  /** A new subscription: channel messages of `epoch` start flowing into the session's buffer (kept if already recorded). */
  async subscribing(id: string, channel: string, epoch: string): Promise<void> {
    await this.redis.hsetnx(this.key(id), `c:${channel}`, `0:${epoch}`);
  }

  /** Put back a session this process holds that Redis no longer has (restart without persistence). true when it was missing. */
  async restore(s: RestorableSession): Promise<boolean> {
    const head = [this.prefix, s.id, s.room, JSON.stringify(s.profile), hashToken(s.resumeToken), s.resumable ? 1 : 0, this.proc, this.now(), s.seq];
    const r = await this.redis.wsRestore(...head, s.isConnected ? 1 : 0, this.opts.sessionTtl * 1000, s.auth?.userId ?? '', this.maxBytes, ...s.subscriptions);
    return r === 1;
  }

  /** Record a subscription and the position its channel messages start after. */
  async subscribed(id: string, channel: string, position: StreamPosition): Promise<void> {
    await this.redis.hset(this.key(id), `c:${channel}`, `${position.offset}:${position.epoch}`);
  }

  async unsubscribed(id: string, channel: string): Promise<void> {
    await this.redis.hdel(this.key(id), `c:${channel}`);
  }

  /** The client has every message ≤ seq. */
  async ack(id: string, seq: number): Promise<void> {
    await this.ackMany([[id, seq]]);
  }

  /** Several sessions' acks, [id, seq] each, in scripts of at most ACKS_PER_CALL. */
  async ackMany(acks: readonly (readonly [string, number])[]): Promise<void> {
    for (let i = 0; i < acks.length; i += ACKS_PER_CALL) await this.redis.wsAck(this.prefix, ...acks.slice(i, i + ACKS_PER_CALL).flat());
  }

  /** Record a client message id: true when new, false when already processed. */
  async dedup(id: string, messageId: string): Promise<boolean> {
    return (await this.redis.wsDedup(this.prefix, id, messageId, this.opts.dedupWindow, this.now())) === 1;
  }

  /** Un-record a message id whose processing failed, so a retry runs. */
  async forget(id: string, messageId: string): Promise<void> {
    await this.redis.zrem(`${this.key(id)}:d`, messageId);
  }

  /** The stored frames with seq in [from, to], in order. */
  async frames(id: string, from: number, to: number): Promise<{ seq: number; text: string }[]> {
    if (to < from) return [];
    const [first, ...texts] = (await this.redis.wsFrames(this.prefix, id, from, to)) as [number, ...string[]];
    return texts.map((text, i) => ({ seq: Number(first) + i, text }));
  }

  /** Up to `limit` of the room's members from `offset` on, in joining order (`room/list`), and the room's size. */
  async page(room: string, offset: number, limit: number): Promise<RoomSnapshot> {
    if (limit <= 0) return { size: await this.redis.hlen(`${this.prefix}r:${room}`), list: [] };
    const start = Math.min(offset, Number.MAX_SAFE_INTEGER - limit);
    const [size, flat] = (await this.redis.wsPage(this.prefix, room, start, start + limit - 1)) as [number, string[]];
    return toSnapshot(size, flat);
  }

  /** Members of each room, and how many of them are connected (a big room's `room/presence`): one round trip. */
  async counts(rooms: string[]): Promise<{ count: number; connected: number }[]> {
    const p = this.redis.pipeline();
    for (const room of rooms) p.hlen(`${this.prefix}r:${room}`).scard(`${this.prefix}r:${room}:on`);
    const r = (await p.exec()) ?? [];
    for (const [err] of r) if (err) throw err;
    return rooms.map((_, i) => ({ count: Number(r[2 * i]?.[1] ?? 0), connected: Number(r[2 * i + 1]?.[1] ?? 0) }));
  }

  /** The pub/sub channel naming big rooms whose presence changed (every process subscribes). */
  get roomsChannel(): string {
    return `${this.prefix}rooms`;
  }

  /** One session's record, or undefined. */
  async get(id: string): Promise<StoredSessionInfo | undefined> {
    const k = this.key(id);
    const r = await this.redis.multi().hgetall(k).llen(`${k}:q`).exec();
    const h = (r?.[0]?.[1] ?? {}) as Record<string, string>;
    if (!h.room) return undefined;
    return {
      id,
      room: h.room,
      profile: JSON.parse(h.prof ?? '{}') as Profile,
      ...(h.usr ? { user: h.usr } : {}),
      is_connected: h.conn === '1',
      owner: h.own ?? '',
      seq: Number(h.seq),
      createdAt: Number(h.at),
      disconnectedAt: Number(h.dis),
      buffered: Number(r?.[1]?.[1] ?? 0),
      bufferedBytes: Number(h.qb ?? 0),
      subscriptions: Object.keys(h).filter((f) => f.startsWith('c:')).map((f) => f.slice(2)),
    };
  }

  /** Every session of the gateway (all processes). */
  async list(): Promise<StoredSessionInfo[]> {
    const ids = await this.redis.smembers(`${this.prefix}all`);
    const got = await Promise.all(ids.map((id) => this.get(id)));
    return got.filter((s): s is StoredSessionInfo => s !== undefined);
  }

  /** Mark this process alive for `ttlMs`. */
  async heartbeat(ttlMs: number): Promise<void> {
    await this.redis.multi().set(`${this.prefix}p:${this.proc}`, String(this.now()), 'PX', ttlMs).sadd(`${this.prefix}procs`, this.proc).exec();
  }

  /** Disconnect the sessions of processes whose liveness key expired. Returns how many sessions. */
  async reapDead(): Promise<number> {
    let n = 0;
    for (const proc of await this.redis.smembers(`${this.prefix}procs`)) {
      if (proc === this.proc) continue;
      // A chunk per script (REAP_LUA): other processes' commands get their turn in between.
      for (;;) {
        const [count, more] = (await this.redis.wsReap(this.prefix, proc, this.now(), this.opts.sessionTtl * 1000, this.max, REAP_CHUNK)) as [number, number];
        if (count > 0) n += count;
        if (more !== 1) break;
      }
    }
    return n;
  }

  /** End the sessions whose session_ttl ran out; returns their ids. */
  sweep(limit = 500): Promise<string[]> {
    return this.redis.wsSweep(this.prefix, this.now(), limit, this.max) as Promise<string[]>;
  }

  /** Leave: this process's liveness key goes at once, so the others reap what it still owns. */
  async close(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.del(`${this.prefix}p:${this.proc}`).catch(() => undefined);
    await closeRedis(this.redis);
  }

  private key(id: string): string {
    return `${this.prefix}s:${id}`;
  }

  private get max(): number {
    return this.opts.bufferMaxMessages;
  }

  private get maxBytes(): number {
    return this.opts.bufferMaxBytes ?? Number.MAX_SAFE_INTEGER;
  }
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length || a.length === 0) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One channel message for `channelDeliverMany`: its position, its `channel/message` payload JSON, the sessions. */
export interface ChannelBatchItem extends StreamPosition {
  channel: string;
  json: string;
  ids: string[];
}

/** What a delivery did: how many sessions got the message, the seq the last of them gave it, whether that one is connected. */
export interface Delivered {
  count: number;
  seq: number;
  connected: boolean;
}

function delivered(reply: unknown): Delivered {
  const [count, seq, conn] = reply as [number, number, string];
  return { count: Number(count), seq: Number(seq), connected: conn === '1' };
}

/** A frame split around its seq, as encodeFrameRaw orders the fields: event, seq, id, payload. */
export function frameParts(event: string, payloadJson: string | undefined, msgId?: string): [string, string] {
  const head = `{"event":${JSON.stringify(event)}`;
  const tail = `${msgId !== undefined ? `,"id":${JSON.stringify(msgId)}` : ''}${payloadJson !== undefined ? `,"payload":${payloadJson}` : ''}}`;
  return [head, tail];
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function parsePosition(text: string): StreamPosition {
  const i = text.indexOf(':');
  return { offset: Number(text.slice(0, i)), epoch: text.slice(i + 1) };
}

/** A script's {size, flat id, profile JSON, 1/0 connected…}. */
function toSnapshot(size: number, flat: (string | number)[]): RoomSnapshot {
  const list: SessionInfo[] = [];
  for (let i = 0; i + 2 < flat.length; i += 3) list.push({ id: String(flat[i]), profile: JSON.parse(String(flat[i + 1])) as Profile, is_connected: Number(flat[i + 2]) === 1 });
  return { size: Number(size), list };
}
