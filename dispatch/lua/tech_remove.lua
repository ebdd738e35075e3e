-- Remove a technician from the region (one who left). ARGV[4]: technician.
-- Refused (technician_busy) while a job is assigned to it or under way (en route, on
-- site): finish, fail or cancel it first. A job only offered to it is taken back
-- (`offer_withdrawn`, reason `tech_removed`) and waits for another technician. Its hash
-- (profile and position), GPS history, GEO entry, route, plan history and dirty mark go.
-- Finished jobs keep its id (the KPIs count by it); no job holds its name. One
-- `tech_removed` entry tells hubs' views and the KPIs (it goes offline there).
local tid = ARGV[4]
local t = tech(tid)
if not t then return fail('unknown_technician', 'unknown technician ' .. tid) end
local busy, offered = {}, {}
for _, jid in ipairs(redis.call('SMEMBERS', P .. 'open')) do
  local held = redis.call('HMGET', P .. 'job:' .. jid, 'tech', 'status')
  if held[1] == tid then
    if held[2] == 'offered' then offered[#offered + 1] = jid else busy[#busy + 1] = jid end
  end
end
if (t.active or '') ~= '' and not in_list(t.active, table.concat(busy, ',')) then
  busy[#busy + 1] = t.active
end
if #busy > 0 then
  table.sort(busy)
  local why = fail('technician_busy', 'technician ' .. tid .. ' has work: ' ..
    table.concat(busy, ', '))
  why[4] = cjson.encode({jobs = busy})  -- the error's details
  return why
end
table.sort(offered)
for _, jid in ipairs(offered) do
  local j = job(jid)
  set_status(j, 'new')
  j.tech, j.deadline_ms, j.eta_ms = '', '', ''
  save_job(j)
  emit('offer_withdrawn', {job = j, tech = tid, reason = 'tech_removed', was = 'offered'})
end
local fixes = redis.call('XLEN', P .. 'gps:' .. tid)
redis.call('DEL', P .. 'tech:' .. tid, P .. 'gps:' .. tid, P .. 'route:' .. tid)
redis.call('SREM', P .. 'techs', tid)
redis.call('ZREM', P .. 'geo', tid)
redis.call('HDEL', P .. 'hist', tid)
redis.call('SREM', P .. 'dirty', tid)
redis.call('SREM', P .. 'taken', tid)
local off = emit('tech_removed', {tech = {id = tid}, from = t.status, withdrawn = #offered})
return ok({fixes = fixes, withdrawn = offered, offset = off})
