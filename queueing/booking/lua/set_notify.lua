-- Where a booking's texts go: ARGV[4..]: booking id, the number in E.164 ('' for none),
-- grace_ms. A booking still ahead (held, confirmed, waitlisted, offered: at now) takes it;
-- its reminders and offers go there from now (each text reads the booking's number when
-- it is sent, and a retry to the old number is dropped: fresh.py 'unsubscribed'). The
-- delivery state of the old number is forgotten. The version is unchanged: nothing the
-- booking's due entries depend on moved.
local id, to, grace_ms = ARGV[4], ARGV[5], tonumber(ARGV[6])
local b = bk_get(id)
if not b then return fail('unknown_booking', 'unknown booking ' .. id) end
local st = bk_eff(b, grace_ms)
if st ~= 'held' and st ~= 'confirmed' and st ~= 'waitlisted' and st ~= 'offered' then
  return fail('invalid_transition', 'a ' .. st .. ' booking takes no new number' ..
    (st == 'checked_in' and ' (its ticket does: POST /v1/tickets/{id}/notify)' or ''))
end
local before = b.notify or ''
if before == to then return bk_result({booking = b, changed = false}) end
b.notify = to
redis.call('HSET', BK .. 'b:' .. id, 'notify', to)
redis.call('HDEL', BK .. 'b:' .. id, 'nst')
-- The number's index (bk:nt:<number>, texts from it find the booking) follows.
if before ~= '' then redis.call('ZREM', BK .. 'nt:' .. before, id) end
if to ~= '' then
  redis.call('ZADD', BK .. 'nt:' .. to, int(b.start_ms), id)
  bk_expire_at(BK .. 'nt:' .. to, b.end_ms + RETAIN_MS)
end
b.nst = nil
local off = bk_emit('notify', b, {had = before ~= '', has = to ~= ''})
return bk_result({booking = b, changed = true, offset = off})
