-- Erase a person's number (and, named or kept under it, their customer id) from one
-- booking (queueing/erase.py). ARGV[4]: booking id; ARGV[5]: the stored spellings of the
-- person's number, comma-separated ('' when the booking was named); ARGV[6]: the alias
-- its customer becomes (personal.alias). Its place in the customer's index moves to the
-- alias's own index, so the booking keeps every rule it had. No event: the erasure's one
-- `erased` entry records the change (a booking's events would carry what is erased).
local id, spelt, alias = ARGV[4], ARGV[5], ARGV[6]
local b = bk_get(id)
if not b then return ok({erased = 0}) end
local notify, customer = b.notify or '', b.customer or ''
local drop_notify = notify ~= '' and (spelt == '' or in_list(notify, spelt))
local drop_customer = customer ~= alias and (spelt == '' or in_list(customer, spelt))
if not (drop_notify or drop_customer) then return ok({erased = 0}) end
local fields = {}
if drop_notify then
  redis.call('ZREM', BK .. 'nt:' .. notify, id)  -- the number's index: no key names it
  b.notify = ''
  fields[#fields + 1] = 'notify'
end
if drop_customer then
  local old = BK .. 'cu:' .. customer
  local score = redis.call('ZSCORE', old, id)
  redis.call('ZREM', old, id)
  b.customer = alias
  fields[#fields + 1] = 'customer'
  if score then
    redis.call('ZADD', BK .. 'cu:' .. alias, score, id)
    bk_expire_at(BK .. 'cu:' .. alias, b.end_ms + RETAIN_MS)
  end
end
bk_save(b, fields)
return ok({erased = 1, status = b.status})
