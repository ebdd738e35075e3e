-- Store a site's booking schedule and bump its version (bookings check the version they
-- were decided on). ARGV[4]: the schedule JSON.
if not redis.call('GET', P .. 'config') then return fail('unknown_site', 'unknown site') end
if redis.call('GET', BK .. 'config') == ARGV[4] then
  return ok({changed = false, version = redis.call('GET', BK .. 'ver')})
end
redis.call('SET', BK .. 'config', ARGV[4])
local ver = redis.call('INCR', BK .. 'ver')
local off = emit('booking_schedule', {version = ver})
return ok({changed = true, version = tostring(ver), offset = off})
