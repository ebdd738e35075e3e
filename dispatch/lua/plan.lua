-- Publish a recompute's plan, fenced. ARGV[4]: fencing token, ARGV[5]: plan JSON
-- {reason, moved, planned, routes = {tech: [[job, eta, start, end(, 'b')], ...]} (changed
-- routes only; 'b' marks a break), unassigned = {job: reason}, offers = {job: {reason,
-- cost, rank, candidates}} (candidates: a JSON list as text, spliced into the `offered`
-- event as it is: cjson would write an empty one as {}), pos = {tech: [lat, lon]},
-- hist = {tech: csv}}, ARGV[6]: offer timeout (s), ARGV[7]: transition table JSON.
--
-- Refused (stale_token) if a newer token was accepted or holds the lock: a worker that lost
-- its lock while computing cannot overwrite a newer plan. Then every change is checked
-- against the state *now*: a job under way (en_route / on_site) never moves, whatever the
-- plan says; a finished job is dropped; a technician never gets a job it declined.
local token = tonumber(ARGV[4])
local plan = cjson.decode(ARGV[5])
local timeout_ms = tonumber(ARGV[6]) * 1000
local JR = cjson.decode(ARGV[7]).job
local last = tonumber(redis.call('HGET', P .. 'plan', 'token')) or 0
local holder = tonumber(redis.call('GET', P .. 'lock')) or 0
if token < last or token < holder then
  return fail('stale_token', 'plan token ' .. token .. ' is older than ' ..
    math.max(last, holder))
end
local routes = type(plan.routes) == 'table' and plan.routes or {}
local unassigned = type(plan.unassigned) == 'table' and plan.unassigned or {}
local annot = type(plan.offers) == 'table' and plan.offers or {}
local version = (tonumber(redis.call('HGET', P .. 'plan', 'version')) or 0) + 1

-- Which technician the plan wants for each job, and the old routes it replaces.
local target, old = {}, {}
for tid, stops in pairs(routes) do
  for _, s in ipairs(stops) do
    if s[5] ~= 'b' then target[s[1]] = tid end
  end
  old[tid] = get_route(tid)
end

-- An improvement (keep_accepted) never drops a job its technician has accepted (it may move
-- it to another). It decided from statuses read when its pass began: a job accepted since
-- then is checked here, against the state now, and the whole improvement refused.
if plan.keep_accepted then
  for tid, _ in pairs(routes) do
    for _, s in ipairs(old[tid].stops) do
      if s.j and not target[s.j] then
        local j = job(s.j)
        if j and j.tech == tid and j.status == 'assigned' then
          return fail('conflict', 'job ' .. s.j .. ' was accepted meanwhile')
        end
      end
    end
  end
  for jid, _ in pairs(unassigned) do
    local j = job(jid)
    if j and j.status == 'assigned' and not target[jid] then
      return fail('conflict', 'job ' .. jid .. ' was accepted meanwhile')
    end
  end
end

local later = {}  -- events emitted after the plan entry, in order
local offers = {}
local function withdraw(j, reason)
  local prev = j.tech
  if not routes[prev] then route_remove(prev, j.id) end
  later[#later + 1] = {'offer_withdrawn', {job = j, tech = prev, reason = reason,
    was = j.status}}
end

