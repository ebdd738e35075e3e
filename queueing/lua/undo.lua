-- Take back the counter's last complete or no-show (its record, undo:{counter}, is written
-- by ticket_op.lua and forgotten by the counter's next call). ARGV[4]: counter.
-- The ticket goes back to the counter: a completed one with the status it had (called or
-- serving), a no-show as called. Refused, with nothing changed, when there is nothing to
-- take back, it is too late (policy undo_window_s), the counter has a ticket, or the ticket
-- changed since.
local cid = ARGV[4]
local cs = counter_state(cid)
if not cs then return fail('unknown_counter', 'unknown counter ' .. cid) end
if cs.state == 'closed' then
  return fail('counter_not_open', 'counter ' .. cid .. ' is closed')
end
if cs.ticket and cs.ticket ~= '' then
  return fail('counter_busy', 'counter ' .. cid .. ' still has ticket ' .. cs.ticket)
end
local ukey = P .. 'undo:' .. cid
local u = hgetall(ukey)
if not u then
  return fail('nothing_to_undo', 'counter ' .. cid .. ' has no complete or no-show to undo')
end
local window = policy('undo_window_s') or 120
if NOW - tonumber(u.at) > window * 1000 then
  return fail('undo_expired', 'more than ' .. window .. ' s since that ' .. u.op)
end
local t = ticket(u.ticket)
-- What the action left must still be there: ended at that very moment, or (a returned
-- no-show) still waiting in its queue, nobody having called or moved it.
local still
if not t then
  still = false
elseif u.ended ~= '' then
  still = t.ended_ms == tonumber(u.ended) and t.status == (u.op == 'completed' and 'done'
    or 'no_show')
else
  still = t.status == 'waiting' and t.returned == 1
    and redis.call('ZSCORE', P .. 'q:' .. t.service, t.id) ~= false
end
if not still then
  return fail('ticket_changed', 'ticket ' .. (t and t.number or u.ticket)
    .. ' changed since: nothing to undo')
end
local was = t.status
if u.ended == '' then
  -- Out of the queue again; the return is given back. (The budgets its return spent stay
  -- spent: it only ever makes the others' guarantee stricter.)
  q_remove(t.service, t.id)
  t.returned = 0
else
  redis.call('PERSIST', P .. 't:' .. t.id)  -- was set to expire when it ended
end
t.status = u.op == 'completed' and u.from or 'called'
t.counter = cid
t.calls = tonumber(u.calls)
t.recalls = tonumber(u.recalls)
t.ended_ms = nil
t.outcome = nil
if u.op == 'completed' then t.started_ms = tonumber(u.started) end
save(t, {'status', 'counter', 'calls', 'recalls', 'returned', 'ended_ms', 'outcome',
  'started_ms'})
redis.call('HSET', P .. 'cs:' .. cid, 'ticket', t.id)
-- Open again: counted among the open tickets its service numbered (as finish() undone).
if u.ended ~= '' and not num_index() then
  redis.call('HINCRBY', P .. 'num_open', numbered_by(t), 1)
end
redis.call('DEL', ukey)
local off = emit('undone', {ticket = t, counter = cid, undid = u.op, undid_offset = u.off,
  from = was})
return ok({ticket = t, offset = off, undone = u.op})
