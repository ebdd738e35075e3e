-- Jobs a pass found booked for a later day (planning.booked_ahead). ARGV[4]: their ids (a
-- JSON list), ARGV[5]: the states a job is re-evaluated from (unassignable).
-- Each leaves `pending` (it waits for its day: the periodic whole-region pass plans it once
-- that day's shifts reach its window) and is stamped `ahead_ms` once: the KPIs measure its
-- dispatch response from the pass that plans it, not from its booking. One that an older
-- pass judged `unassignable` for `time_window` against today's shifts (before such jobs were
-- put aside) is `new` again, with an event saying why (`job_reevaluated`, reason
-- `booked_ahead`): that judgement was about the wrong day, and it waited for a Retry.
local ids = cjson.decode(ARGV[4])
local again = {}
for _, id in ipairs(ids) do
  local j = job(id)
  if j then
    if not j.ahead_ms or j.ahead_ms == '' then
      redis.call('HSET', P .. 'job:' .. id, 'ahead_ms', NOW)
      j.ahead_ms = NOW
    end
    if in_list(j.status, ARGV[5]) and j.reason == 'time_window' then
      local from = j.status
      j.reason = ''
      set_status(j, 'new')
      save_job(j)
      emit('job_reevaluated', {job = j, from = from, reason = 'booked_ahead',
                               was = 'time_window'})
      again[#again + 1] = id
    end
  end
  redis.call('SREM', P .. 'pending', id)
end
return ok({reevaluated = again})
