/**
 * The Lua scripts of the Redis session store. Every script starts with COMMON (ARGV[1] is the key
 * prefix P). Keys, all under P (see docs/scaling.md):
 *
 *   s:ID       hash   room, prof (JSON), tok (sha256 of the resume token), seq, own (process id or ''),
 *                     conn (1/0), res (resumable 1/0), at, dis (ms), usr (the JWT sub, '' without),
 *                     qb (bytes the replay buffer holds, as frameCost counts them), qbm (its byte cap)
 *   s:ID:q     list   the replay buffer: the frames exactly as sent, oldest first, the newest has seq = s:ID.seq
 *                     (so the first has seq - LLEN + 1); capped at maxlen frames and qbm bytes, oldest dropped
 *              and c:CHANNEL → `offset:epoch` of the last message of that channel put into the session's stream
 *   s:ID:d     zset   dedup window (client message ids, oldest evicted)
 *   r:ROOM     hash   member id → profile JSON;  r:ROOM:on  set: members connected now
 *   r:ROOM:o   zset   member id → join number (joining order, for system/init and room/list pages)
 *   r:ROOM:t   string a big room's presence tick (PX): while it lives, further changes publish nothing
 *   joins      string the last join number given
 *   p:PROC     string liveness of a process (PX ttl);  p:PROC:s  set: sessions it owns;  procs  set of processes
 *   exp        zset   disconnected session → expiry time (ms);  t:ID  tombstone (`expired`), 1 h;  all  set of ids
 *
 * Pub/sub channel p:PROC carries what a process must write to its sockets, JSON:
 * {f:[head, tail, [id, seq, …]]} frames (frame = head .. ',"seq":N' .. tail), {g:[[head, tail, [id, seq, …]], …]}
 * several such groups in order (a batch of channel messages), {m:id} the session moved to
 * another process, {e:[id, reason]} the session was ended elsewhere. Pub/sub channel `rooms` carries the name of a
 * room over the presence limit that changed (at most once per tick per room): every process with members there
 * reads its counts and sends them `room/presence` (docs/protocol.md §4.6).
 * Every script is prefixed with PRESENCE_LIMIT and PRESENCE_TICK (withPresence): fixed for a process, they are not
 * passed per call.
 * Keys are built inside the scripts, so this needs one Redis (or a Sentinel-managed primary), not a Cluster.
 */
