/**
 * The Lua scripts of the remote objects. Each check-then-change runs as one
 * script, so it is atomic on the server (no other client's command runs in
 * between): that is what keeps a bound exact and a lock exclusive across
 * hosts. Every script that changes an object publishes its new small state on
 * the object's channel (the last ARGV), for the mirrors.
 *
 * @module
 */

import { Script } from "./_core.ts";

/**
 * Every change bumps the object's version (`<KEYS[1]>:ver`) and publishes it
 * with the new state; replies carry it too, so a mirror applies a message
 * or reply only if it is newer than what it has (messages and replies come
 * over different connections, in no fixed order between them).
 */
const PRELUDE = `
local function publish(chan, st)
  st.ver = redis.call('INCR', KEYS[1] .. ':ver')
  redis.call('PUBLISH', chan, cjson.encode(st))
  return st.ver
end
local function version()
  return tonumber(redis.call('GET', KEYS[1] .. ':ver') or '0')
end
`;

function script(body: string): Script {
  return new Script(PRELUDE + body);
}

/** Sets the parameters of an object once, and returns those it has. */
export const OPEN: Script = script(`
for i = 1, #ARGV, 2 do redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) end
return redis.call('HGETALL', KEYS[1])
`);

// ---- Queue: a list (KEYS[1]) and a closed flag (KEYS[2]) ----

/** Appends an item unless closed (-1) or full (-2); returns the new length. */
export const QUEUE_PUT: Script = script(`
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
local max = tonumber(ARGV[1])
if max > 0 and redis.call('LLEN', KEYS[1]) >= max then return -2 end
local n = redis.call('RPUSH', KEYS[1], ARGV[2])
return {n, publish(ARGV[3], {size = n})}
`);

/** Pops the oldest item; -1 when closed and empty; nil when empty. */
export const QUEUE_GET: Script = script(`
local v = redis.call('LPOP', KEYS[1])
if v then
  local n = redis.call('LLEN', KEYS[1])
  return {v, n, publish(ARGV[1], {size = n})}
end
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
return false
`);

/** Puts an item back at the head (a get whose caller gave up). */
export const QUEUE_UNGET: Script = script(`
local n = redis.call('LPUSH', KEYS[1], ARGV[1])
return publish(ARGV[2], {size = n})
`);

/** Publishes the state (after a blocking pop). */
export const QUEUE_STATE: Script = script(`
local st = {size = redis.call('LLEN', KEYS[1]), closed = redis.call('EXISTS', KEYS[2]) == 1}
return publish(ARGV[1], st)
`);

/** Reads the state without publishing it: {size, closed}. */
export const QUEUE_READ: Script = script(`
return {redis.call('LLEN', KEYS[1]), redis.call('EXISTS', KEYS[2]), version()}
`);

/** Closes the queue. */
export const QUEUE_CLOSE: Script = script(`
redis.call('SET', KEYS[2], '1')
return publish(ARGV[1], {closed = true})
`);

// ---- JoinableQueue: a stream (KEYS[1]) read by consumer group "g", a dead-letter list
// (KEYS[2]), a closed flag (KEYS[3]). An entry stays in the stream until acknowledged
// (XACK + XDEL), so XLEN is the number of unfinished tasks. ----

const STREAM_STATE = `
local function ensure()
  if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('XGROUP', 'CREATE', KEYS[1], 'g', '0', 'MKSTREAM')
  end
end
local function state(chan)
  local n = redis.call('XLEN', KEYS[1])
  local p = redis.call('XPENDING', KEYS[1], 'g')[1]
  local st = {size = n - p, unfinished = n, closed = redis.call('EXISTS', KEYS[3]) == 1}
  publish(chan, st)
  return st
end
`;

/**
 * Adds the items ARGV[3..], in order, unless closed (-1); a bounded queue
 * (ARGV[1], counting undelivered items) takes only as many as it has room
 * for. Returns {added, size, unfinished, version}.
 */
export const STREAM_PUT: Script = script(
  STREAM_STATE + `
ensure()
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local max = tonumber(ARGV[1])
local room = #ARGV - 2
if max > 0 then
  local n = redis.call('XLEN', KEYS[1])
  room = math.min(room, max - (n - redis.call('XPENDING', KEYS[1], 'g')[1]))
end
if room <= 0 then return {0} end
for i = 3, room + 2 do redis.call('XADD', KEYS[1], '*', 'd', ARGV[i]) end
local st = state(ARGV[2])
return {room, st.size, st.unfinished, st.ver}
`,
);

