package redisstore

import "github.com/redis/go-redis/v9"

// luaScript is a script with its slot in Store.loaded.
type luaScript struct {
	slot int
	*redis.Script
}

const numScripts = 3

// A store sends each script with EVAL the first time (which caches it in
// Redis) and with EVALSHA afterwards, falling back to EVAL when Redis
// answers NOSCRIPT (after a restart or SCRIPT FLUSH). Lua numbers are doubles, so the scripts compare offsets
// and sequences as decimal strings: by length, then bytewise.

// readScript returns one page of a ZSET of value keys: up to limit
// (member, value) pairs, flattened, in score order, whose number (the
// decimal after the member's last ':') is above `after` and below `before`
// exactly. Members whose value key expired are removed from the ZSET and
// the page is filled past them, so a short page means the end. Values
// shorter than minLen (legacy thread values without the 12-byte header) are
// skipped but kept.
//
//	KEYS[1] the ZSET
//	ARGV    minScore, maxScore (ZRANGEBYSCORE bounds), after, before
//	        (exact decimals, "" for none), limit, minLen
var readScript = luaScript{0, redis.NewScript(`
local key = KEYS[1]
local minScore, maxScore, after, before = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local limit, minLen = tonumber(ARGV[5]), tonumber(ARGV[6])

local function less(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end

local out, kept, skipped = {}, 0, 0
for round = 1, 100000 do
  local want = limit - kept
  if want <= 0 then break end
  local members = redis.call('ZRANGEBYSCORE', key, minScore, maxScore, 'LIMIT', kept + skipped, want)
  if #members == 0 then break end
  local missing = {}
  for i = 1, #members, 256 do
    local j = math.min(i + 255, #members)
    local values = redis.call('MGET', unpack(members, i, j))
    for k = 1, #values do
      local m, v = members[i + k - 1], values[k]
      local n = string.match(m, ':(%d+)$')
      if not v then
        missing[#missing + 1] = m
      elseif n == nil or (after ~= '' and not less(after, n)) or (before ~= '' and not less(n, before)) or #v < minLen then
        skipped = skipped + 1
      else
        kept = kept + 1
        out[#out + 1] = m
        out[#out + 1] = v
      end
    end
  end
  for i = 1, #missing, 256 do
    redis.call('ZREM', key, unpack(missing, i, math.min(i + 255, #missing)))
  end
  if #members < want then break end
end
return out
`)}

// boundsScript returns {lowest, highest}: for each end of the ZSET, the
// members sharing the score of its first member whose value key exists
// (usually one; several only where float64 scores tie above 2^53, so Go can
// pick the exact extreme). Members whose value expired are removed on the
// way. An empty or fully expired ZSET gives two empty lists.
var boundsScript = luaScript{1, redis.NewScript(`
local key = KEYS[1]
local chunk = 64

local function edge(fromLow)
  for round = 1, 10000 do
    local members
    if fromLow then
      members = redis.call('ZRANGE', key, 0, chunk - 1, 'WITHSCORES')
    else
      members = redis.call('ZRANGE', key, -chunk, -1, 'WITHSCORES')
    end
    if #members == 0 then return {} end
    local first, last, step = 1, #members - 1, 2
    if not fromLow then first, last, step = #members - 1, 1, -2 end
    local missing = {}
    for i = first, last, step do
      if redis.call('EXISTS', members[i]) == 1 then
        if #missing > 0 then redis.call('ZREM', key, unpack(missing)) end
        return redis.call('ZRANGEBYSCORE', key, members[i + 1], members[i + 1])
      end
      missing[#missing + 1] = members[i]
    end
    redis.call('ZREM', key, unpack(missing))
  end
  return {}
end

return {edge(true), edge(false)}
`)}

// partitionsScript lists the partitions SET: {0} when the SET does not
// exist (the caller then scans), else {1, p...} with only the partitions
// whose offsets ZSET still exists; the others are removed from the SET.
//
//	KEYS[1] the partitions SET
//	ARGV[1] the key prefix
var partitionsScript = luaScript{2, redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
local out = {1}
for _, p in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. ':partition:' .. p .. ':offsets') == 1 then
    out[#out + 1] = p
  else
    redis.call('SREM', KEYS[1], p)
  end
end
return out
`)}