const COMMON = `
local P = ARGV[1]
local function skey(id) return P .. 's:' .. id end
local function pub(own, msg) redis.call('PUBLISH', P .. 'p:' .. own, cjson.encode(msg)) end

-- Characters of t (UTF-8) and whether one is beyond Latin-1 (V8 then holds two bytes per character).
local function chars(t)
  if not string.find(t, '[\\128-\\255]') then return #t, false end
  local _, cont = string.gsub(t, '[\\128-\\191]', '')
  return #t - cont, string.find(t, '[\\196-\\244]') ~= nil
end

-- A held frame's bytes as the in-memory replay buffer counts them (frameCost, src/session/replay-buffer.ts),
-- from its characters and whether one is wide.
local function weigh(n, wide) return (wide and 2 * n or n) + 32 end
local function cost(t) return weigh(chars(t)) end

-- Drop a replay buffer's oldest frames while it holds over maxlen frames or over cap bytes (keeping the newest), as in
-- memory. Returns the bytes it holds then: the caller writes them once, with the seq.
local function trim(s, len, held, maxlen, cap)
  while len > maxlen or (cap and held > cap and len > 1) do
    held = held - cost(redis.call('LPOP', s .. ':q'))
    len = len - 1
  end
  return held
end

-- Give each session the next seq, append the frame to its replay buffer, tell each owner process once.
local function fanout(ids, head, tail, maxlen)
  local byOwner = {}
  local n, last, conn = 0, 0, '0'
  -- Frames differ only in their seq (ASCII): the rest of the cost is counted once.
  local base, wide = chars(head .. tail)
  for _, id in ipairs(ids) do
    local s = skey(id)
    local f = redis.call('HMGET', s, 'own', 'conn', 'qbm', 'seq', 'qb')
    local own = f[1]
    if own ~= false then
      -- seq and qb read with the rest and written back (qb after the trim) in one HSET: no HINCRBY per field or dropped frame.
      local seq = (tonumber(f[4]) or 0) + 1
      local len = redis.call('RPUSH', s .. ':q', head .. ',"seq":' .. seq .. tail)
      local held = trim(s, len, (tonumber(f[5]) or 0) + weigh(base + 7 + #tostring(seq), wide), maxlen, tonumber(f[3]))
      redis.call('HSET', s, 'seq', seq, 'qb', held)
      -- A connected session's keys have no TTL (create and claim leave them without one): only a disconnected
      -- session's list, which this RPUSH may just have created, needs the session's TTL.
      local ttl = f[2] ~= '1' and redis.call('PTTL', s) or -1
      if ttl > 0 then redis.call('PEXPIRE', s .. ':q', ttl) end
      n = n + 1
      last = seq
      conn = f[2]
      if own ~= '' then
        local l = byOwner[own]
        if not l then l = {}; byOwner[own] = l end
        l[#l + 1] = id
        l[#l + 1] = seq
      end
    end
  end
  for own, l in pairs(byOwner) do pub(own, {f = {head, tail, l}}) end
  return {n, last, conn}
end

local function others(room, except)
  local ids = {}
  for _, id in ipairs(redis.call('HKEYS', P .. 'r:' .. room)) do
    if id ~= except then ids[#ids + 1] = id end
  end
  return ids
end

-- A presence event about id for the rest of its room. moving is 1 when id is joining (not in the hash yet) or
-- has just left it: the room is sized with it. A room over the limit gets no per-member event, only a note on the
-- rooms channel, at most once per tick: each process then reads the counts once for all its members there.
local function presence(room, id, event, payload, maxlen, moving)
  local r = P .. 'r:' .. room
  if redis.call('HLEN', r) + (moving or 0) > PRESENCE_LIMIT then
    if redis.call('SET', r .. ':t', '1', 'PX', PRESENCE_TICK, 'NX') then redis.call('PUBLISH', P .. 'rooms', room) end
    return
  end
  fanout(others(room, id), '{"event":"' .. event .. '"', ',"payload":' .. payload .. '}', maxlen)
end

-- The given members of a room as a flat list: id, profile JSON, 1/0 connected. Profiles by HMGET, 500 at a time
-- (unpack's stack limit); SISMEMBER each rather than SMISMEMBER, which needs Redis 6.2.
local function describe(room, ids)
  local r = P .. 'r:' .. room
  local out = {}
  for i = 1, #ids, 500 do
    local last = math.min(i + 499, #ids)
    local profs = redis.call('HMGET', r, unpack(ids, i, last))
    for j = i, last do
      out[#out + 1] = ids[j]
      out[#out + 1] = profs[j - i + 1] or 'null'
      out[#out + 1] = redis.call('SISMEMBER', r .. ':on', ids[j])
    end
  end
  return out
end

-- system/init's list, {room size, describe(…)}: every member in joining order, or in a room over the limit
-- PRESENCE_LIMIT of them, self first. Never more than PRESENCE_LIMIT + 1 members read, whatever the room's size.
local function roster(room, self)
  local r = P .. 'r:' .. room
  local size = redis.call('HLEN', r)
  if size <= PRESENCE_LIMIT then return {size, describe(room, redis.call('ZRANGE', r .. ':o', 0, -1))} end
  local ids = {self}
  for _, id in ipairs(redis.call('ZRANGE', r .. ':o', 0, PRESENCE_LIMIT - 1)) do
    if #ids >= PRESENCE_LIMIT then break end
    if id ~= self then ids[#ids + 1] = id end
  end
  return {size, describe(room, ids)}
end

local function setTtl(id, ms)
  local s = skey(id)
  for _, k in ipairs({s, s .. ':q', s .. ':d'}) do redis.call('PEXPIRE', k, ms) end
end

-- Connected → disconnected: the room hears is_connected:false, the session expires after ttl unless resumed.
local function disconnect(id, now, ttl, maxlen)
  local s = skey(id)
  local room = redis.call('HGET', s, 'room')
  if redis.call('HGET', s, 'conn') ~= '1' then return 0 end
  redis.call('HSET', s, 'conn', '0', 'dis', now)
  redis.call('SREM', P .. 'r:' .. room .. ':on', id)
  redis.call('ZADD', P .. 'exp', now + ttl, id)
  -- The sweeper ends it at now + ttl; the key TTL is only a safety net should no process be left to sweep.
  setTtl(id, ttl + 3600000)
  presence(room, id, 'session/state', '{"id":"' .. id .. '","is_connected":false}', maxlen)
  return 1
end

local function finish(id, reason, caller, maxlen)
  local s = skey(id)
  local room = redis.call('HGET', s, 'room')
  if not room then return false end
  local own = redis.call('HGET', s, 'own')
  redis.call('HDEL', P .. 'r:' .. room, id)
  redis.call('ZREM', P .. 'r:' .. room .. ':o', id)
  redis.call('SREM', P .. 'r:' .. room .. ':on', id)
  if own ~= '' then redis.call('SREM', P .. 'p:' .. own .. ':s', id) end
  redis.call('ZREM', P .. 'exp', id)
  redis.call('SREM', P .. 'all', id)
  redis.call('DEL', s, s .. ':q', s .. ':d')
  if reason == 'expired' then redis.call('SET', P .. 't:' .. id, '1', 'EX', 3600) end
  presence(room, id, 'session/left', '{"id":"' .. id .. '","reason":"' .. reason .. '"}', maxlen, 1)
  if own ~= '' and own ~= caller then pub(own, {e = {id, reason}}) end
  return own
end
`;

