-- Check in: mark the booking checked in and issue its ticket, in one atomic step.
-- ARGV[4..16] are queueing/lua/issue.lua's arguments (that script runs here, wrapped as
-- issue_ticket(), so the ticket is made exactly as POST /tickets makes it; ARGV[16] is
-- 'booked': a booked person is admitted even to a service no counter lists); then
-- ARGV[17..18]: issue.lua's promotion (when an early check-in takes its appointment's
-- place, and its class then; '' for none), ARGV[19..]: booking id, the booking version the
-- arrival rule was decided on, late (0/1).
local id, v, late = ARGV[19], tonumber(ARGV[20]), ARGV[21] == '1'
local b = bk_get(id)
if not b then return fail('unknown_booking', 'unknown booking ' .. id) end
if b.status == 'checked_in' then
  -- A repeated check-in (a retry, a second scan) returns the ticket it already made.
  local t = ticket(b.ticket)
  if t then return bk_result({booking = b, ticket = t, position = position(t), replay = true}) end
  return fail('invalid_transition', 'the booking was checked in and its ticket has ended')
end
if b.v ~= v then return fail('schedule_changed', 'the booking changed meanwhile; retry') end
local r = issue_ticket()
if r[1] == 'err' then return r end
local issued = cjson.decode(r[2])
local prev = b.status
b.status = 'checked_in'
b.ticket = issued.ticket.id
b.checked_in_ms = NOW
b.late = late and 1 or 0
b.v = b.v + 1
bk_due_clear(b)
redis.call('ZREM', BK .. 'cu:' .. b.customer, id)
-- The place stays taken: it was used (a later no-show would not have freed it either).
redis.call('ZADD', bk_place_key(b), bk_kept(id), id)
bk_save(b, {'status', 'ticket', 'checked_in_ms', 'late', 'v', 'due'})
local off = bk_emit('checked_in', b, {from = prev, ticket_id = b.ticket,
  number = issued.ticket.number, late = late})
return bk_result({booking = b, ticket = issued.ticket, position = issued.position,
  offset = off})
