-- Store a technician's geofence state computed by dispatch/geofence.py for the fix it was
-- computed from (compare-and-set on the fix time and the active job, so a newer fix that
-- raced past wins), and apply an arrival: the job goes on_site. ARGV[4]: technician,
-- ARGV[5]: fix time, ARGV[6]: job, ARGV[7]: new state, ARGV[8]: '' | 'arrive' | 'leave',
-- ARGV[9]: job states arrive is allowed from, ARGV[10]: technician states likewise.
local tid, ft, jid, state, ev = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local key = P .. 'tech:' .. tid
local cur = redis.call('HMGET', key, 'fix_ms', 'active', 'status')
if cur[1] ~= ft or cur[2] ~= jid then return ok({applied = false}) end
redis.call('HSET', key, 'geof', state)
if ev == '' then return ok({applied = true}) end
local j = job(jid)
if not j then return ok({applied = true}) end
if ev == 'leave' then
  if j.status ~= 'on_site' then return ok({applied = true}) end
  local off = emit('left_site', {job = j, tech = tid, at = tonumber(ft)})
  return ok({applied = true, offset = off})
end
if not in_list(j.status, ARGV[9]) or j.status == 'on_site' then
  return ok({applied = true})
end
local t = tech(tid)
if not in_list(t.status, ARGV[10]) then return ok({applied = true}) end
local from = j.status
if from == 'assigned' then j.departed_ms = tonumber(ft) end
set_status(j, 'on_site')
j.arrived_ms = tonumber(ft)
save_job(j)
set_tech_status(t, 'on_site')
dirty(tid)
local off = emit('job_arrived', {job = j, tech_state = tech_brief(t), from = from,
  at = tonumber(ft), via = 'geofence'})
return ok({applied = true, arrived = true, job = j, offset = off})