/**
 * Takes up to ARGV[5] entries for consumer ARGV[1] (one per waiting get of
 * that consumer): first those whose lease (ARGV[2] ms) expired, oldest
 * first, then new ones. An entry about to be delivered more than ARGV[3]
 * times goes to the dead-letter list instead. Returns a list of
 * {id, item, deliveries} (empty when nothing is available now), or -1 when
 * closed and nothing is left.
 */
export const STREAM_GET: Script = script(
  STREAM_STATE + `
ensure()
local consumer, lease, maxd, want = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[5])
local got = {}
local dead = 0
-- One scan of the pending list in C for entries idle past the lease (no XAUTOCLAIM loop).
local idle = redis.call('XPENDING', KEYS[1], 'g', 'IDLE', lease, '-', '+', want)
for _, p in ipairs(idle) do
  local id = p[1]
  local c = redis.call('XCLAIM', KEYS[1], 'g', consumer, lease, id)
  local e = c[1]
  if e and e[2] then
    local count = p[4] + 1
    if count > maxd then
      redis.call('RPUSH', KEYS[2], e[2][2])
      redis.call('XACK', KEYS[1], 'g', id)
      redis.call('XDEL', KEYS[1], id)
      dead = dead + 1
    else
      got[#got + 1] = {id, e[2][2], count}
    end
  end
end
if #got < want then
  local r = redis.call('XREADGROUP', 'GROUP', 'g', consumer, 'COUNT', want - #got, 'STREAMS', KEYS[1], '>')
  if r then
    for _, e in ipairs(r[1][2]) do got[#got + 1] = {e[1], e[2][2], 1} end
  end
end
if #got > 0 or dead > 0 then state(ARGV[4]) end
if #got == 0 and redis.call('EXISTS', KEYS[3]) == 1 and redis.call('XLEN', KEYS[1]) == 0 then
  return -1
end
return got
`,
);

/** Acknowledges the entries ARGV[2..] (XACK + XDEL each); returns {acknowledged, size, unfinished, version}. */
export const STREAM_ACK: Script = script(
  STREAM_STATE + `
ensure()
local a = 0
for i = 2, #ARGV do
  if redis.call('XACK', KEYS[1], 'g', ARGV[i]) == 1 then
    redis.call('XDEL', KEYS[1], ARGV[i])
    a = a + 1
  end
end
local st = state(ARGV[1])
return {a, st.size, st.unfinished, st.ver}
`,
);

/**
 * Renews the lease of the entries ARGV[2..] that consumer ARGV[1] still
 * holds (XCLAIM … JUSTID resets their idle time, not their delivery count);
 * returns the ids it no longer holds.
 */
export const STREAM_RENEW: Script = script(
  STREAM_STATE + `
ensure()
local lost = {}
for i = 2, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], 'g', ARGV[i], ARGV[i], 1, ARGV[1])
  if #p == 1 then
    redis.call('XCLAIM', KEYS[1], 'g', ARGV[1], 0, ARGV[i], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
`,
);

/**
 * Gives back entry ARGV[2] that consumer ARGV[1] received after its caller
 * gave up: it goes to the end of the stream, undelivered.
 */
export const STREAM_REQUEUE: Script = script(
  STREAM_STATE + `
ensure()
local p = redis.call('XPENDING', KEYS[1], 'g', ARGV[2], ARGV[2], 1, ARGV[1])
if #p == 0 then return 0 end
redis.call('XACK', KEYS[1], 'g', ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('XADD', KEYS[1], '*', 'd', ARGV[3])
state(ARGV[4])
return 1
`,
);

/** Publishes the state (after a blocking read). */
export const STREAM_STATE_PUBLISH: Script = script(
  STREAM_STATE + `
ensure()
local st = state(ARGV[1])
return st.unfinished
`,
);

/** Reads the state without publishing it: {size, unfinished, closed}. */
export const STREAM_READ: Script = script(
  STREAM_STATE + `
ensure()
local n = redis.call('XLEN', KEYS[1])
local p = redis.call('XPENDING', KEYS[1], 'g')[1]
return {n - p, n, redis.call('EXISTS', KEYS[3]), version()}
`,
);

/** Closes the queue. */
export const STREAM_CLOSE: Script = script(
  STREAM_STATE + `
ensure()
redis.call('SET', KEYS[3], '1')
state(ARGV[1])
return 1
`,
);

