-- Create or update a technician from its spec. ARGV[4]: technician id, ARGV[5]: spec fields
-- as JSON {name, skills (csv), rating, zones (csv), shift_start, shift_end, breaks (JSON),
-- home_lat, home_lon, max_jobs}. A new technician starts offline, at its home base.
if not redis.call('GET', P .. 'config') then
  return fail('unknown_region', 'unknown region ' .. REGION)
end
local id = ARGV[4]
local spec = cjson.decode(ARGV[5])
local key = P .. 'tech:' .. id
local t = tech(id)
local created = t == nil
if created then
  t = {id = id, region = REGION, status = 'offline', status_ms = NOW, active = '',
    lat = spec.home_lat, lon = spec.home_lon, fix_ms = 0, plan_lat = '', plan_lon = '',
    geof = ''}
  save(key, t, {'id', 'region', 'status', 'status_ms', 'active', 'lat', 'lon', 'fix_ms',
    'plan_lat', 'plan_lon', 'geof'})
  redis.call('SADD', P .. 'techs', id)
  redis.call('GEOADD', P .. 'geo', spec.home_lon, spec.home_lat, id)
end
local fields = {'name', 'skills', 'rating', 'zones', 'shift_start', 'shift_end', 'breaks',
  'home_lat', 'home_lon', 'max_jobs'}
local changed = created
for _, f in ipairs(fields) do
  local v = tostring(spec[f] == nil and '' or spec[f])
  if v == 'nil' or spec[f] == cjson.null then v = '' end
  if redis.call('HGET', key, f) ~= v then changed = true end
  t[f] = v
end
if not changed then return ok({tech = tech(id), changed = false}) end
save(key, t, fields)
local now_t = tech(id)
local off = emit('tech_updated', {tech = now_t, created = created})
dirty(id)
dirty('*')  -- new skills, zones or hours may make unassignable jobs possible
return ok({tech = now_t, changed = true, created = created, offset = off})
