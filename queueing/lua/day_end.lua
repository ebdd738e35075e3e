-- The end of a day, after Engine.close_day has cancelled its tickets one by one: drop the
-- calls made before ARGV[4] (ms) from the board's recent list, so Friday's "now calling
-- G008" is not on the waiting-room screen on Monday, when numbers start again at 001; and
-- record the close (ARGV[5]: tickets it closed, ARGV[6]: tickets it left to their agents,
-- ARGV[7]: appointment tickets it left in line, checked in early for an appointment at or
-- after the close) as one `day_closed` event, which boards follow.
local before, closed, kept = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local carried = tonumber(ARGV[7] or '0') or 0
local keep = {}
for _, r in ipairs(redis.call('LRANGE', P .. 'recent', 0, -1)) do
  local c = cjson.decode(r)
  if tonumber(c.ts or 0) >= before then keep[#keep + 1] = r end
end
redis.call('DEL', P .. 'recent')
if #keep > 0 then redis.call('RPUSH', P .. 'recent', unpack(keep)) end
local off = emit('day_closed', {before_ms = before, closed = closed, kept = kept,
  carried = carried})
return ok({offset = off, recent = #keep})
