-- Issue a ticket. ARGV[4..]: id, service, channel, priority, ref_ms, day, customer, notify,
-- idempotency key (the caller's), fingerprint, idem_ttl_s, appointment_ms, and 'booked' for
-- a booking's check-in (admitted to a service no counter lists: see below), else ''; then
-- (a check-in only, optional) ARGV[17] promote_at_ms and ARGV[18] the class it is promoted
-- to then: an early check-in waits as a walk-in until promote.lua gives it its appointment's
-- place.
local id, svc, channel, prio = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local ref_ms, day = tonumber(ARGV[8]), ARGV[9]
local customer, notify, idem, fp = ARGV[10], ARGV[11], ARGV[12], ARGV[13]
local idem_ttl, appt = tonumber(ARGV[14]), ARGV[15]
local promote_at, promote_to = tonumber(ARGV[17] or ''), ARGV[18] or ''

-- An Idempotency-Key is its caller's (ACTOR, the token's subject): another kiosk or agent
-- sending the same key gets a ticket of its own, not this one. The subject's length keeps
-- caller 'a:b' with key 'c' apart from caller 'a' with key 'b:c'.
local idem_key = P .. 'idem:' .. #ACTOR .. ':' .. ACTOR .. ':' .. idem
if idem ~= '' then
  local prior = redis.call('GET', idem_key)
  if prior then
    local sep = string.find(prior, '|', 1, true)
    local pid, pfp = string.sub(prior, 1, sep - 1), string.sub(prior, sep + 1)
    if pfp ~= fp then
      return fail('idempotency_mismatch', 'Idempotency-Key was used with a different request')
    end
    local t = ticket(pid)
    if t then return ok({ticket = t, position = position(t), replay = true}) end
  end
end

local prefix = redis.call('HGET', P .. 'svc', svc)
if not prefix then return fail('unknown_service', 'unknown service ' .. svc) end
-- A ticket no counter would ever call is refused; a booked person who has come is still
-- admitted (the booking was taken; staff can call or transfer the ticket by hand).
if ARGV[16] ~= 'booked' and not served(svc) then return not_served(svc) end
local cls = redis.call('HGET', P .. 'cls', prio)
if not cls then return fail('unknown_priority', 'unknown priority class ' .. prio) end
local sep = string.find(cls, '|', 1, true)
local rank, preempt = tonumber(string.sub(cls, 1, sep - 1)), string.sub(cls, sep + 1) == '1'
local factor = policy('factor')

-- Numbers restart each local day, unless tickets the service numbered on an earlier day
-- are still open: then the day goes on from the service's last number (and keeps going on
-- once they end), so no two open tickets ever hold the same number.
num_index()
local nk = P .. 'num:' .. svc .. ':' .. day
local n = redis.call('INCR', nk)
if tonumber(redis.call('HGET', P .. 'num_open', svc) or 0) > 0 then
  local last = tonumber(redis.call('HGET', P .. 'num_last', svc) or 0)
  if n <= last then
    n = last + 1
    redis.call('SET', nk, n)
  end
end
redis.call('EXPIRE', nk, 3 * 86400)
redis.call('HSET', P .. 'num_last', svc, n)
redis.call('HINCRBY', P .. 'num_open', svc, 1)
-- Order key as policy.order_key: rank * 1e13 + reference time.
local key = rank * 1e13 + ref_ms
local t = {id = id, site = string.match(P, '{site:(.-)}'), n = n,
  number = prefix .. string.format('%03d', n), service = svc, status = 'waiting',
  priority = prio, rank = rank, preempt = preempt and 1 or 0, ref_ms = ref_ms,
  issued_ms = NOW, channel = channel, customer = customer, notify = notify, counter = '',
  calls = 0, recalls = 0, returned = 0, origin_service = svc, appointment_ms = appt,
  key = string.format('%.17g', key)}
save(t, ALL)
if promote_at then
  t.promote_at_ms = promote_at
  t.promote_to = promote_to
  save(t, {'promote_at_ms', 'promote_to'})
  redis.call('ZADD', P .. 'promote', promote_at, id)
end
local idx, after = q_insert(svc, id, key, preempt, factor)
if idem ~= '' then
  redis.call('SET', idem_key, id .. '|' .. fp, 'EX', idem_ttl)
end
local off = emit('issued', {ticket = t, index = idx, after = after})
return ok({ticket = t, position = idx + 1, offset = off})
