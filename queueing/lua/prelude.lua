-- Shared by every queue script (prepended at load time).
-- KEYS[1] is the site's event stream "sb:{site:ID}:events"; every other key the script
-- touches shares its hash tag, so a site lives in one Redis Cluster slot.
-- ARGV[1] now_ms, ARGV[2] actor (token subject), ARGV[3] via (request channel).
-- Loaded once as a function library (queueing/luafn.py): begin sets the call's context
-- before each script body runs; nothing else here may change per call.
-- KEYS[2], when given, is the caller's Idempotency-Key record (realtime/idempotency.py,
-- in the site's slot): a success notes in it, in the same atomic step, that it ran.
local P, NOW, NOW_S, ACTOR, VIA, JOURNAL

local function begin(keys, args)
  P = string.sub(keys[1], 1, -7)
  NOW_S = args[1]  -- as sent: a number passed to redis.call is formatted by printf("%.17g")
  NOW = tonumber(NOW_S)
  ACTOR = args[2]
  VIA = args[3]
  JOURNAL = keys[2]
end

local NUMERIC = {n = true, rank = true, ref_ms = true, issued_ms = true, calls = true,
  recalls = true, called_ms = true, started_ms = true, ended_ms = true, returned = true,
  appointment_ms = true, preempt = true, promote_at_ms = true}

