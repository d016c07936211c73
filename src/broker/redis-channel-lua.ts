import type { ChannelMessage } from './broker.js';

/** One XRANGE/XREVRANGE entry as ioredis returns it: [id, [field, value, …]]. */
export type StreamEntry = [string, string[]];

/**
 * The Redis names of one channel. The `{channel}` hash tag keeps meta and stream in one slot
 * (a Redis Cluster runs the script on one node); channel names cannot contain braces.
 */
export function channelKeys(prefix: string, channel: string): { meta: string; stream: string; pubsub: string } {
  return { meta: `${prefix}ch:{${channel}}:m`, stream: `${prefix}ch:{${channel}}:s`, pubsub: `${prefix}ch:${channel}` };
}

/**
 * Publish: offset, history and live delivery in one atomic step.
 * KEYS: meta hash {e: epoch, o: offset}, stream. ARGV: pubsub channel, payload JSON, history size,
 * history ttl (s), meta ttl (s), epoch to use when the channel has none yet.
 * Entries older than the history ttl are trimmed by id (stream ids are milliseconds).
 * The live message is `offset:epoch:payload` (epochs are nanoid: no colon).
 * Returns {offset, epoch, history entry id ('' when none is kept)}.
 */
export const PUBLISH_LUA = `
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[6]
  redis.call('HSET', KEYS[1], 'e', epoch)
end
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
redis.call('EXPIRE', KEYS[1], ARGV[5])
local size = tonumber(ARGV[3])
local id = ''
if size > 0 then
  id = redis.call('XADD', KEYS[2], 'MAXLEN', size, '*', 'o', offset, 'd', ARGV[2])
  local t = redis.call('TIME')
  local cutoff = tonumber(t[1]) * 1000 - tonumber(ARGV[4]) * 1000
  redis.call('XTRIM', KEYS[2], 'MINID', string.format('%d', cutoff))
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
redis.call('PUBLISH', ARGV[1], offset .. ':' .. epoch .. ':' .. ARGV[2])
return {offset, epoch, id}
`;

/**
 * Drop one history entry the process's history budget gave up (HistoryLedger), and the stream with it once empty.
 * KEYS: stream. ARGV: entry id. One key: runs on one Redis Cluster node.
 */
export const DROP_ENTRY_LUA = `
redis.call('XDEL', KEYS[1], ARGV[1])
if redis.call('XLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) end
return 1
`;

/**
 * Recover: the channel's position and the newest `offset - since` entries, read atomically.
 * KEYS: meta, stream. ARGV: since offset (-1: position only), history size, history ttl (s),
 * meta ttl (s), epoch to use when the channel has none yet (a first subscribe fixes the epoch, so
 * the position a client is given stays valid). Returns {epoch, offset, entries newest first}.
 */
export const RECOVER_LUA = `
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[5]
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0)
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
local offset = tonumber(redis.call('HGET', KEYS[1], 'o') or '0')
local since = tonumber(ARGV[1])
local want = offset - since
if since < 0 or want <= 0 or want > tonumber(ARGV[2]) then
  return {epoch, offset, {}}
end
local t = redis.call('TIME')
local cutoff = tonumber(t[1]) * 1000 - tonumber(ARGV[3]) * 1000
redis.call('XTRIM', KEYS[2], 'MINID', string.format('%d', cutoff))
return {epoch, offset, redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', want)}
`;

/** Parse a live `offset:epoch:payload` message; undefined when it is not one. */
export function parseLive(channel: string, text: string): ChannelMessage | undefined {
  const a = text.indexOf(':');
  const b = a < 0 ? -1 : text.indexOf(':', a + 1);
  if (b < 0) return undefined;
  const offset = Number(text.slice(0, a));
  if (!Number.isSafeInteger(offset)) return undefined;
  try {
    return { channel, offset, epoch: text.slice(a + 1, b), data: JSON.parse(text.slice(b + 1)) as unknown };
  } catch {
    return undefined;
  }
}
