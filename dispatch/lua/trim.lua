-- Trim the event stream, keeping every entry newer than ARGV[4] ms and at least the last
-- ARGV[5] entries; remember the last trimmed id so a resume from before it resyncs
-- (the same rule as a queue site's stream). ARGV[6]: never trim past this id ('' = no
-- limit): the KPI checkpoint, so no event is trimmed before the KPIs have counted it.
local keep_ms, keep_n, floor = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local tail = redis.call('XREVRANGE', P .. 'events', '+', '-', 'COUNT', keep_n)
if #tail < keep_n then return ok({trimmed = 0}) end
local nth = tail[#tail][1]
local cutoff = tostring(NOW - keep_ms) .. '-0'
local function less(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  if am ~= bm then return tonumber(am) < tonumber(bm) end
  return tonumber(as) < tonumber(bs)
end
local minid = less(nth, cutoff) and nth or cutoff
if floor and floor ~= '' and less(floor, minid) then minid = floor end
local below = redis.call('XREVRANGE', P .. 'events', '(' .. minid, '-', 'COUNT', 1)[1]
if not below then return ok({trimmed = 0}) end
local n = redis.call('XTRIM', P .. 'events', 'MINID', minid)
-- The mark only rises: an erasure may have set it past newer entries it deleted.
local mark = redis.call('GET', P .. 'trimmed')
if mark and not less(mark, below[1]) then return ok({trimmed = n, upto = mark}) end
redis.call('SET', P .. 'trimmed', below[1])
return ok({trimmed = n, upto = below[1]})
