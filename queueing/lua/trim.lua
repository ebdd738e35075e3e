-- Trim the event stream, keeping every entry newer than ARGV[4] ms and at least the last
-- ARGV[5] entries; remember the last trimmed id so a resume from before it resyncs
-- (the mark only rises). Answers upto: the mark after the trim.
local keep_ms, keep_n = tonumber(ARGV[4]), tonumber(ARGV[5])
local tail = redis.call('XREVRANGE', P .. 'events', '+', '-', 'COUNT', keep_n)
if #tail < keep_n then return ok({trimmed = 0}) end
local nth = tail[#tail][1]
local cutoff = tostring(NOW - keep_ms) .. '-0'
local minid = id_before(nth, cutoff) and nth or cutoff
local below = redis.call('XREVRANGE', P .. 'events', '(' .. minid, '-', 'COUNT', 1)[1]
if not below then return ok({trimmed = 0}) end
local n = redis.call('XTRIM', P .. 'events', 'MINID', minid)
-- The mark only rises: an erasure (erase_events.lua) may have set it past newer entries it
-- deleted; lowering it would let a resume from before them replay a history with holes.
local mark = redis.call('GET', P .. 'trimmed')
if mark and not id_before(mark, below[1]) then return ok({trimmed = n, upto = mark}) end
redis.call('SET', P .. 'trimmed', below[1])
return ok({trimmed = n, upto = below[1]})
