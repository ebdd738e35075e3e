-- One booking (by id, or by code when ARGV[4] is ''), with its waitlist rank, its
-- suspension, and its ticket once checked in. ARGV[4..]: id, code.
local id = ARGV[4]
if id == '' then
  id = redis.call('GET', BK .. 'code:' .. ARGV[5])
  if not id then return fail('unknown_booking', 'no booking has code ' .. ARGV[5]) end
end
local b = bk_get(id)
if not b then return fail('unknown_booking', 'unknown booking ' .. id) end
local out = {booking = b}
if b.status == 'waitlisted' then
  local r = redis.call('ZRANK', BK .. 'wl:' .. b.slot, id)
  if r then out.waitlist_position = r + 1 end
end
if b.susp and b.susp ~= '' then
  local flat = redis.call('HGETALL', BK .. 'sp:' .. b.susp)
  local s = {}
  for i = 1, #flat, 2 do s[flat[i]] = flat[i + 1] end
  out.suspension = s
end
if b.ticket and b.ticket ~= '' then
  local t = ticket(b.ticket)
  if t then out.ticket = t; out.position = position(t) end
end
return ok(out)
