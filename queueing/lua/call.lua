-- Call a specific ticket to a counter. ARGV[4]: counter, ARGV[5]: ticket id,
-- ARGV[6]: allowed source states (comma-separated, from queueing/transitions.py), ARGV[7]:
-- the service the caller saw it in ('' or absent: any), so a ticket moved to another queue
-- meanwhile is not called to the wrong room from a list that was a moment old.
local cid, tid, allowed, expect = ARGV[4], ARGV[5], ARGV[6], ARGV[7] or ''
local cs = counter_state(cid)
if not cs then return fail('unknown_counter', 'unknown counter ' .. cid) end
if cs.state ~= 'open' then
  return fail('counter_not_open', 'counter ' .. cid .. ' is ' .. cs.state)
end
if cs.ticket and cs.ticket ~= '' then
  return fail('counter_busy', 'counter ' .. cid .. ' still has ticket ' .. cs.ticket)
end
local t = ticket(tid)
if not t then return fail('unknown_ticket', 'unknown ticket ' .. tid) end
if not in_list(t.status, allowed) then
  return fail('invalid_transition', 'cannot call ticket ' .. t.number .. ': it is ' .. t.status)
end
if expect ~= '' and t.service ~= expect then
  return fail('invalid_transition', 'ticket ' .. t.number .. ' is now in ' .. t.service ..
    ', not ' .. expect)
end
local prev = t.status
q_remove(t.service, t.id)
return do_call(t, cid, prev, false)
