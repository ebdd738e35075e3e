-- Move a booking to another slot of the same service in one step: the new place is taken
-- before the old one is released, or nothing changes. Answering a suspension, a checked-in
-- booking moves too (its ticket keeps its place in the queue), and a waitlisted or offered
-- one takes the alternative's place, confirmed.
-- ARGV[4..]: id, new slot, resource, start_ms, end_ms, capacity, quota spec, quota group,
-- schedule version, grace_ms, max_open, reminder offsets (csv), offer_ms[@from_ms]
-- (bk_offer_ms), keep_place (0/1).
local id, slot, res = ARGV[4], ARGV[5], ARGV[6]
local start_ms, end_ms, cap = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local qspec, grp, ver, grace_ms = ARGV[10], ARGV[11], ARGV[12], tonumber(ARGV[13])
local max_open, offsets, offer_ms = tonumber(ARGV[14]), ARGV[15], bk_offer_ms(ARGV[16])
local keep_place = ARGV[17] == '1'
local b = bk_get(id)
if not b then return fail('unknown_booking', 'unknown booking ' .. id) end
local st = bk_eff(b, grace_ms)
local answering = b.susp ~= nil and b.susp ~= '' and b.answered ~= 1
if st == 'checked_in' then
  if not answering or not bk_ticket_waiting(b) then
    return fail('invalid_transition', 'a checked-in booking moves only to answer a suspension')
  end
elseif st == 'expired' and bk_lapsed_from(b) == 'held' then
  return fail('hold_expired', 'the hold on ' .. b.slot .. ' expired; book again')
elseif st == 'waitlisted' or st == 'offered' then
  if not answering then
    return fail('invalid_transition', 'a ' .. st .. ' booking is confirmed or cancelled, ' ..
      'not moved (unless it answers a suspension)')
  end
elseif st ~= 'held' and st ~= 'confirmed' then
  return fail('invalid_transition', 'cannot reschedule a booking that is ' .. st)
end
if slot == b.slot then return fail('bad_request', 'the booking is already in ' .. slot) end
local err = bk_version_check(ver)
if err then return err end
local sid = bk_suspended(res, start_ms, end_ms)
if sid then
  return fail('resource_suspended', res .. ' is suspended at that time (' .. sid .. ')')
end
if st ~= 'checked_in' then
  err = bk_customer_check(b.customer, slot, start_ms, end_ms, id, max_open, grace_ms)
  if err then return err end
end
local quotas = bk_quotas(qspec)
local refusal = bk_refusal(slot, cap, quotas, grp)
if refusal then return refusal end

-- Checks done: take the new place, then release the old one.
local from = {slot = b.slot, resource = b.resource, start_ms = b.start_ms, end_ms = b.end_ms}
local old_place = bk_place_key(b)
local score = b.status == 'held' and b.hold_until or bk_kept(b.id)
local keep = end_ms + RETAIN_MS
b.slot, b.resource, b.start_ms, b.end_ms, b.grp = slot, res, start_ms, end_ms, grp
redis.call('ZADD', bk_place_key(b), score, id)
bk_slot_expire(bk_place_key(b), end_ms)
redis.call('ZREM', old_place, id)
redis.call('ZREM', BK .. 'wl:' .. from.slot, id)
if st == 'waitlisted' or st == 'offered' then
  b.status = 'confirmed'
  b.confirmed_ms = NOW
end
bk_spec_save(slot, cap, start_ms, end_ms, qspec)
-- Answering a suspension with keep_place, the queue order keeps the original time
-- (or the new one, if earlier): the person never loses their place in line for it.
if answering and keep_place then
  b.order_ms = math.min(b.order_ms, start_ms)
else
  b.order_ms = start_ms
end
if st ~= 'checked_in' then
  redis.call('ZADD', BK .. 'cu:' .. b.customer, start_ms, id)
  bk_expire_at(BK .. 'cu:' .. b.customer, keep)
end
b.v = b.v + 1
bk_due_clear(b)
bk_due_plan(b, offsets, grace_ms)
local answered = bk_answer(b, 'rescheduled')
bk_save(b)
redis.call('PEXPIRE', BK .. 'b:' .. id, math.max(1, keep - NOW))
local off = bk_emit('rescheduled', b, {from = from, answered = answered})
bk_offer_next(from.slot, offer_ms, grace_ms)
return bk_result({booking = b, offset = off})
