-- Call the next ticket to a counter. ARGV[4]: counter.
-- The counter's services' heads compete as policy.choose_head: best class, then the
-- longest wait times the counter's weight for that service, then reference time, then id.
local cid = ARGV[4]
local cs = counter_state(cid)
local spec = redis.call('HGET', P .. 'ctr', cid)
if not cs or not spec then return fail('unknown_counter', 'unknown counter ' .. cid) end
if cs.state ~= 'open' then
  return fail('counter_not_open', 'counter ' .. cid .. ' is ' .. cs.state)
end
if cs.ticket and cs.ticket ~= '' then
  return fail('counter_busy', 'counter ' .. cid .. ' still has ticket ' .. cs.ticket)
end
spec = cjson.decode(spec)
-- Early check-ins due for their appointment's place get it first (the worker's promote job
-- runs only every 15 s): a walk-in called in those seconds went ahead of one promoted late.
promote_due(50)
local best, best_key
for _, svc in ipairs(spec.services) do
  local head = redis.call('ZRANGE', P .. 'q:' .. svc, 0, 0)[1]
  if head then
    local h = redis.call('HMGET', P .. 't:' .. head, 'rank', 'ref_ms')
    local rank, ref = tonumber(h[1]), tonumber(h[2])
    local w = tonumber(spec.weights[svc] or 1)
    local k = {rank, -math.max(0, NOW - ref) * w, ref, head}
    local better = best == nil
    if not better then
      for i = 1, 4 do
        if k[i] ~= best_key[i] then better = k[i] < best_key[i]; break end
      end
    end
    if better then best, best_key = {id = head, svc = svc}, k end
  end
end
if not best then return fail('queue_empty', 'no one is waiting for counter ' .. cid) end
local t = ticket(best.id)
local prev = t.status
q_remove(best.svc, t.id)
return do_call(t, cid, prev, true)
