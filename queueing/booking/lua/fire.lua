-- Fire a due side effect (queueing/booking/tasks.py), once: the script that removes the
-- entry from the booking's due list fires it (and indexes the booking's next entry in
-- bk:due). ARGV[4..]: member, mode ('peek', 'fire', 'defer' or 'drop'), grace_ms,
-- offer_ms[@from_ms] (bk_offer_ms),
-- defer_ms ('defer': a reminder whose notifier failed goes to the back of the index, to be
-- tried again defer_ms from now; its place in the booking's list is unchanged).
-- Members: r|id|offset_s|start_ms (reminder), x|id|v (hold/offer/waitlist lapse),
-- n|id|v (no-show at the end of the grace period), w|id|release_ms (a quota of a waitlisted
-- booking's slot is released: its places go to the waitlist, in order).
local member, mode, grace_ms, offer_ms = ARGV[4], ARGV[5], tonumber(ARGV[6]), bk_offer_ms(ARGV[7])
local parts = split(member, '|')
local kind, b = parts[1], bk_get(parts[2] or '')
local due, rest = nil, {}
if b then
  for _, e in ipairs(bk_due_list(b)) do
    if e[1] == member then due = e[2] or -1 else rest[#rest + 1] = e end
  end
end
if not due then
  redis.call('ZREM', BK .. 'due', member)  -- an index entry left behind: nothing to fire
  return ok({fired = false, gone = true})
end
if due == -1 then  -- listed before due times were: its time is its bk:due score
  due = math.floor(tonumber(redis.call('ZSCORE', BK .. 'due', member) or NOW))
end
if mode == 'defer' then
  redis.call('ZADD', BK .. 'due', NOW + tonumber(ARGV[8]) + bk_tie(b.id) / 4096, member)
  return ok({fired = false, deferred = true})
end
if due > NOW then return ok({fired = false, at = due}) end
local valid = false
if b then
  local st = bk_eff(b, grace_ms)
  if kind == 'r' then
    -- No reminder while a suspension the person has not answered covers the booking: they
    -- were told it cannot take place (a lifted suspension plans its reminders again).
    valid = b.status == 'confirmed' and st == 'confirmed' and tostring(b.start_ms) == parts[4]
      and not (b.susp and b.susp ~= '' and b.answered ~= 1)
  elseif kind == 'x' then
    valid = b.v == tonumber(parts[3]) and st == 'expired' and
      (b.status == 'held' or b.status == 'offered' or b.status == 'waitlisted')
  elseif kind == 'n' then
    valid = b.v == tonumber(parts[3]) and b.status == 'confirmed' and st == 'no_show'
  elseif kind == 'w' then
    valid = b.status == 'waitlisted' and st == 'waitlisted'
  end
end
-- 'drop': a reminder given up (its gateway refuses it for good): removed unsent, no event.
if mode == 'drop' then valid = false end
if mode == 'peek' then return ok({fired = false, valid = valid, booking = b or cjson.null}) end
redis.call('ZREM', BK .. 'due', member)
b.due = bk_due_join(rest)
if not valid then
  bk_due_index(b, rest)
  bk_save(b, {'due'})
  return bk_result({fired = false, stale = true})
end
local off
if kind == 'r' then
  b.reminded = b.reminded + 1
  bk_due_index(b, rest)
  bk_save(b, {'due', 'reminded'})
  off = bk_emit('reminder', b, {before_s = tonumber(parts[3])})
elseif kind == 'w' then
  bk_due_index(b, rest)
  bk_save(b, {'due'})
  bk_offer_next(b.slot, offer_ms, grace_ms)  -- whoever comes first, this booking or not
  b = bk_get(b.id)
elseif kind == 'x' then
  local prev = b.status
  redis.call('ZREM', bk_place_key(b), b.id)
  redis.call('ZREM', BK .. 'wl:' .. b.slot, b.id)
  redis.call('ZREM', BK .. 'cu:' .. b.customer, b.id)
  b.status = 'expired'
  b.ended_ms = NOW
  b.v = b.v + 1
  bk_due_clear(b)
  bk_save(b, {'status', 'ended_ms', 'v', 'due'})
  off = bk_emit('expired', b, {from = prev})
  if prev ~= 'waitlisted' then bk_offer_next(b.slot, offer_ms, grace_ms) end
else
  -- No-show: recorded, and nothing is freed retroactively (the place stays taken).
  redis.call('ZREM', BK .. 'cu:' .. b.customer, b.id)
  b.status = 'no_show'
  b.ended_ms = NOW
  b.v = b.v + 1
  bk_due_clear(b)
  bk_save(b, {'status', 'ended_ms', 'v', 'due'})
  off = bk_emit('no_show', b)
end
return bk_result({fired = true, booking = b, offset = off})
