-- A dispatcher asks again for a job nobody took: its exclusions (every technician who
-- declined it or let its offer expire) are cleared and it is pending again, so the next
-- recompute offers it to whoever can do it now. ARGV[4]: job id, ARGV[5]: allowed states.
local j = job(ARGV[4])
if not j then return fail('unknown_job', 'unknown job ' .. ARGV[4]) end
if not in_list(j.status, ARGV[5]) then
  return fail('invalid_transition', 'cannot retry a job that is ' .. j.status)
end
local from, cleared = j.status, j.excluded or ''
j.excluded = ''
j.reason = ''
set_status(j, 'new')
-- set_status leaves a job that was already new where it was; it is pending either way.
redis.call('SADD', P .. 'pending', j.id)
save_job(j)
dirty('*')  -- a whole-region pass at once: anyone may take it now
local off = emit('job_retried', {job = j, from = from, cleared = cleared})
return ok({job = j, offset = off})