-- An integral number as a string (printf's integer path, not its floating-point one).
local function int(x)
  return string.format('%d', x)
end

local function fail(code, message)
  return {'err', code, message}
end

-- The request being made under an Idempotency-Key ran: its record keeps what it did (the
-- ticket's id, never its holder's name or number; a counter's state as it is), so a retry
-- is answered with it even when the server died, or lost Redis's reply, before it could
-- keep the answer itself. A record already answered, or gone, is left alone.
local function journal(tbl)
  local raw = redis.call('GET', JOURNAL)
  if not raw then return end
  local rec = cjson.decode(raw)
  if rec.status ~= nil then return end
  if type(tbl.ticket) == 'table' then
    rec.ran = {id = tbl.ticket.id, undone = tbl.undone}
  else
    rec.ran = {counter = tbl.counter, state = tbl.state, ticket = tbl.ticket, offset = tbl.offset}
  end
  redis.call('SET', JOURNAL, cjson.encode(rec), 'EX', tonumber(rec.ttl) or 86400)
end

local function ok(tbl)
  if JOURNAL then journal(tbl) end
  return {'ok', cjson.encode(tbl)}
end

local function hgetall(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local t = {}
  for i = 1, #flat, 2 do
    local k, v = flat[i], flat[i + 1]
    if NUMERIC[k] then t[k] = tonumber(v) else t[k] = v end
  end
  return t
end

local function ticket(id)
  return hgetall(P .. 't:' .. id)
end

local function save(t, fields)
  local args = {}
  for _, f in ipairs(fields) do
    args[#args + 1] = f
    args[#args + 1] = tostring(t[f] == nil and '' or t[f])
  end
  redis.call('HSET', P .. 't:' .. t.id, unpack(args))
end

-- Returns the event's offset and its data as JSON (a result can reuse it).
local function emit(etype, data)
  local json = cjson.encode(data)
  return redis.call('XADD', P .. 'events', '*', 't', etype, 'ts', NOW_S, 'a', ACTOR, 'ch', VIA,
    'd', json), json
end

-- Whether stream id a ("ms-seq") comes before b.
local function id_before(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  if am ~= bm then return tonumber(am) < tonumber(bm) end
  return tonumber(as) < tonumber(bs)
end

local function counter_state(cid)
  return hgetall(P .. 'cs:' .. cid)
end

local function policy(field)
  return tonumber(redis.call('HGET', P .. 'policy', field))
end

local function position(t)
  local r = redis.call('ZRANK', P .. 'q:' .. t.service, t.id)
  if r then return r + 1 end
  return cjson.null
end

-- Insert ticket `id` with order key `key` into `svc`'s queue (see queueing/policy.py):
-- walk back from the tail past later keys while their aging budget allows, spend one unit
-- of budget of everyone passed, then place the ticket by a score between its neighbours.
-- Returns the insertion index (0 = head) and the id it follows ('' at the head).
-- ``back`` (optional) places it that many places behind where the walk stopped (never past
-- the tail), as plan_insertion's ``back``: only those it still passes are overtaken.
-- ``upto`` (optional) starts the walk there instead of at the tail, as policy.plan_promotion:
-- a ticket promoted where it stood passes only those ahead of it.
local function q_insert(svc, id, key, preempt, factor, back, upto)
  local q, qk, qb = P .. 'q:' .. svc, P .. 'qk:' .. svc, P .. 'qb:' .. svc
  local total = redis.call('ZCARD', q)
  local n = upto or total
  local idx = n
  local pos = n - 1
  local passed = {}
  local stop = false
  while pos >= 0 and not stop do
    local lo = math.max(0, pos - 63)
    local ids = redis.call('ZRANGE', q, lo, pos)
    local keys = redis.call('HMGET', qk, unpack(ids))
    local buds = redis.call('HMGET', qb, unpack(ids))
    for i = #ids, 1, -1 do
      if tonumber(keys[i]) <= key or (tonumber(buds[i]) <= 0 and not preempt) then
        stop = true
        break
      end
      idx = idx - 1
      passed[#passed + 1] = ids[i]
    end
    pos = lo - 1
  end
  if back and back > 0 then
    local final = math.min(idx + back, n)
    for i = #passed, n - final + 1, -1 do passed[i] = nil end
    idx = final
  end
  for _, oid in ipairs(passed) do
    redis.call('HINCRBY', qb, oid, -1)
  end
  local score
  if idx == total then
    if total == 0 then score = 0 else
      score = tonumber(redis.call('ZRANGE', q, -1, -1, 'WITHSCORES')[2]) + 1024
    end
  elseif idx == 0 then
    score = tonumber(redis.call('ZRANGE', q, 0, 0, 'WITHSCORES')[2]) - 1024
  else
    local two = redis.call('ZRANGE', q, idx - 1, idx, 'WITHSCORES')
    local a, b = tonumber(two[2]), tonumber(two[4])
    if b - a < 1e-6 then
      -- Gap used up by repeated insertions at one place: renumber the whole queue.
      local all = redis.call('ZRANGE', q, 0, -1)
      for i, mid in ipairs(all) do
        redis.call('ZADD', q, (i - 1) * 1024, mid)
      end
      a, b = (idx - 1) * 1024, idx * 1024
    end
    score = (a + b) / 2
  end
  redis.call('ZADD', q, score, id)
  redis.call('HSET', qk, id, string.format('%.17g', key))
  -- floor((factor - 1) * (ahead + 1)), as policy.aging_budget
  redis.call('HSET', qb, id, math.floor((factor - 1) * (idx + 1) + 1e-9))
  local after = ''
  if idx > 0 then after = redis.call('ZRANGE', q, idx - 1, idx - 1)[1] end
  return idx, after
end

local function q_remove(svc, id)
  redis.call('ZREM', P .. 'q:' .. svc, id)
  redis.call('HDEL', P .. 'qk:' .. svc, id)
  redis.call('HDEL', P .. 'qb:' .. svc, id)
end

-- Whether a counter of the site lists service ``svc``, whatever its state: a closed one may
-- open later. A ticket of a service no counter lists is never called (the day's close
-- cancels it), so issue and transfer refuse one (service_not_served).
local function served(svc)
  local quoted = '"' .. svc .. '"'
  for _, spec in ipairs(redis.call('HVALS', P .. 'ctr')) do
    -- Decoded only where the id appears at all (it may be a weight's key alone): an issue
    -- at a site of many counters reads one or two, not all.
    if string.find(spec, quoted, 1, true) then
      for _, s in ipairs(cjson.decode(spec).services or {}) do
        if s == svc then return true end
      end
    end
  end
  return false
end

local function not_served(svc)
  return fail('service_not_served', 'no counter serves ' .. svc .. ': its tickets would '
    .. 'never be called')
end

-- Why ticket ``t`` cannot go to service ``svc`` (a fail reply), or nil: a transfer's checks.
local function transfer_refused(t, svc)
  if not redis.call('HGET', P .. 'svc', svc) then
    return fail('unknown_service', 'unknown service ' .. svc)
  end
  if svc == t.service then
    return fail('invalid_transition', 'ticket ' .. t.number .. ' is already in ' .. svc)
  end
  if not served(svc) then return not_served(svc) end
  return nil
end

local function in_list(value, csv)
  for s in string.gmatch(csv, '[^,]+') do
    if s == value then return true end
  end
  return false
end

-- Open tickets that are in no queue: each counter's current one (called or serving) and
-- the parked ones. With the queues, that is every open ticket (as the snapshot finds them).
local function unqueued()
  local ids = {}
  for _, c in ipairs(redis.call('HKEYS', P .. 'ctr')) do
    local cur = redis.call('HGET', P .. 'cs:' .. c, 'ticket')
    if cur and cur ~= '' then ids[#ids + 1] = cur end
  end
  for _, id in ipairs(redis.call('SMEMBERS', P .. 'parked')) do ids[#ids + 1] = id end
  return ids
end

-- The service whose sequence gave the ticket its number (a transfer keeps the number).
local function numbered_by(t)
  if t.origin_service and t.origin_service ~= '' then return t.origin_service end
  return t.service
end

-- num_open {service: open tickets it numbered} tells issue whether a new day may restart
-- the numbers; num_last {service: last number given} is where they go on otherwise. Issue
-- adds one, finish takes one away. A site whose data predates them gets them here, on first
-- use, from where its open tickets are (each service's last number: its highest open one),
-- and true is returned. Built in issue (before its first write), the count does not hold the
-- new ticket yet, so issue adds it; built in finish, the ended ticket has already left its
-- queue, counter or the parked set, so finish takes nothing away.
local function num_index()
  if redis.call('EXISTS', P .. 'num_open') == 1 then return false end
  local ids = unqueued()
  for _, s in ipairs(redis.call('HKEYS', P .. 'svc')) do
    for _, id in ipairs(redis.call('ZRANGE', P .. 'q:' .. s, 0, -1)) do ids[#ids + 1] = id end
  end
  local seen = {}
  for _, id in ipairs(ids) do
    local h = redis.call('HMGET', P .. 't:' .. id, 'origin_service', 'service', 'n')
    if not seen[id] and h[3] then
      seen[id] = true
      local svc = numbered_by({origin_service = h[1], service = h[2]})
      redis.call('HINCRBY', P .. 'num_open', svc, 1)
      local last = tonumber(redis.call('HGET', P .. 'num_last', svc) or 0)
      if tonumber(h[3]) > last then redis.call('HSET', P .. 'num_last', svc, h[3]) end
    end
  end
  return true
end

-- Ticket hashes stay a week after the ticket ends (for the audit trail and its tracker).
local RETAIN_S = 7 * 86400

-- A ticket reached a final state (done, no_show, cancelled): after it has left its queue,
-- its counter and the parked set.
local function finish(t)
  redis.call('EXPIRE', P .. 't:' .. t.id, RETAIN_S)
  if not num_index() then redis.call('HINCRBY', P .. 'num_open', numbered_by(t), -1) end
end

local ALL = {'id', 'site', 'n', 'number', 'service', 'status', 'priority', 'rank', 'preempt',
  'ref_ms', 'issued_ms', 'channel', 'customer', 'notify', 'counter', 'calls', 'recalls',
  'called_ms', 'started_ms', 'ended_ms', 'outcome', 'returned', 'origin_service',
  'appointment_ms', 'key'}

-- Put the counter's current ticket on the counter as called (shared by call and call-next).
local function do_call(t, cid, prev_status, is_next)
  -- The call that ends the ticket's wait (the day log's "called"), whatever its status was:
  -- a ticket moved to another queue before anyone called it is called for the first time.
  local first = t.called_ms == nil
  t.status = 'called'
  t.counter = cid
  t.calls = 1
  t.recalls = 0
  t.called_ms = NOW
  save(t, {'status', 'counter', 'calls', 'recalls', 'called_ms'})
  redis.call('HSET', P .. 'cs:' .. cid, 'ticket', t.id)
  -- A counter that calls someone has moved on: its last complete or no-show stays done.
  redis.call('DEL', P .. 'undo:' .. cid)
  redis.call('SREM', P .. 'parked', t.id)
  -- A called ticket is not promoted any more (an early check-in: promote.lua), even if a
  -- no-show returns it to the queue.
  if t.promote_at_ms then
    redis.call('ZREM', P .. 'promote', t.id)
    t.promote_at_ms = nil
    t.promote_to = nil
    redis.call('HDEL', P .. 't:' .. t.id, 'promote_at_ms', 'promote_to')
  end
  local call = {ticket = t.id, number = t.number, counter = cid, service = t.service, ts = NOW}
  redis.call('LPUSH', P .. 'recent', cjson.encode(call))
  redis.call('LTRIM', P .. 'recent', 0, 19)
  local off = emit('called', {ticket = t, counter = cid, from = prev_status, next = is_next,
    first = first})
  return ok({ticket = t, offset = off})
end

-- Read the counter and its current ticket, checking the op's allowed source states.
local function current(cid, allowed)
  local cs = counter_state(cid)
  if not cs then return nil, nil, fail('unknown_counter', 'unknown counter ' .. cid) end
  if not cs.ticket or cs.ticket == '' then
    return nil, nil, fail('counter_idle', 'counter ' .. cid .. ' has no current ticket')
  end
  local t = ticket(cs.ticket)
  if not t then return nil, nil, fail('unknown_ticket', 'current ticket vanished') end
  if not in_list(t.status, allowed) then
    return nil, nil, fail('invalid_transition', 'ticket ' .. t.number .. ' is ' .. t.status)
  end
  return cs, t, nil
end

-- Promote early check-ins whose appointment's place is due (policy.promote_at), at most
-- ``limit``: each takes the class an on-time check-in gets, ordered by its appointment time,
-- walking forward from where it stands (policy.plan_promotion), and a 'promoted' event says
-- where it went (by the promoter, as the worker's promote job records it, whoever's call ran
-- it). A ticket no longer waiting (called, cancelled, transferred, erased) just leaves the
-- pending set; one promoted leaves it too, so a repeated call does nothing twice. Returns the
-- promoted ({ticket, index, offset} each) and the pending set's key.
local function promote_due(limit)
  local actor, via = ACTOR, VIA
  ACTOR, VIA = 'promote', 'worker'
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
  ACTOR, VIA = actor, via
  return done, pk
end