/**
 * ARGV: P, id, room, profile JSON, token hash, resumable (1/0), proc, now, maxlen, user ('' none), buffer bytes cap.
 * Creates the session connected and owned by proc, tells the room, returns its roster (the new session
 * included): {room size, flat id, profile, connected…} as `roster` cuts it.
 */
export const CREATE_LUA = `${COMMON}
local id, room, prof, proc = ARGV[2], ARGV[3], ARGV[4], ARGV[7]
local s = skey(id)
redis.call('HSET', s, 'room', room, 'prof', prof, 'tok', ARGV[5], 'seq', 0, 'own', proc, 'conn', '1', 'res', ARGV[6], 'at', ARGV[8], 'dis', 0,
  'usr', ARGV[10], 'qb', 0, 'qbm', ARGV[11])
redis.call('SADD', P .. 'p:' .. proc .. ':s', id)
redis.call('SADD', P .. 'all', id)
presence(room, id, 'session/joined', '{"id":"' .. id .. '","profile":' .. prof .. '}', tonumber(ARGV[9]), 1)
redis.call('HSET', P .. 'r:' .. room, id, prof)
redis.call('ZADD', P .. 'r:' .. room .. ':o', redis.call('INCR', P .. 'joins'), id)
redis.call('SADD', P .. 'r:' .. room .. ':on', id)
return roster(room, id)
`;

/**
 * Resume. ARGV: P, id, token hash, last_seq, proc, now, maxlen, user ('' none).
 * A session of another user (both users known) is refused bad_token before the gap check, untouched.
 * Returns {'err', code} (code: expired | unknown_session | bad_token | gap) or
 * {'ok', seq, room, prof, res, prevOwner, room size, roster (flat, as `roster`), channels hash}.
 * On ok the session is connected and owned by proc; a previous owner process is told {m:id}
 * (it closes the old socket with 4002); a session that was disconnected is announced connected.
 */
export const CLAIM_LUA = `${COMMON}
local id, proc, last = ARGV[2], ARGV[5], tonumber(ARGV[4])
local s = skey(id)
local f = redis.call('HMGET', s, 'room', 'tok', 'seq', 'own', 'conn', 'prof', 'res', 'usr')
if not f[1] then
  if redis.call('EXISTS', P .. 't:' .. id) == 1 then return {'err', 'expired'} end
  return {'err', 'unknown_session'}
end
if f[2] ~= ARGV[3] then return {'err', 'bad_token'} end
local user = ARGV[8]
if user ~= '' and f[8] and f[8] ~= '' and f[8] ~= user then return {'err', 'bad_token'} end
local seq = tonumber(f[3])
if last > seq then return {'err', 'gap'} end
if last < seq and seq - redis.call('LLEN', s .. ':q') + 1 > last + 1 then return {'err', 'gap'} end
local room, prev = f[1], f[4]
redis.call('HSET', s, 'own', proc, 'conn', '1', 'dis', 0)
-- As in memory, the resuming token's user becomes the session's (it was the same, or the session had none).
if user ~= '' then redis.call('HSET', s, 'usr', user) end
for _, k in ipairs({s, s .. ':q', s .. ':d'}) do redis.call('PERSIST', k) end
redis.call('ZREM', P .. 'exp', id)
redis.call('SADD', P .. 'p:' .. proc .. ':s', id)
if prev ~= '' and prev ~= proc then
  redis.call('SREM', P .. 'p:' .. prev .. ':s', id)
  pub(prev, {m = id})
end
if f[5] ~= '1' then
  redis.call('SADD', P .. 'r:' .. room .. ':on', id)
  presence(room, id, 'session/state', '{"id":"' .. id .. '","is_connected":true}', tonumber(ARGV[7]))
end
local listed = roster(room, id)
local chans = {}
local h = redis.call('HGETALL', s)
for i = 1, #h, 2 do
  if string.sub(h[i], 1, 2) == 'c:' then chans[#chans + 1] = string.sub(h[i], 3); chans[#chans + 1] = h[i + 1] end
end
return {'ok', seq, room, f[6], f[7], prev, listed[1], listed[2], chans}
`;

