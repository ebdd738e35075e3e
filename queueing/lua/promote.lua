-- Promote early check-ins whose appointment's place is due (policy.promote_at): each takes
-- the class an on-time check-in gets, ordered by its appointment time, walking forward from
-- where it stands (policy.plan_promotion), and a 'promoted' event says where it went.
-- ARGV[4]: at most this many in one call. A ticket no longer waiting (called, cancelled,
-- transferred, erased) just leaves the pending set; one promoted leaves it too, so a
-- repeated call does nothing twice.
local limit = tonumber(ARGV[4])
local pk = P .. 'promote'
local due = redis.call('ZRANGEBYSCORE', pk, '-inf', NOW, 'LIMIT', 0, limit)
local done = {}
for _, id in ipairs(due) do
  redis.call('ZREM', pk, id)
  local t = ticket(id)
  local old = t and t.status == 'waiting' and t.promote_at_ms
    and redis.call('ZRANK', P .. 'q:' .. t.service, id)
  local to = old and t.promote_to
  local cls = old and redis.call('HGET', P .. 'cls', to)
  if t then
    t.promote_at_ms = nil
    t.promote_to = nil
    redis.call('HDEL', P .. 't:' .. id, 'promote_at_ms', 'promote_to')
  end
  -- A class removed from the site since the check-in: it stays a walk-in.
  if cls then
    local sep = string.find(cls, '|', 1, true)
    local rank, preempt = tonumber(string.sub(cls, 1, sep - 1)), string.sub(cls, sep + 1) == '1'
    local key = rank * 1e13 + t.appointment_ms
    local from = t.priority
    q_remove(t.service, id)
    local idx, after = q_insert(t.service, id, key, preempt, policy('factor'), nil, old)
    t.priority, t.rank, t.preempt, t.ref_ms = to, rank, preempt and 1 or 0,
      t.appointment_ms
    t.key = string.format('%.17g', key)
    save(t, {'priority', 'rank', 'preempt', 'ref_ms', 'key'})
    local off = emit('promoted', {ticket = t, from_priority = from, from_index = old,
      index = idx, after = after})
    done[#done + 1] = {ticket = id, index = idx, offset = off}
  end
end
return ok({promoted = done, pending = redis.call('ZCARD', pk)})
