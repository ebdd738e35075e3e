-- One GPS fix, validated and applied in one step (dispatch/gps.py is the pure reference:
-- the same rules, checked against this script by tests). ARGV[4]: technician, ARGV[5]: fix
-- time (ms), ARGV[6]: lat, ARGV[7]: lon, ARGV[8]: speed m/s or '', ARGV[9]: accuracy m or
-- '', ARGV[10]: max_future_s, ARGV[11]: max_speed_kmh, ARGV[12]: history length per
-- technician. Accepted: the technician hash, the GEO set, the technician's short history
-- stream and a compact `gps` entry in the region stream (positions are state the hub
-- publishes) change together; the reply carries what Python needs for the geofence and
-- drift checks.
local tid = ARGV[4]
local ft, lat, lon = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local spd, acc = ARGV[8], ARGV[9]
local key = P .. 'tech:' .. tid
local last = redis.call('HMGET', key, 'fix_ms', 'lat', 'lon', 'status', 'active', 'geof',
  'plan_lat', 'plan_lon')
if not last[4] then return fail('unknown_technician', 'unknown technician ' .. tid) end

if ft > NOW + tonumber(ARGV[10]) * 1000 then
  return fail('gps_future', 'fix time is ' .. (ft - NOW) .. ' ms ahead of the server')
end
local lt = tonumber(last[1]) or 0
if lt > 0 then
  if ft <= lt then
    return fail('gps_out_of_order', 'fix is not newer than the last accepted one')
  end
  local r = math.pi / 180
  local la1, lo1, la2, lo2 = tonumber(last[2]) * r, tonumber(last[3]) * r, lat * r, lon * r
  local h = math.sin((la2 - la1) / 2) ^ 2 + math.cos(la1) * math.cos(la2) *
    math.sin((lo2 - lo1) / 2) ^ 2
  local d = 2 * 6371008.8 * math.asin(math.sqrt(math.min(1, h)))
  local slack = 10 + math.min(tonumber(acc) or 0, 100)
  local moved = d - slack
  if moved > 0 and moved / ((ft - lt) / 1000) > tonumber(ARGV[11]) / 3.6 then
    return fail('gps_too_fast', string.format('fix implies %.0f km/h',
      d / ((ft - lt) / 1000) * 3.6))
  end
end

redis.call('HSET', key, 'fix_ms', ft, 'lat', ARGV[6], 'lon', ARGV[7], 'spd', spd, 'acc', acc)
redis.call('GEOADD', P .. 'geo', lon, lat, tid)
if acc ~= '' then
  redis.call('XADD', P .. 'gps:' .. tid, 'MAXLEN', '~', ARGV[12], '*', 't', ft, 'la', ARGV[6],
    'lo', ARGV[7], 'a', acc)
else
  redis.call('XADD', P .. 'gps:' .. tid, 'MAXLEN', '~', ARGV[12], '*', 't', ft, 'la', ARGV[6],
    'lo', ARGV[7])
end
local data = {i = tid, t = ft, la = lat, lo = lon}
if spd ~= '' then data.s = tonumber(spd) end
local off = emit('gps', data)
local reply = {offset = off, status = last[4], active = last[5] or '', geof = last[6] or '',
  plan_lat = last[7] or '', plan_lon = last[8] or ''}
if last[5] and last[5] ~= '' then
  local j = redis.call('HMGET', P .. 'job:' .. last[5], 'lat', 'lon', 'status', 'eta_ms')
  reply.job = {id = last[5], lat = tonumber(j[1]), lon = tonumber(j[2]), status = j[3],
    eta_ms = tonumber(j[4])}
end
return ok(reply)
