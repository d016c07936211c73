import { nanoid } from 'nanoid';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { StreamPosition } from '../protocol/events.js';
import { DEFAULT_PREFIX, closeRedis, openRedis, whenReady, type RedisTarget } from '../redis/connection.js';
import type { Broker, BrokerListener, ChannelMessage, Recovery } from './broker.js';
import { HistoryLedger } from './history-ledger.js';
import { DROP_ENTRY_LUA, PUBLISH_LUA, RECOVER_LUA, channelKeys, parseLive, type StreamEntry } from './redis-channel-lua.js';

/** Options of the Redis broker. */
export interface RedisBrokerOptions extends RedisTarget {
  /** Messages kept per channel (stream MAXLEN); 0 keeps none. */
  historySize: number;
  /** Seconds history is kept (stream TTL and age trim). */
  historyTtl: number;
  /**
   * Seconds a channel's offset and epoch outlive its last touch (publish, subscribe) while no process listens to it;
   * default max(historyTtl, 60). A process renews it every third of that for the channels it listens to, so a quiet
   * channel with subscribers keeps its epoch, and the names nobody listens to any more (a hostile client can make up
   * any number) are gone from Redis as from a gateway in memory: once their history has expired.
   */
  metaTtl?: number;
  /**
   * Bytes of history this process may have added to Redis and not yet seen expire (0: no bound): over it, the
   * oldest entries it added are deleted, whatever their channel. Bounds what clients publishing big messages to
   * made-up channels make Redis hold (processes × this), as `max_history_bytes` does in memory.
   */
  maxHistoryBytes?: number;
  /** Told how many entries the budget deleted (a metric). */
  onBudgetDrop?: (entries: number) => void;
  /** Milliseconds since the epoch (the gateway's clock). */
  now?: () => number;
  logger?: Logger;
}

/** What a history entry costs Redis besides its JSON (entry in the stream's listpack, its id and field names). */
const REDIS_ENTRY_COST = 64;
/**
 * Redis's allocator rounds a big listpack up to its next size class (up to a quarter more: a 50 kB message's
 * stream takes 58 kB by MEMORY USAGE): counted in, so the bound holds for what Redis really takes.
 */
const ALLOCATOR_SLACK = 1.25;
/** What a channel's keys cost Redis (the meta hash and the stream: keys, objects, radix tree node), on its first message. */
const REDIS_CHANNEL_COST = 700;

interface ChannelScripts {
  wsgatePublish(meta: string, stream: string, pubsub: string, data: string, size: number, ttl: number, metaTtl: number, epoch: string): Promise<[number, string, string]>;
  wsgateDropEntry(stream: string, id: string): Promise<number>;
  wsgateRecover(meta: string, stream: string, since: number, size: number, ttl: number, metaTtl: number, epoch: string): Promise<[string, number, StreamEntry[]]>;
}

interface Live {
  listeners: Set<BrokerListener>;
  /** Resolves once Redis confirmed the SUBSCRIBE (or rejects). */
  ready: Promise<unknown>;
  /** Last position delivered to the listeners, to catch up after the subscriber connection was lost. */
  last?: StreamPosition;
  /** Live messages held while a catch-up reads the gap. */
  held?: ChannelMessage[];
}

/**
 * Channels with history in Redis, shared by every gateway process on that Redis (centrifuge's
 * design): one Lua script bumps the channel's offset in a meta hash that also holds its epoch,
 * appends to a capped stream with a TTL and PUBLISHes offset + epoch + payload, so history and live
 * delivery never disagree. Recovery reads the stream (XREVRANGE). One subscriber connection per
 * process carries every channel this process has listeners for. The epoch lives in Redis: when
 * Redis loses the history (restart without persistence, eviction, TTL) the next touch makes a
 * new epoch, and clients are told `recovered:false` instead of being handed a wrong replay.
 */
export class RedisBroker implements Broker {
  private readonly cmd: Redis & ChannelScripts;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly metaTtl: number;
  private readonly live = new Map<string, Live>();
  private subscribedOnce = false;
  private readonly renewer: NodeJS.Timeout;
  private readonly ledger: HistoryLedger;
  private readonly now: () => number;

