-- Lift a suspension (it was a mistake, the doctor is back): its resource takes bookings in
-- the period again, and every booking it reached that has not answered (moved or
-- cancelled) stands as before — its suspension cleared, its reminders planned again, and a
-- `booking_unsuspended` event (the person is told). Those who answered keep their answer.
-- ARGV[4..]: suspension id, grace_ms, reminder offsets (csv).
local sid, grace_ms, offsets = ARGV[4], tonumber(ARGV[5]), ARGV[6]
local key = BK .. 'sp:' .. sid
local flat = redis.call('HGETALL', key)
if #flat == 0 then return fail('unknown_suspension', 'unknown suspension ' .. sid) end
local s = {}
for i = 1, #flat, 2 do s[flat[i]] = flat[i + 1] end
if s.lifted_ms and s.lifted_ms ~= '' then
  return ok({suspension = s, bookings = {}, already = true})
end
redis.call('HDEL', BK .. 'sus:' .. s.resource, sid)
s.lifted_ms = int(NOW)
s.lifted_by = ACTOR
redis.call('HSET', key, 'lifted_ms', s.lifted_ms, 'lifted_by', ACTOR)
local restored = {}
for _, id in ipairs(redis.call('SMEMBERS', key .. ':pending')) do
  local b = bk_get(id)
  redis.call('SREM', key .. ':pending', id)
  if b and b.susp == sid and b.answered ~= 1 then
    b.susp = ''
    b.answered = 0
    b.alts = ''
    b.v = b.v + 1
    bk_due_clear(b)
    bk_due_plan(b, offsets, grace_ms)  -- reminders still ahead come again; lapses, no-show
    bk_save(b, {'susp', 'answered', 'alts', 'v', 'due'})
    bk_sp_answer(sid, id, 'lifted')
    bk_emit('unsuspended', b, {suspension = s})
    restored[#restored + 1] = b
  end
end
local off = emit('resource_unsuspended', {suspension = s, restored = #restored})
return bk_result({suspension = s, bookings = restored, offset = off})