local written = {}
for tid, stops in pairs(routes) do
  local t = tech(tid)
  if t then
    local kept, has = {}, {}
    -- Guard: the technician's job under way stays first, even if the plan lost it.
    if t.active ~= '' and target[t.active] ~= tid then
      local a = job(t.active)
      if a and COMMITTED[a.status] and a.tech == tid then
        local prev = {j = a.id, eta = a.eta_ms, start = a.eta_ms, ['end'] = a.eta_ms}
        for _, s in ipairs(old[tid].stops) do if s.j == a.id then prev = s end end
        kept[1] = prev
        has[a.id] = true
      end
    end
    for _, s in ipairs(stops) do
      local jid = s[1]
      local j = s[5] ~= 'b' and job(jid) or nil
      if s[5] == 'b' then
        kept[#kept + 1] = {b = jid, eta = s[2], start = s[3], ['end'] = s[4]}
      end
      local keep = j and not TERMINAL[j.status] and not has[jid]
      if keep and COMMITTED[j.status] and j.tech ~= tid then keep = false end
      if keep and j.tech ~= tid and in_list(tid, j.excluded or '') then keep = false end
      if keep then
        if not COMMITTED[j.status] and (j.tech ~= tid or j.status == 'new'
            or j.status == 'unassignable') then
          if j.tech ~= '' and j.tech ~= tid then withdraw(j, 'reassigned') end
          set_status(j, 'offered')
          j.tech = tid
          j.offer_n = (tonumber(j.offer_n) or 0) + 1
          j.deadline_ms = NOW + timeout_ms
          j.offered_ms = NOW
          -- Open offers by deadline: the sweep expires any whose timer job was lost.
          redis.call('ZADD', P .. 'offers', j.deadline_ms, jid)
          j.reason = ''
          local a = annot[jid] or {}
          -- recompute.payload encodes it; an offer from elsewhere has none.
          local cands = type(a.candidates) == 'string' and a.candidates or '[]'
          later[#later + 1] = {'offered', {job = j, tech = tid, n = j.offer_n,
            deadline_ms = j.deadline_ms, reason = a.reason or 'planned', cost = a.cost,
            rank = a.rank}, {candidates = cands}}
          offers[#offers + 1] = {jid, j.offer_n, j.deadline_ms}
        end
        j.eta_ms = s[2]
        save_job(j)
        kept[#kept + 1] = {j = jid, eta = s[2], start = s[3], ['end'] = s[4]}
        has[jid] = true
      end
    end
    put_route(tid, {v = version, at = NOW, stops = kept})
    written[tid] = kept
    -- Jobs this technician had that the plan gives to nobody: offer taken back.
    for _, s in ipairs(old[tid].stops) do
      if s.j and not has[s.j] and not target[s.j] then
        local j = job(s.j)
        if j and j.tech == tid and (j.status == 'offered' or j.status == 'assigned') then
          withdraw(j, unassigned[s.j] and 'unassignable' or 'replanned')
          set_status(j, 'new')
          j.tech = ''
          j.deadline_ms = ''
          j.eta_ms = ''
          save_job(j)
        end
      end
    end
  end
end

local newly = {}
for jid, why in pairs(unassigned) do
  local j = job(jid)
  -- "declined" with no technician excluded any more: a dispatcher's retry cleared them
  -- after this pass read the job; it is not the pass's to undo.
  local stale = why == 'declined' and (j and (j.excluded or '') == '')
  if j and not stale and not target[jid] and in_list(j.status, JR.unassignable)
      and (j.status ~= 'unassignable' or j.reason ~= why) then
    if j.tech ~= '' and (j.status == 'offered' or j.status == 'assigned') then
      withdraw(j, 'unassignable')
    end
    set_status(j, 'unassignable')
    j.reason = why
    j.tech = ''
    j.deadline_ms = ''
    j.eta_ms = ''
    save_job(j)
    newly[jid] = why
    later[#later + 1] = {'job_unassignable', {job = j, reason = why}}
  end
end

-- Where each technician was when planned (GPS drift is measured from there).
if type(plan.pos) == 'table' then
  for tid, pos in pairs(plan.pos) do
    if redis.call('EXISTS', P .. 'tech:' .. tid) == 1 then
      redis.call('HSET', P .. 'tech:' .. tid, 'plan_lat', pos[1], 'plan_lon', pos[2])
    end
  end
end
if type(plan.hist) == 'table' then
  for tid, csv in pairs(plan.hist) do
    -- (not for a technician removed while the pass ran)
    if redis.call('EXISTS', P .. 'tech:' .. tid) == 1 then
      redis.call('HSET', P .. 'hist', tid, csv)
    end
  end
end
redis.call('HSET', P .. 'plan', 'token', token, 'version', version, 'at', NOW,
  'moved', plan.moved or 0, 'planned', plan.planned or 0, 'reason', plan.reason or '',
  'carry', plan.carry or 0)
if plan.full then redis.call('HSET', P .. 'plan', 'full_at', NOW) end
local off = ''
if next(written) or next(newly) then
  off = emit('plan', {token = token, version = version, reason = plan.reason or '',
    moved = plan.moved or 0, planned = plan.planned or 0, routes = written,
    unassigned = newly})
end
for _, e in ipairs(later) do emit(e[1], e[2], e[3]) end
return ok({version = version, offers = offers, offset = off})
