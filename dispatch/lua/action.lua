-- A device action, applied at most once per action id. ARGV[4]: technician, ARGV[5]: action
-- id, ARGV[6]: kind, ARGV[7]: job id, ARGV[8]: device time (ms), ARGV[9]: reason,
-- ARGV[10]: transition table JSON (dispatch.transitions.table()), ARGV[11]: id TTL (s),
-- ARGV[12]: for an arrival, "<metres from the job by GPS>|<1 if beyond the policy's
-- arrive_far_m>", or '' (no fix to judge by). ARGV[13]: for a log-in at a shift start, the
-- start-of-shift settle in ms (dispatch/settle.py; 0 or absent: none).
-- A replayed action id returns the first result (replay = true) and changes nothing; the
-- same id with another action is refused (action_mismatch).
local tid, aid, kind, jid, reason = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[9]
local at = math.min(tonumber(ARGV[8]), NOW)
local RULES = cjson.decode(ARGV[10])
local JR, TR = RULES.job, RULES.tech
local akey = P .. 'act:' .. tid .. ':' .. aid
local fp = kind .. '|' .. jid

local prior = redis.call('GET', akey)
if prior then
  local sep = string.find(prior, '\n', 1, true)
  if string.sub(prior, 1, sep - 1) ~= fp then
    return fail('action_mismatch', 'action id ' .. aid .. ' was used for another action')
  end
  local res = cjson.decode(string.sub(prior, sep + 1))
  res.replay = true
  return ok(res)
end

local t = tech(tid)
if not t then return fail('unknown_technician', 'unknown technician ' .. tid) end

local function tech_allowed(op)
  if not in_list(t.status, TR[op]) then
    return fail('invalid_transition', 'cannot ' .. op .. ' while ' .. t.status)
  end
end

local function done(result)
  result.action = aid
  redis.call('SET', akey, fp .. '\n' .. cjson.encode(result), 'EX', tonumber(ARGV[11]))
  return ok(result)
end

-- Technician-only actions.
local TECH_ONLY = {online = 'available', offline = 'offline', ['break'] = 'on_break',
  resume = 'available'}
if TECH_ONLY[kind] then
  local op = kind
  local err = tech_allowed(op)
  if err then return err end
  local from = t.status
  set_tech_status(t, TECH_ONLY[kind])
  if kind == 'break' then redis.call('HSET', P .. 'tech:' .. tid, 'brk_ms', at) end
  dirty(tid)
  -- New capacity: jobs nobody could take may now be possible (a full pass retries them).
  if kind == 'online' or kind == 'resume' then dirty('*') end
  -- A shift start's settle holds every pass until it ends (dispatch/recompute.py), set in
  -- this step: a pass running now must not take the '*' above before the hold is seen.
  -- The first log-in's hold stands; the key outlives it by a minute (only its value counts).
  local settle = tonumber(ARGV[13] or '0') or 0
  if kind == 'online' and settle > 0 then
    local hk = P .. 'settle'
    if (tonumber(redis.call('GET', hk) or '0') or 0) <= NOW then
      redis.call('SET', hk, NOW + settle, 'PX', settle + 60000)
    end
  end
  local off = emit('tech_status', {tech = tech_brief(t), from = from, reason = reason,
    at = at, action = aid})
  return done({tech = tech_brief(t), offset = off})
end

-- Job actions: the job must be this technician's.
local j = job(jid)
if not j then return fail('unknown_job', 'unknown job ' .. jid) end

if kind == 'accept' or kind == 'decline' then
  if j.status ~= 'offered' or j.tech ~= tid then
    return fail('offer_closed', 'job ' .. jid .. ' is not offered to you (' .. j.status .. ')')
  end
  -- Lazy timeout: an answer given after the deadline closes the offer as expired.
  if at > tonumber(j.deadline_ms) then
    release_offer(j, 'offer_expired', 'timeout')
    return fail('offer_closed', 'the offer of job ' .. jid .. ' expired')
  end
  if kind == 'decline' then
    local off = release_offer(j, 'offer_declined', reason ~= '' and reason or 'declined')
    return done({job = j, tech = tech_brief(t), offset = off})
  end
  set_status(j, 'assigned')
  j.accepted_ms = at
  j.deadline_ms = ''
  save_job(j)
  local off = emit('offer_accepted', {job = j, tech = tid, n = j.offer_n, at = at,
    action = aid})
  return done({job = j, tech = tech_brief(t), offset = off})
end

if j.tech ~= tid then
  return fail('invalid_transition', 'job ' .. jid .. ' is not assigned to you')
end
if not in_list(j.status, JR[kind]) then
  return fail('invalid_transition', 'cannot ' .. kind .. ' a job that is ' .. j.status)
end

local from = j.status
if kind == 'depart' or kind == 'arrive' then
  local op = kind
  if t.active ~= '' and t.active ~= jid then
    return fail('invalid_transition', 'job ' .. t.active .. ' is still under way')
  end
  if t.active ~= jid then
    local err = tech_allowed(op)
    if err then return err end
  end
  t.active = jid
  if kind == 'depart' then
    set_status(j, 'en_route')
    j.departed_ms = at
    set_tech_status(t, 'en_route')
    redis.call('HSET', P .. 'tech:' .. tid, 'geof', '')
  else
    if from == 'assigned' then j.departed_ms = at end
    set_status(j, 'on_site')
    j.arrived_ms = at
    local sep = string.find(ARGV[12] or '', '|', 1, true)
    j.arrive_m = sep and tonumber(string.sub(ARGV[12], 1, sep - 1)) or ''
    j.arrive_far = sep and string.sub(ARGV[12], sep + 1) == '1' or nil
    set_tech_status(t, 'on_site')
    redis.call('HSET', P .. 'tech:' .. tid, 'geof', jid .. '|inside|' .. at)
  end
  save_job(j)
  dirty(tid)
  local etype = kind == 'depart' and 'job_departed' or 'job_arrived'
  local far = j.arrive_far
  j.arrive_far = nil
  local off = emit(etype, {job = j, tech_state = tech_brief(t), from = from, at = at,
    via = 'device', action = aid, far = far})
  return done({job = j, tech = tech_brief(t), offset = off})
end

-- complete / fail: the job ends; the technician is free again.
set_status(j, kind == 'complete' and 'done' or 'failed')
j.ended_ms = at
j.reason = reason
save_job(j)
route_remove(tid, jid)
if t.active == jid then
  t.active = ''
  set_tech_status(t, 'available')
  redis.call('HSET', P .. 'tech:' .. tid, 'geof', '')
end
dirty(tid)
local off = emit(kind == 'complete' and 'job_done' or 'job_failed',
  {job = j, tech_state = tech_brief(t), from = from, at = at, reason = reason, action = aid})
return done({job = j, tech = tech_brief(t), offset = off})
