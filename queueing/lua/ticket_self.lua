-- Operations addressed to a ticket by id: cancel (by its holder or an agent), unpark, move
-- (an agent sends a waiting or parked ticket to another service's queue) and notify (where
-- its "almost your turn" / "your turn" messages go: an SMS number; '' stops them).
-- ARGV[4]: ticket id, ARGV[5]: op, ARGV[6]: allowed source states, ARGV[7]: the argument —
-- for a cancel its reason ('' or absent: none; "day_closed" when the end of the day closes
-- it, "by_staff", "by_holder"), kept on the ticket as cancel_reason; for a move the service.
local tid, op, allowed, reason = ARGV[4], ARGV[5], ARGV[6], ARGV[7] or ''
local t = ticket(tid)
if not t then return fail('unknown_ticket', 'unknown ticket ' .. tid) end
if not in_list(t.status, allowed) then
  return fail('invalid_transition', 'cannot ' .. op .. ' ticket ' .. t.number .. ': it is ' ..
    t.status)
end
local prev = t.status
if op == 'cancel' then
  q_remove(t.service, t.id)
  redis.call('SREM', P .. 'parked', t.id)
  local cid = t.counter
  if prev == 'called' and cid ~= '' then
    redis.call('HSET', P .. 'cs:' .. cid, 'ticket', '', 'free_ms', NOW)
  end
  t.status = 'cancelled'
  t.ended_ms = NOW
  if reason ~= '' then t.cancel_reason = reason end
  save(t, {'status', 'ended_ms', 'cancel_reason'})
  finish(t)
  local off = emit('cancelled', {ticket = t, counter = cid, from = prev,
    reason = reason ~= '' and reason or nil})
  return ok({ticket = t, offset = off})
elseif op == 'unpark' then
  redis.call('SREM', P .. 'parked', t.id)
  t.status = 'waiting'
  t.counter = ''
  save(t, {'status', 'counter'})
  local idx, after = q_insert(t.service, t.id, tonumber(t.key), t.preempt == 1,
    policy('factor'))
  local off = emit('unparked', {ticket = t, from = prev, index = idx, after = after})
  return ok({ticket = t, offset = off, position = idx + 1})
elseif op == 'move' then
  -- As a counter's transfer (ticket_op.lua), but of a ticket nobody is serving: it leaves
  -- its queue (or the parked list) and joins the other service's by its original key, so
  -- it keeps its class and arrival, and is 'transferred'.
  local svc = reason
  local refused = transfer_refused(t, svc)
  if refused then return refused end
  local from_svc = t.service
  q_remove(t.service, t.id)
  redis.call('SREM', P .. 'parked', t.id)
  t.service = svc
  t.from_service = from_svc  -- last transferred from (origin_service: where it was issued)
  t.status = 'transferred'
  t.counter = ''
  save(t, {'status', 'counter', 'service', 'from_service'})
  local idx, after = q_insert(t.service, t.id, tonumber(t.key), t.preempt == 1,
    policy('factor'))
  local off = emit('transferred', {ticket = t, from = prev, index = idx, after = after,
    from_service = from_svc, to_service = svc})
  return ok({ticket = t, offset = off, position = idx + 1})
elseif op == 'notify' then
  -- The status stays; the notification watcher arms "almost your turn" from the event.
  t.notify = reason
  save(t, {'notify'})
  local off = emit('notify_set', {ticket = t, from = prev})
  return ok({ticket = t, offset = off, position = position(t)})
end
return fail('bad_request', 'unknown op ' .. op)
