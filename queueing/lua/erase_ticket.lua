-- Erase a person's number and name from one ticket (queueing/erase.py).
-- ARGV[4]: ticket id; ARGV[5]: the stored spellings of the person's number, comma-separated,
-- held as its notify or its customer (a check-in copies a booking's customer, which may be
-- the number) ('' when the ticket was named: whatever it holds goes); ARGV[6]: open states.
-- Checked here, in the same step as the change: a number set again meanwhile is not erased
-- on the strength of an older read. An open ticket's change is a notify_set event (hubs'
-- views and the notification watcher drop the number, as when its holder stops alerts).
local tid, spelt, open = ARGV[4], ARGV[5], ARGV[6]
local t = ticket(tid)
if not t then return ok({erased = 0}) end
local notify, customer = t.notify or '', t.customer or ''
local function holds(v) return v ~= '' and in_list(v, spelt) end
if spelt ~= '' and not (holds(notify) or holds(customer)) then
  return ok({erased = 0})
end
if notify == '' and customer == '' then return ok({erased = 0}) end
t.notify, t.customer = '', ''
save(t, {'notify', 'customer'})
local is_open = in_list(t.status, open)
if is_open then emit('notify_set', {ticket = t, from = t.status}) end
return ok({erased = 1, open = is_open})
