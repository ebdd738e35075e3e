-- Everything a hub needs to serve a site, read in one atomic step together with the
-- stream offset it corresponds to: events after `offset` apply on top of it.
local cfg = redis.call('GET', P .. 'config')
if not cfg then return fail('unknown_site', 'unknown site') end
local last = redis.call('XREVRANGE', P .. 'events', '+', '-', 'COUNT', 1)[1]
local offset = last and last[1] or '0-0'
local tickets, queues, counters, budgets = {}, {}, {}, {}
for _, s in ipairs(redis.call('HKEYS', P .. 'svc')) do
  local ids = redis.call('ZRANGE', P .. 'q:' .. s, 0, -1)
  queues[s] = ids
  local flat = redis.call('HGETALL', P .. 'qb:' .. s)
  for i = 1, #flat, 2 do budgets[flat[i]] = tonumber(flat[i + 1]) end
  for _, id in ipairs(ids) do tickets[id] = ticket(id) end
end
for _, c in ipairs(redis.call('HKEYS', P .. 'ctr')) do
  local cs = counter_state(c)
  counters[c] = cs
  if cs.ticket and cs.ticket ~= '' then tickets[cs.ticket] = ticket(cs.ticket) end
end
for _, id in ipairs(redis.call('SMEMBERS', P .. 'parked')) do tickets[id] = ticket(id) end
local recent = {}
for i, r in ipairs(redis.call('LRANGE', P .. 'recent', 0, -1)) do recent[i] = cjson.decode(r) end
return ok({config = cjson.decode(cfg), epoch = redis.call('GET', P .. 'epoch') or '',
  offset = offset, trimmed = redis.call('GET', P .. 'trimmed') or '0-0', queues = queues,
  tickets = tickets, counters = counters, recent = recent, budgets = budgets})
