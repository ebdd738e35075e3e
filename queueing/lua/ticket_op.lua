-- An operation on a counter's current ticket. ARGV[4]: counter, ARGV[5]: op,
-- ARGV[6]: allowed source states, ARGV[7]: argument (outcome for complete, service for
-- transfer).
local cid, op, allowed, arg = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local cs, t, err = current(cid, allowed)
if err then return err end
local prev = t.status

local function release()
  -- free_ms: when it let its last ticket go (a hub loading the site later knows how long
  -- an open counter has stood free: the estimator's idle counter, queueing/view.py).
  redis.call('HSET', P .. 'cs:' .. cid, 'ticket', '', 'free_ms', NOW)
end

local function reinsert(event, extra, back)
  -- Back into a queue by its original key (class, then original arrival or appointment),
  -- ``back`` places behind that (a returned no-show).
  t.status = event == 'transferred' and 'transferred' or 'waiting'
  t.counter = ''
  save(t, {'status', 'counter', 'service', 'returned'})
  local idx, after = q_insert(t.service, t.id, tonumber(t.key), t.preempt == 1,
    policy('factor'), back)
  extra.ticket = t
  extra.counter = cid
  extra.from = prev
  extra.index = idx
  extra.after = after
  return emit(event, extra)
end

-- Keep what an undo (undo.lua) needs to put the ticket back as it was before this ending
-- action, for policy undo_window_s (0: no undo). The counter's next call forgets it.
local function remember(what, off, extra)
  local window = policy('undo_window_s') or 120  -- a site put before the policy had it
  local key = P .. 'undo:' .. cid
  redis.call('DEL', key)
  if window <= 0 then return end
  redis.call('HSET', key, 'ticket', t.id, 'op', what, 'from', prev, 'at', NOW_S, 'off', off,
    'calls', t.calls, 'recalls', t.recalls, unpack(extra))
  redis.call('EXPIRE', key, window + 60)  -- kept a little longer, to answer undo_expired
end

local function no_show(auto)
  release()
  if policy('no_show_returns') == 1 and t.returned == 0 then
    t.returned = 1
    -- A few places back (no_show_back; a site put before the policy had it: 2), so the
    -- next call-next does not call the person who just did not come again at once.
    local off = reinsert('no_show', {auto = auto, returned = true},
      policy('no_show_back') or 2)
    remember('no_show', off, {'returned', 1, 'ended', ''})
    return ok({ticket = t, offset = off, position = position(t)})
  end
  t.status = 'no_show'
  t.ended_ms = NOW
  t.counter = ''
  save(t, {'status', 'ended_ms', 'counter'})
  finish(t)
  local off = emit('no_show', {ticket = t, counter = cid, from = prev, auto = auto,
    returned = false})
  remember('no_show', off, {'returned', 0, 'ended', NOW_S})
  return ok({ticket = t, offset = off})
end

if op == 'recall' then
  if t.calls >= policy('no_show_after') then return no_show(true) end
  if t.recalls >= policy('recall_max') then
    return fail('recall_limit', 'ticket ' .. t.number .. ' was recalled ' .. t.recalls .. ' times')
  end
  t.recalls = t.recalls + 1
  t.calls = t.calls + 1
  t.called_ms = NOW
  save(t, {'recalls', 'calls', 'called_ms'})
  -- A recall is the newest call on the board (readers keep the first entry per ticket).
  redis.call('LPUSH', P .. 'recent', cjson.encode({ticket = t.id, number = t.number,
    counter = cid, service = t.service, ts = NOW}))
  redis.call('LTRIM', P .. 'recent', 0, 19)
  local off = emit('recalled', {ticket = t, counter = cid, from = prev})
  return ok({ticket = t, offset = off})
elseif op == 'start' then
  t.status = 'serving'
  t.started_ms = NOW
  save(t, {'status', 'started_ms'})
  local off = emit('started', {ticket = t, counter = cid, from = prev})
  return ok({ticket = t, offset = off})
elseif op == 'complete' then
  local started = t.started_ms and int(t.started_ms) or ''
  t.status = 'done'
  t.ended_ms = NOW
  if not t.started_ms then t.started_ms = NOW end
  t.outcome = arg
  t.counter = cid
  save(t, {'status', 'ended_ms', 'started_ms', 'outcome'})
  release()
  finish(t)
  local off = emit('completed', {ticket = t, counter = cid, from = prev, outcome = arg})
  remember('completed', off, {'started', started, 'ended', NOW_S})
  return ok({ticket = t, offset = off})
elseif op == 'no_show' then
  return no_show(false)
elseif op == 'park' then
  t.status = 'parked'
  t.counter = ''
  save(t, {'status', 'counter'})
  redis.call('SADD', P .. 'parked', t.id)
  release()
  local off = emit('parked', {ticket = t, counter = cid, from = prev})
  return ok({ticket = t, offset = off})
elseif op == 'transfer' then
  local refused = transfer_refused(t, arg)
  if refused then return refused end
  local from_svc = t.service
  t.service = arg
  -- The service it was last transferred from (origin_service stays where it was issued).
  t.from_service = from_svc
  save(t, {'from_service'})
  release()
  local off = reinsert('transferred', {from_service = from_svc, to_service = arg})
  return ok({ticket = t, offset = off, position = position(t)})
end
return fail('bad_request', 'unknown op ' .. op)