  constructor(private readonly opts: RedisBrokerOptions) {
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.metaTtl = Math.max(1, Math.ceil(opts.metaTtl ?? Math.max(opts.historyTtl, 60)));
    this.renewer = setInterval(() => void this.renewListened(), (this.metaTtl * 1000) / 3);
    this.renewer.unref();
    this.cmd = openRedis(opts, 'wsgate-broker') as Redis & ChannelScripts;
    this.cmd.defineCommand('wsgatePublish', { numberOfKeys: 2, lua: PUBLISH_LUA });
    this.cmd.defineCommand('wsgateRecover', { numberOfKeys: 2, lua: RECOVER_LUA });
    this.cmd.defineCommand('wsgateDropEntry', { numberOfKeys: 1, lua: DROP_ENTRY_LUA });
    this.ledger = new HistoryLedger(opts.maxHistoryBytes ?? 0, opts.historyTtl * 1000);
    this.now = opts.now ?? Date.now;
    this.sub = openRedis(opts, 'wsgate-broker-sub');
    for (const [role, conn] of [['broker', this.cmd], ['broker-sub', this.sub]] as const) {
      conn.on('error', (err: Error) => opts.logger?.debug({ err: err.message, role }, 'redis connection error'));
    }
    this.sub.on('message', (pubsub: string, text: string) => this.onLive(pubsub, text));
    // ioredis re-subscribes by itself after a reconnect; what was published meanwhile is read back from history.
    this.sub.on('ready', () => {
      if (this.subscribedOnce) for (const channel of this.live.keys()) void this.catchUp(channel);
    });
  }

  /** Resolve once both connections are up (at start, so a wrong URL fails the start, not the first client). */
  async ready(timeoutMs?: number): Promise<void> {
    await Promise.all([whenReady(this.cmd, timeoutMs), whenReady(this.sub, timeoutMs)]);
  }

  async publish(channel: string, data: unknown): Promise<StreamPosition> {
    const k = channelKeys(this.prefix, channel);
    const json = JSON.stringify(data ?? null);
    const [offset, epoch, id] = await this.cmd.wsgatePublish(k.meta, k.stream, k.pubsub, json, this.opts.historySize, Math.ceil(this.opts.historyTtl), this.metaTtl, nanoid(10));
    if (id) this.account(k.stream, id, Math.ceil((json.length + REDIS_ENTRY_COST) * ALLOCATOR_SLACK) + (Number(offset) === 1 ? REDIS_CHANNEL_COST : 0));
    return { offset: Number(offset), epoch };
  }

  /** Bytes of history this process added to Redis that may still be there (what `maxHistoryBytes` bounds). */
  historyBytes(): number {
    this.ledger.expire(this.now());
    return this.ledger.held;
  }

  /** Count a history entry against the budget; delete the oldest this process added while over it. */
  private account(stream: string, id: string, cost: number): void {
    const drop = this.ledger.add(stream, id, cost, this.now());
    if (drop.length === 0) return;
    this.opts.onBudgetDrop?.(drop.length);
    const batch = this.cmd.pipeline() as ReturnType<Redis['pipeline']> & { wsgateDropEntry(stream: string, id: string): unknown };
    for (const e of drop) batch.wsgateDropEntry(e.key, e.id);
    // Redis away: the entries expire by history_ttl anyway; the ledger has stopped counting them either way.
    void batch.exec().catch((err: unknown) => this.opts.logger?.debug({ err: (err as Error).message }, 'history budget: delete failed'));
  }

  async recover(channel: string, since?: StreamPosition): Promise<Recovery> {
    const k = channelKeys(this.prefix, channel);
    const from = since ? since.offset : -1;
    const [epoch, rawOffset, entries] = await this.cmd.wsgateRecover(k.meta, k.stream, from, this.opts.historySize, Math.ceil(this.opts.historyTtl), this.metaTtl, nanoid(10));
    const offset = Number(rawOffset);
    const position = { offset, epoch };
    if (!since || since.epoch !== epoch) return { position, recovered: false, messages: [] };
    if (since.offset > offset) return { position, recovered: false, messages: [], missed: 0 };
    const want = offset - since.offset;
    const messages = entries.reverse().map(([, fields]) => toMessage(channel, epoch, fields));
    if (messages.length !== want || (want > 0 && messages[0]!.offset !== since.offset + 1)) {
      return { position, recovered: false, messages: [], missed: want };
    }
    return { position, recovered: true, messages };
  }