/** ARGV: P, id, proc, now, ttl ms, maxlen. The connection of a session proc owns went away. Returns 1 when it was connected. */
export const DISCONNECT_LUA = `${COMMON}
if redis.call('HGET', skey(ARGV[2]), 'own') ~= ARGV[3] then return 0 end
return disconnect(ARGV[2], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))
`;

/** ARGV: P, id, reason, caller proc, maxlen. Ends a session (idempotent); returns its owner, or nil when there was none. */
export const END_LUA = `${COMMON}
return finish(ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]))
`;

/** ARGV: P, now, limit, maxlen. Ends sessions whose ttl ran out while disconnected; returns their ids. */
export const SWEEP_LUA = `${COMMON}
local due = redis.call('ZRANGEBYSCORE', P .. 'exp', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local ended = {}
for _, id in ipairs(due) do
  redis.call('ZREM', P .. 'exp', id)
  if redis.call('HGET', skey(id), 'conn') == '0' then
    finish(id, 'expired', '', tonumber(ARGV[4]))
    ended[#ended + 1] = id
  end
end
return ended
`;

/**
 * ARGV: P, proc, now, ttl ms, maxlen, limit. A process whose liveness key is gone: up to `limit` of the sessions it
 * owned are disconnected (the room hears it) and owned by nobody. Returns {how many, 1 when more are left}; {-1, 0}
 * when the process is alive. In chunks: a process that held 20,000 sessions in rooms of 100 would otherwise be one
 * script of millions of commands, and Redis — every process's Redis — would answer nothing else meanwhile.
 */
export const REAP_LUA = `${COMMON}
local proc = ARGV[2]
if redis.call('EXISTS', P .. 'p:' .. proc) == 1 then return {-1, 0} end
local owned = P .. 'p:' .. proc .. ':s'
local n = 0
for _, id in ipairs(redis.call('SPOP', owned, tonumber(ARGV[6]))) do
  if redis.call('HGET', skey(id), 'own') == proc then
    n = n + disconnect(id, tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
    redis.call('HSET', skey(id), 'own', '')
  end
end
if redis.call('SCARD', owned) > 0 then return {n, 1} end
redis.call('SREM', P .. 'procs', proc)
return {n, 0}
`;

/** ARGV: P, maxlen, head, tail, id…. A stream message to each session that exists; returns {how many, seq of the last}. */
export const DELIVER_LUA = `${COMMON}
local ids = {}
for i = 5, #ARGV do ids[#ids + 1] = ARGV[i] end
return fanout(ids, ARGV[3], ARGV[4], tonumber(ARGV[2]))
`;

/** ARGV: P, maxlen, head, tail, room, except id. A stream message to every member of a room but one; returns {how many, last seq}. */
export const ROOM_LUA = `${COMMON}
return fanout(others(ARGV[5], ARGV[6]), ARGV[3], ARGV[4], tonumber(ARGV[2]))
`;

/**
 * ARGV: P, maxlen, per channel message: head, tail, channel, offset, epoch, ids (space-separated; '=': those of the
 * message before). Each, in order, to subscribed
 * sessions that lack it; frames published once all are stored (an owner reads them in one go). {how many, last seq}
 * of the last. Session by session, not message by message: a session in several of the batch's messages (a burst of
 * publishes to its channels) costs one HMGET, one RPUSH of all its frames and one HSET, not three commands a frame.
 */
