-- The region's recompute lock with a fencing token. ARGV[4]: acquire | extend | release,
-- ARGV[5]: ttl (ms), ARGV[6]: token (extend, release). Tokens come from INCR, so they only
-- grow: the plan script refuses any token lower than the newest it accepted or the
-- current holder's.
local op, ttl, token = ARGV[4], tonumber(ARGV[5]), ARGV[6]
local key = P .. 'lock'
if op == 'acquire' then
  if redis.call('EXISTS', key) == 1 then return ok({token = 0}) end
  local n = redis.call('INCR', P .. 'fence')
  redis.call('SET', key, n, 'PX', ttl)
  return ok({token = n})
end
if redis.call('GET', key) ~= token then return ok({held = false}) end
if op == 'extend' then
  redis.call('PEXPIRE', key, ttl)
else
  redis.call('DEL', key)
end
return ok({held = true})