// ---- Lock: the lease key (KEYS[1], holds the holder's token, expires), a "held" marker
// without expiry (KEYS[2], deleted by release: present without a lease means the holder
// died), the fencing counter (KEYS[3]). ----

/** Takes the lock for token ARGV[1], lease ARGV[2] ms; returns {fence, ownerDied} or nil. */
export const LOCK_ACQUIRE: Script = script(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
local died = redis.call('EXISTS', KEYS[2])
redis.call('SET', KEYS[2], ARGV[1])
local fence = redis.call('INCR', KEYS[3])
return {fence, died, publish(ARGV[3], {locked = true, ttl = tonumber(ARGV[2])})}
`);

/** Releases the lock if token ARGV[1] holds it; returns 1, or 0 if its lease was lost. */
export const LOCK_RELEASE: Script = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return publish(ARGV[2], {locked = false})
`);

/** Extends the lease if token ARGV[1] holds it; returns 1, or 0 if it was lost. */
export const LOCK_RENEW: Script = script(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return publish(ARGV[3], {locked = true, ttl = tonumber(ARGV[2])})
`);

/** The lock's state: {locked, ttl ms}. */
export const LOCK_STATE: Script = script(`
return {redis.call('PTTL', KEYS[1]), version()}
`);

// ---- Semaphore: free permits (KEYS[1]), permits held per token (hash KEYS[2]), lease
// deadlines per token (sorted set KEYS[3]), permits returned from dead holders and not yet
// reported (KEYS[4]). ----

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** Takes a permit for token ARGV[1] (lease ARGV[2] ms); returns {1, ownerDied} or nil. */
export const SEMAPHORE_ACQUIRE: Script = script(
  NOW + `
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, t in ipairs(expired) do
  local c = tonumber(redis.call('HGET', KEYS[2], t) or '0')
  if c > 0 then
    redis.call('INCRBY', KEYS[1], c)
    redis.call('INCRBY', KEYS[4], c)
  end
  redis.call('HDEL', KEYS[2], t)
  redis.call('ZREM', KEYS[3], t)
end
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if v <= 0 then
  if #expired > 0 then publish(ARGV[3], {value = v}) end
  return false
end
v = redis.call('DECR', KEYS[1])
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[1])
local died = 0
if tonumber(redis.call('GET', KEYS[4]) or '0') > 0 then
  redis.call('DECR', KEYS[4])
  died = 1
end
return {1, died, v, publish(ARGV[3], {value = v})}
`,
);

/** Returns ARGV[2] permits (token ARGV[1] holds that many fewer); returns the free count. */
export const SEMAPHORE_RELEASE: Script = script(`
local n = tonumber(ARGV[2])
local v = redis.call('INCRBY', KEYS[1], n)
local c = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if c > 0 then
  if c > n then
    redis.call('HSET', KEYS[2], ARGV[1], c - n)
  else
    redis.call('HDEL', KEYS[2], ARGV[1])
    redis.call('ZREM', KEYS[3], ARGV[1])
  end
end
return {v, publish(ARGV[3], {value = v})}
`);

/** Creates the permits (ARGV[1]) unless they exist; returns the free count. */
export const SEMAPHORE_INIT: Script = script(`
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return {tonumber(redis.call('GET', KEYS[1])), version()}
`);

/** Creates the key with ARGV[1] unless it exists; returns its value. */
export const INIT: Script = script(`
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return {redis.call('GET', KEYS[1]), version()}
`);

/** Extends the lease of token ARGV[1]'s permits; returns 1, or 0 if it holds none. */
export const SEMAPHORE_RENEW: Script = script(
  NOW + `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[1])
return 1
`,
);

// ---- Event and Value: one string key (KEYS[1]). ----

/** Sets the key to ARGV[1] and publishes it as {value}. */
export const SET_AND_PUBLISH: Script = script(`
redis.call('SET', KEYS[1], ARGV[1])
return publish(ARGV[2], {value = ARGV[1]})
`);

/** Sets the key to ARGV[2] if it holds ARGV[1]; returns {1 or 0, previous}. */
export const COMPARE_AND_SET: Script = script(`
local cur = redis.call('GET', KEYS[1])
if cur ~= ARGV[1] then return {0, cur} end
redis.call('SET', KEYS[1], ARGV[2])
return {1, cur, publish(ARGV[3], {value = ARGV[2]})}
`);
