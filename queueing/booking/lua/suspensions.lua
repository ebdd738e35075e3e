-- The site's suspensions whose period reaches past ``from`` and starts before ``until``
-- (read only): from bk:spu (by end), and for suspensions made before that index existed the
-- standing ones of each resource (bk:sus:<resource>: until spmigrate.lua has indexed them,
-- or while Redis refuses writes). Each with how many bookings it reached
-- and how many have not answered yet.
-- ARGV[4..]: from_ms, until_ms ('' = no end), lifted too ('1'), resource ids (csv).
local from_ms, until_ms, lifted = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6] == '1'
local seen, ids = {}, {}
local function add(id)
  if not seen[id] then
    seen[id] = true
    ids[#ids + 1] = id
  end
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', BK .. 'spu', '(' .. from_ms, '+inf')) do
  add(id)
end
for _, res in ipairs(split(ARGV[7], ',')) do
  local flat = redis.call('HGETALL', BK .. 'sus:' .. res)
  for i = 1, #flat, 2 do
    local u = tonumber(string.match(flat[i + 1], '|(.+)$'))
    if u and u > from_ms then add(flat[i]) end
  end
end
local out = {}
for _, id in ipairs(ids) do
  local flat = redis.call('HGETALL', BK .. 'sp:' .. id)
  if #flat > 0 then
    local s = {}
    for i = 1, #flat, 2 do s[flat[i]] = flat[i + 1] end
    local is_lifted = s.lifted_ms ~= nil and s.lifted_ms ~= ''
    if tonumber(s.until_ms) > from_ms and (until_ms == nil or tonumber(s.from_ms) < until_ms)
        and (lifted or not is_lifted) then
      s.pending = redis.call('SCARD', BK .. 'sp:' .. id .. ':pending')
      out[#out + 1] = s
    end
  end
end
return ok({suspensions = out})
