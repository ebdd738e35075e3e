-- Cancel a booking; a place it held goes to the slot's waitlist, in order.
-- ARGV[4..]: id, grace_ms, offer_ms[@from_ms] (bk_offer_ms).
local id, grace_ms, offer_ms = ARGV[4], tonumber(ARGV[5]), bk_offer_ms(ARGV[6])
local b = bk_get(id)
if not b then return fail('unknown_booking', 'unknown booking ' .. id) end
local st = bk_eff(b, grace_ms)
if st == 'cancelled' then return bk_result({booking = b, replay = true}) end
if not bk_is_open(st) and st ~= 'waitlisted' then
  return fail('invalid_transition', 'cannot cancel a booking that is ' .. st)
end
local prev = b.status
redis.call('ZREM', bk_place_key(b), id)
redis.call('ZREM', BK .. 'wl:' .. b.slot, id)
redis.call('ZREM', BK .. 'cu:' .. b.customer, id)
b.status = 'cancelled'
b.ended_ms = NOW
b.v = b.v + 1
bk_due_clear(b)
local answered = bk_answer(b, 'cancelled')
bk_save(b, {'status', 'ended_ms', 'v', 'due', 'answered'})
local off = bk_emit('cancelled', b, {from = prev, answered = answered})
if prev ~= 'waitlisted' then bk_offer_next(b.slot, offer_ms, grace_ms) end
return bk_result({booking = b, offset = off})
