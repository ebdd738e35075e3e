-- A suspension with every booking it reached and who has not answered (read only).
-- ARGV[4]: suspension id.
local sid = ARGV[4]
local flat = redis.call('HGETALL', BK .. 'sp:' .. sid)
if #flat == 0 then return fail('unknown_suspension', 'unknown suspension ' .. sid) end
local s = {}
for i = 1, #flat, 2 do s[flat[i]] = flat[i + 1] end
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', BK .. 'sp:' .. sid .. ':all')) do
  local b = bk_get(id)
  if b then out[#out + 1] = b end
end
local answers = {}
local af = redis.call('HGETALL', BK .. 'sp:' .. sid .. ':answers')
for i = 1, #af, 2 do answers[af[i]] = af[i + 1] end
return ok({suspension = s, bookings = out, answers = answers,
  pending = redis.call('SMEMBERS', BK .. 'sp:' .. sid .. ':pending')})
