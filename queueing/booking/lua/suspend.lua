-- Suspend a resource for a period: new bookings there are refused, and every affected
-- booking gets an event with the reason and its alternatives. Nothing is cancelled.
-- ARGV[4..]: suspension id, resource, from_ms, until_ms, reason, grace_ms, slot ids (csv),
-- alternatives JSON {booking id: [alternative, ...]} prepared from a read of the same set.
local sid, res, from_ms, until_ms, reason = ARGV[4], ARGV[5], tonumber(ARGV[6]),
  tonumber(ARGV[7]), ARGV[8]
local grace_ms, slots, alts = tonumber(ARGV[9]), split(ARGV[10], ','), cjson.decode(ARGV[11])
local affected = bk_affected(slots, grace_ms)
for _, b in ipairs(affected) do
  if alts[b.id] == nil then
    return fail('schedule_changed', 'bookings changed while the suspension was prepared; retry')
  end
end
-- Suspensions of this resource that are over no longer need checking.
local old = redis.call('HGETALL', BK .. 'sus:' .. res)
for i = 1, #old, 2 do
  local u = tonumber(string.match(old[i + 1], '|(.+)$'))
  if u <= NOW then redis.call('HDEL', BK .. 'sus:' .. res, old[i]) end
end
local s = {id = sid, resource = res, from_ms = from_ms, until_ms = until_ms, reason = reason,
  created_ms = NOW, by = ACTOR, affected = #affected}
redis.call('HSET', BK .. 'sus:' .. res, sid, from_ms .. '|' .. until_ms)
redis.call('HSET', BK .. 'sp:' .. sid, 'id', sid, 'resource', res, 'from_ms', from_ms,
  'until_ms', until_ms, 'reason', reason, 'created_ms', NOW, 'by', ACTOR,
  'affected', #affected)
-- The site's suspensions by end (GET /v1/sites/{site}/suspensions): those over for longer than
-- SPU_KEEP_MS leave it, and their keys expire then (bk_sp_keep).
redis.call('ZADD', BK .. 'spu', until_ms, sid)
redis.call('ZREMRANGEBYSCORE', BK .. 'spu', '-inf', '(' .. (NOW - SPU_KEEP_MS))
for _, b in ipairs(affected) do
  b.susp = sid
  b.answered = 0
  b.alts = cjson.encode(alts[b.id])
  b.v = b.v + 1
  bk_due_reversion(b)
  bk_save(b, {'susp', 'answered', 'alts', 'v', 'due'})
  redis.call('SADD', BK .. 'sp:' .. sid .. ':all', b.id)
  redis.call('SADD', BK .. 'sp:' .. sid .. ':pending', b.id)
  bk_emit('suspended', b, {suspension = s, alternatives = alts[b.id]})
end
bk_sp_keep(sid, until_ms)
local off = emit('resource_suspended', {suspension = s})
return ok({suspension = s, bookings = affected, offset = off})
