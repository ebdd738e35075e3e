-- Cancel a job. ARGV[4]: job id, ARGV[5]: allowed job states, ARGV[6]: reason,
-- ARGV[7]: technician states a job can be finished from.
local j = job(ARGV[4])
if not j then return fail('unknown_job', 'unknown job ' .. ARGV[4]) end
if not in_list(j.status, ARGV[5]) then
  return fail('invalid_transition', 'cannot cancel a job that is ' .. j.status)
end
local from, tid = j.status, j.tech or ''
local t = nil
if tid ~= '' then
  route_remove(tid, j.id)
  t = tech(tid)
  if t and t.active == j.id and in_list(t.status, ARGV[7]) then
    t.active = ''
    set_tech_status(t, 'available')
    redis.call('HSET', P .. 'tech:' .. tid, 'geof', '')
  end
end
set_status(j, 'cancelled')
j.reason = ARGV[6]
j.ended_ms = NOW
j.deadline_ms = ''
save_job(j)
dirty(tid)
local data = {job = j, from = from, reason = ARGV[6], tech = tid}
if t then data.tech_state = tech_brief(t) end
local off = emit('job_cancelled', data)
return ok({job = j, offset = off})
