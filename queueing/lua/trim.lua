-- Trim the event stream, keeping every entry newer than ARGV[4] ms and at least the last
-- ARGV[5] entries; remember the last trimmed id so a resume from before it resyncs.
local keep_ms, keep_n = tonumber(ARGV[4]), tonumber(ARGV[5])
local tail = redis.call('XREVRANGE', P .. 'events', '+', '-', 'COUNT', keep_n)
if #tail < keep_n then return ok({trimmed = 0}) end
local nth = tail[#tail][1]
local cutoff = tostring(NOW - keep_ms) .. '-0'
local minid = id_before(nth, cutoff) and nth or cutoff
local below = redis.call('XREVRANGE', P .. 'events', '(' .. minid, '-', 'COUNT', 1)[1]
if not below then return ok({trimmed = 0}) end
local n = redis.call('XTRIM', P .. 'events', 'MINID', minid)
redis.call('SET', P .. 'trimmed', below[1])
return ok({trimmed = n, upto = below[1]})