export const CHANNEL_LUA = `${COMMON}
local maxlen = tonumber(ARGV[2])
local msgs, order, per = {}, {}, {}
-- What HMGET reads of every session: its record and its position in each channel of the batch (one list for all).
local fields, slot = {'own', 'conn', 'qbm', 'seq', 'qb'}, {}
local ids = {}
local i = 3
while i <= #ARGV do
  local head, tail = ARGV[i], ARGV[i + 1]
  -- Frames differ only in their seq (ASCII): the rest of the cost is counted once per message.
  local base, wide = chars(head .. tail)
  -- fixed: a frame's length less its seq's digits (the frame's length is known without making the seq a string again).
  local m = {head = head, tail = tail, cfield = 'c:' .. ARGV[i + 2], at = ARGV[i + 3] .. ':' .. ARGV[i + 4],
    offset = tonumber(ARGV[i + 3]), epoch = ARGV[i + 4], base = base, wide = wide, fixed = #head + #tail + 7,
    owners = {}, n = 0, last = 0, conn = '0'}
  msgs[#msgs + 1] = m
  if not slot[m.cfield] then fields[#fields + 1] = m.cfield; slot[m.cfield] = #fields end
  -- The sessions, one argument: their ids joined by spaces (a nanoid has none), far cheaper to send than one each;
  -- '=' for the same sessions as the message before (a burst on one channel), sent and parsed once.
  if ARGV[i + 5] ~= '=' then
    ids = {}
    for id in string.gmatch(ARGV[i + 5], '[^ ]+') do ids[#ids + 1] = id end
  end
  for _, id in ipairs(ids) do
    local l = per[id]
    if not l then l = {}; per[id] = l; order[#order + 1] = id end
    l[#l + 1] = m
  end
  i = i + 6
end
for _, id in ipairs(order) do
  local ms, s = per[id], skey(id)
  -- The session's record and its position in each channel of the batch, in one HMGET.
  local f = redis.call('HMGET', s, unpack(fields))
  local own = f[1]
  if own ~= false then
    -- Position per channel field: offset and epoch (a channel the session is not subscribed to has none).
    local poff, pep = {}, {}
    for cf, k in pairs(slot) do
      local p = f[k]
      if p then
        local sep = string.find(p, ':', 1, true)
        poff[cf], pep[cf] = tonumber(string.sub(p, 1, sep - 1)), string.sub(p, sep + 1)
      end
    end
    local seq, held, frames, moved = tonumber(f[4]) or 0, tonumber(f[5]) or 0, {}, {}
    for _, m in ipairs(ms) do
      local cf = m.cfield
      local o = poff[cf]
      -- Not subscribed (no position), or it has this message already (same epoch, offset at or past it): skip.
      if o and not (pep[cf] == m.epoch and o >= m.offset) then
        seq = seq + 1
        local frame = m.head .. ',"seq":' .. seq .. m.tail
        frames[#frames + 1] = frame
        held = held + weigh(m.base + #frame - m.fixed + 7, m.wide)
        poff[cf], pep[cf] = m.offset, m.epoch
        moved[cf] = m.at
        m.n, m.last, m.conn = m.n + 1, seq, f[2]
        if own ~= '' then
          local l = m.owners[own]
          if not l then l = {}; m.owners[own] = l end
          l[#l + 1] = id
          l[#l + 1] = seq
        end
      end
    end
    if #frames > 0 then
      local len = redis.call('RPUSH', s .. ':q', unpack(frames))
      held = trim(s, len, held, maxlen, tonumber(f[3]))
      local set = {'seq', seq, 'qb', held}
      for cf, at in pairs(moved) do set[#set + 1] = cf; set[#set + 1] = at end
      redis.call('HSET', s, unpack(set))
      -- A connected session's keys have no TTL: only a disconnected session's list, which this RPUSH may just have
      -- created, needs the session's TTL.
      local ttl = f[2] ~= '1' and redis.call('PTTL', s) or -1
      if ttl > 0 then redis.call('PEXPIRE', s .. ':q', ttl) end
    end
  end
end
-- One message per owner process with all of the batch's frames for it, in order: {g: [[head, tail, [id, seq, …]], …]}.
local outs, owners = {}, {}
for _, m in ipairs(msgs) do
  for own, l in pairs(m.owners) do
    local o = outs[own]
    if not o then o = {}; outs[own] = o; owners[#owners + 1] = own end
    o[#o + 1] = {m.head, m.tail, l}
  end
end
for _, own in ipairs(owners) do pub(own, {g = outs[own]}) end
local last = msgs[#msgs]
return last and {last.n, last.last, last.conn} or {0, 0, '0'}
`;

/** ARGV: P, id, message id, window, now. Records a client message id; 1 new, 0 a duplicate. */
export const DEDUP_LUA = `${COMMON}
local d = skey(ARGV[2]) .. ':d'
if redis.call('ZADD', d, 'NX', ARGV[5], ARGV[3]) == 0 then return 0 end
redis.call('ZREMRANGEBYRANK', d, 0, -(tonumber(ARGV[4]) + 1))
local ttl = redis.call('PTTL', skey(ARGV[2]))
if ttl > 0 then redis.call('PEXPIRE', d, ttl) end
return 1
`;

