-- Confirm a hold, an offered place, or a waitlisted booking whose turn has come (a place
-- is free for it and no one before it on the waitlist wants it).
-- ARGV[4..]: id, grace_ms, max_open, reminder offsets (csv).
local id, grace_ms, max_open, offsets = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local b = bk_get(id)
if not b then return fail('unknown_booking', 'unknown booking ' .. id) end
local st = bk_eff(b, grace_ms)
if st == 'confirmed' then return bk_result({booking = b, replay = true}) end
local was = st == 'expired' and bk_lapsed_from(b)
if was == 'held' then
  return fail('hold_expired', 'the hold on ' .. b.slot .. ' expired; book again')
elseif was == 'offered' then
  return fail('offer_expired', 'the offer of a place in ' .. b.slot .. ' expired')
elseif st ~= 'held' and st ~= 'offered' and st ~= 'waitlisted' then
  return fail('invalid_transition', 'cannot confirm a booking that is ' .. st)
end
if st == 'waitlisted' then
  local spec = bk_spec(b.slot)
  local rank = redis.call('ZRANK', BK .. 'wl:' .. b.slot, id)
  local free = spec and bk_free(spec.cap, spec.quotas, bk_taken(b.slot, spec.quotas), b.grp) or 0
  if not rank or free <= rank then
    return fail('not_offered', 'no place in ' .. b.slot .. ' has come free for this booking yet')
  end
end
if st ~= 'held' then
  local err = bk_customer_check(b.customer, b.slot, b.start_ms, b.end_ms, id, max_open, grace_ms)
  if err then return err end
end

local prev = b.status
redis.call('ZREM', BK .. 'wl:' .. b.slot, id)
redis.call('ZADD', bk_place_key(b), bk_kept(id), id)
bk_slot_expire(bk_place_key(b), b.end_ms)
b.status = 'confirmed'
b.confirmed_ms = NOW
b.v = b.v + 1
bk_due_clear(b)
bk_due_plan(b, offsets, grace_ms)
bk_save(b, {'status', 'confirmed_ms', 'v', 'due'})
local off = bk_emit('confirmed', b, {from = prev})
return bk_result({booking = b, offset = off})