  async subscribe(channel: string, listener: BrokerListener): Promise<void> {
    let live = this.live.get(channel);
    if (!live) {
      const pubsub = channelKeys(this.prefix, channel).pubsub;
      live = { listeners: new Set(), ready: this.sub.subscribe(pubsub) };
      this.live.set(channel, live);
      this.subscribedOnce = true;
    }
    live.listeners.add(listener);
    try {
      await live.ready;
    } catch (err) {
      live.listeners.delete(listener);
      if (live.listeners.size === 0 && this.live.get(channel) === live) this.live.delete(channel);
      throw err;
    }
  }

  async unsubscribe(channel: string, listener: BrokerListener): Promise<void> {
    const live = this.live.get(channel);
    if (!live) return;
    live.listeners.delete(listener);
    if (live.listeners.size > 0) return;
    this.live.delete(channel);
    // While Redis is away there is nothing to unsubscribe from; ioredis will not re-subscribe it either.
    await this.sub.unsubscribe(channelKeys(this.prefix, channel).pubsub).catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.renewer);
    this.live.clear();
    await Promise.all([closeRedis(this.cmd), closeRedis(this.sub)]);
  }

  /** Renew the meta TTL of every channel this process listens to (a missing meta stays missing: EXPIRE makes none). */
  private async renewListened(): Promise<void> {
    const channels = [...this.live.keys()];
    for (let i = 0; i < channels.length; i += 1000) {
      const batch = this.cmd.pipeline();
      for (const channel of channels.slice(i, i + 1000)) batch.expire(channelKeys(this.prefix, channel).meta, this.metaTtl);
      // Redis away: the next round renews; a meta that expired meanwhile is made anew (new epoch) by the next touch.
      await batch.exec().catch((err: unknown) => this.opts.logger?.debug({ err: (err as Error).message }, 'channel TTL renewal failed'));
    }
  }

  private onLive(pubsub: string, text: string): void {
    const channel = pubsub.slice(this.prefix.length + 3);
    const live = this.live.get(channel);
    if (!live) return;
    const message = parseLive(channel, text);
    if (!message) return;
    if (live.held) live.held.push(message);
    else this.deliver(live, message);
  }

  private deliver(live: Live, m: ChannelMessage): void {
    if (live.last && live.last.epoch === m.epoch && m.offset <= live.last.offset) return;
    live.last = { offset: m.offset, epoch: m.epoch };
    for (const listener of live.listeners) listener(m);
  }

  /** After the subscriber connection came back: deliver what was published while it was away, then what was held. */
  private async catchUp(channel: string): Promise<void> {
    const live = this.live.get(channel);
    if (!live?.last || live.held) return;
    live.held = [];
    try {
      const rec = await this.recover(channel, live.last);
      if (rec.recovered) for (const m of rec.messages) this.deliver(live, m);
      else if (rec.position.offset !== live.last.offset || rec.position.epoch !== live.last.epoch) {
        this.opts.logger?.warn({ channel, since: live.last, now: rec.position }, 'channel messages lost while the Redis subscriber was away');
      }
    } catch (err) {
      this.opts.logger?.warn({ channel, err: (err as Error).message }, 'channel catch-up failed');
    } finally {
      const held = live.held ?? [];
      live.held = undefined;
      for (const m of held) this.deliver(live, m);
    }
  }
}

function toMessage(channel: string, epoch: string, fields: string[]): ChannelMessage {
  let offset = 0;
  let data: unknown = null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'o') offset = Number(fields[i + 1]);
    else if (fields[i] === 'd') data = JSON.parse(fields[i + 1]!);
  }
  return { channel, offset, epoch, data };
}