/**
 * ARGV: P, then pairs id, seq. Each client has every message up to its seq: drop them from its session's replay
 * buffer. Several sessions' acks in one call (a process sends the acks of one event-loop turn together).
 */
export const ACK_LUA = `${COMMON}
local function ack(id, upto)
  local s = skey(id)
  local seq = tonumber(redis.call('HGET', s, 'seq') or '0')
  local len = redis.call('LLEN', s .. ':q')
  local drop = upto - (seq - len + 1) + 1
  if drop <= 0 or seq == 0 then return end
  if drop >= len then
    -- Everything held is acked (the usual case for a client that is not behind): nothing to read back and count.
    redis.call('DEL', s .. ':q')
    redis.call('HSET', s, 'qb', 0)
    return
  end
  local freed = 0
  for _, t in ipairs(redis.call('LRANGE', s .. ':q', 0, drop - 1)) do freed = freed + cost(t) end
  redis.call('LTRIM', s .. ':q', drop, -1)
  redis.call('HINCRBY', s, 'qb', -freed)
end
for i = 2, #ARGV - 1, 2 do ack(ARGV[i], tonumber(ARGV[i + 1])) end
return 0
`;

/** ARGV: P, id, from, to. Returns {seq of the first frame returned, frames…} for seq in [from, to]. */
export const FRAMES_LUA = `${COMMON}
local s = skey(ARGV[2])
local seq = tonumber(redis.call('HGET', s, 'seq') or '0')
local first = seq - redis.call('LLEN', s .. ':q') + 1
local from = math.max(tonumber(ARGV[3]), first)
-- LRANGE reads a negative end from the tail: an empty range must not become "everything".
if tonumber(ARGV[4]) < from then return {from} end
local out = redis.call('LRANGE', s .. ':q', from - first, tonumber(ARGV[4]) - first)
table.insert(out, 1, from)
return out
`;

/**
 * ARGV: P, id, room, profile JSON, token hash, resumable, proc, now, seq, connected (1/0), ttl ms, user, buffer bytes cap, channel….
 * Puts back a session this process holds that Redis lost (a restart without persistence), seq
 * continuing, with an empty replay buffer and its channels to be re-positioned. 0 when it exists.
 */
export const RESTORE_LUA = `${COMMON}
local id, room, prof, proc, now = ARGV[2], ARGV[3], ARGV[4], ARGV[7], tonumber(ARGV[8])
local s = skey(id)
if redis.call('HEXISTS', s, 'room') == 1 then return 0 end -- not EXISTS: a subscription may have come back first
local conn = ARGV[10]
redis.call('HSET', s, 'room', room, 'prof', prof, 'tok', ARGV[5], 'seq', ARGV[9], 'own', proc, 'conn', conn, 'res', ARGV[6], 'at', now, 'dis', conn == '1' and 0 or now,
  'usr', ARGV[12], 'qb', 0, 'qbm', ARGV[13])
redis.call('SADD', P .. 'p:' .. proc .. ':s', id)
redis.call('SADD', P .. 'all', id)
redis.call('HSET', P .. 'r:' .. room, id, prof)
redis.call('ZADD', P .. 'r:' .. room .. ':o', redis.call('INCR', P .. 'joins'), id)
if conn == '1' then redis.call('SADD', P .. 'r:' .. room .. ':on', id)
else redis.call('ZADD', P .. 'exp', now + tonumber(ARGV[11]), id) end
for i = 14, #ARGV do redis.call('HSET', s, 'c:' .. ARGV[i], '0:') end
return 1
`;

/** ARGV: P, room, start, stop (ranks, joining order). A page of the room's members: {room size, flat id, profile, connected…}. */
export const PAGE_LUA = `${COMMON}
local r = P .. 'r:' .. ARGV[2]
return {redis.call('HLEN', r), describe(ARGV[2], redis.call('ZRANGE', r .. ':o', ARGV[3], ARGV[4]))}
`;

/**
 * A script with the presence settings it reads (COMMON's `presence` and `roster`): rooms over `limit` members get
 * counts, noted at most once per `tickMs`. Fixed per process, so passed once here rather than in every call's ARGV.
 */
export function withPresence(script: string, limit: number, tickMs: number): string {
  return `local PRESENCE_LIMIT, PRESENCE_TICK = ${Math.trunc(limit)}, ${Math.trunc(tickMs)}\n${script}`;
}
