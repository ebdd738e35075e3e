-- Erase a technician's location history (dispatch/erase.py). ARGV[4]: technician.
-- Its GPS history stream goes. Its current position stays while it is on shift (dispatch
-- plans, offers and ETAs need it, and the next fix replaces it); an offline technician is
-- put back at its home base, as a new one starts (the hash's last fix, planning position
-- and geofence state, its place in the GEO set), and hubs' views are told (`tech_updated`).
local tid = ARGV[4]
local key = P .. 'tech:' .. tid
local t = tech(tid)
if not t then return fail('unknown_technician', 'unknown technician ' .. tid) end
local fixes = redis.call('XLEN', P .. 'gps:' .. tid)
redis.call('DEL', P .. 'gps:' .. tid)
if t.status ~= 'offline' or (tonumber(t.fix_ms) or 0) == 0 then
  return ok({fixes = fixes, position = 0})
end
t.lat, t.lon, t.fix_ms = t.home_lat, t.home_lon, 0
t.spd, t.acc, t.plan_lat, t.plan_lon, t.geof = '', '', '', '', ''
save(key, t, {'lat', 'lon', 'fix_ms', 'spd', 'acc', 'plan_lat', 'plan_lon', 'geof'})
redis.call('GEOADD', P .. 'geo', t.home_lon, t.home_lat, tid)
emit('tech_updated', {tech = t, created = false, reason = 'erased'})
return ok({fixes = fixes, position = 1})
