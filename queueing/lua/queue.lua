-- A service's waiting tickets in call order. ARGV[4]: service, ARGV[5]: limit (0 = all).
local svc, limit = ARGV[4], tonumber(ARGV[5])
if not redis.call('HGET', P .. 'svc', svc) then
  return fail('unknown_service', 'unknown service ' .. svc)
end
local ids = redis.call('ZRANGE', P .. 'q:' .. svc, 0, limit - 1)
local out = {}
for i, id in ipairs(ids) do out[i] = ticket(id) end
return ok({service = svc, total = redis.call('ZCARD', P .. 'q:' .. svc), tickets = out})
