-- A day's appointment list (read only): every booking placed or waitlisted in the slots
-- that start in [ARGV[4], ARGV[5]) ms — the slots indexed by their start's UTC date
-- (ARGV[6], csv of YYYYMMDD: sd:, bk_spec_save) and the ones named in ARGV[7] (csv: the
-- schedule's own, for bookings made before the index) — each with its ticket's number and
-- status once checked in — and the suspensions they name (id -> hash), as GET reads one.
local from_ms, until_ms = tonumber(ARGV[4]), tonumber(ARGV[5])
local slots, named = {}, {}
for _, day in ipairs(split(ARGV[6], ',')) do
  for _, slot in ipairs(redis.call('ZRANGEBYSCORE', BK .. 'sd:' .. day, from_ms, '(' .. until_ms)) do
    if not named[slot] then named[slot] = true; slots[#slots + 1] = slot end
  end
end
for _, slot in ipairs(split(ARGV[7], ',')) do
  if not named[slot] then named[slot] = true; slots[#slots + 1] = slot end
end
local susp = {}
local bookings = bk_slot_bookings(slots, function(b)
  if b.ticket and b.ticket ~= '' then
    local t = ticket(b.ticket)
    if t then b.ticket_number = t.number; b.ticket_status = t.status end
  end
  if b.susp and b.susp ~= '' and susp[b.susp] == nil then
    local flat = redis.call('HGETALL', BK .. 'sp:' .. b.susp)
    local s = {}
    for i = 1, #flat, 2 do s[flat[i]] = flat[i + 1] end
    susp[b.susp] = s
  end
  return true
end)
return ok({bookings = bookings, suspensions = susp})
