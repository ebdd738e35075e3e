-- Shared by every dispatch script (prepended at load time).
-- KEYS[1] is the region's event stream "sb:{region:ID}:events"; every other key a script
-- touches shares its hash tag, so a region lives in one Redis Cluster slot.
-- ARGV[1] now_ms, ARGV[2] actor (token subject), ARGV[3] via (request channel).
-- Loaded once as a function library (queueing/luafn.py): begin sets the call's context
-- before each script body runs; nothing else here may change per call.
local P, NOW, ACTOR, VIA, REGION

local function begin(keys, args)
  P = string.sub(keys[1], 1, -7)
  NOW = tonumber(args[1])
  ACTOR = args[2]
  VIA = args[3]
  REGION = string.match(P, '{region:(.-)}')
end

local NUMERIC = {lat = true, lon = true, fix_ms = true, spd = true, acc = true,
  duration_s = true, win_start = true, win_end = true, priority = true, created_ms = true,
  offered_ms = true, accepted_ms = true, departed_ms = true, arrived_ms = true,
  ended_ms = true, eta_ms = true, offer_n = true, deadline_ms = true, rating = true,
  home_lat = true, home_lon = true, max_jobs = true, plan_lat = true, plan_lon = true,
  status_ms = true, size = true, arrive_m = true, ahead_ms = true}

local TERMINAL = {done = true, cancelled = true, failed = true}
local COMMITTED = {en_route = true, on_site = true}
-- Finished jobs stay a week (the customer's tracking page, the audit trail).
local RETAIN_S = 7 * 86400

local function fail(code, message)
  return {'err', code, message}
end

local function ok(tbl)
  return {'ok', cjson.encode(tbl)}
end

local function hgetall(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return nil end
  local t = {}
  for i = 1, #flat, 2 do
    local k, v = flat[i], flat[i + 1]
    if NUMERIC[k] and v ~= '' then t[k] = tonumber(v) else t[k] = v end
  end
  return t
end

local function job(id) return hgetall(P .. 'job:' .. id) end
local function tech(id) return hgetall(P .. 'tech:' .. id) end

local function save(key, t, fields)
  local args = {}
  for _, f in ipairs(fields) do
    args[#args + 1] = f
    args[#args + 1] = tostring(t[f] == nil and '' or t[f])
  end
  redis.call('HSET', key, unpack(args))
end

-- `raw` (optional): field -> JSON text, spliced into the entry as it is. cjson writes an
-- empty table as {}, so a list that may be empty comes from Python already encoded.
local function emit(etype, data, raw)
  local d = cjson.encode(data)
  for k, v in pairs(raw or {}) do
    d = string.sub(d, 1, -2) .. (d == '{}' and '' or ',') .. cjson.encode(k) .. ':' .. v .. '}'
  end
  return redis.call('XADD', P .. 'events', '*', 't', etype, 'ts', NOW, 'a', ACTOR, 'ch', VIA,
    'd', d)
end

local function in_list(value, csv)
  for s in string.gmatch(csv, '[^,]+') do
    if s == value then return true end
  end
  return false
end

-- Mark technicians whose neighbourhood the next recompute re-plans ('*': the whole
-- region). New and released jobs go to the "pending" set instead (see set_status).
local function dirty(member)
  if member and member ~= '' then redis.call('SADD', P .. 'dirty', member) end
end

-- A job changes status: keep the open and pending sets and the organisation's and batch's
-- counts by status in the same step (dashboards read counts without scanning jobs).
local function set_status(j, to)
  local from = j.status
  if from == to then return end
  j.status = to
  j.status_ms = NOW
  if j.org and j.org ~= '' then
    if from and from ~= '' then redis.call('HINCRBY', P .. 'orgstat:' .. j.org, from, -1) end
    redis.call('HINCRBY', P .. 'orgstat:' .. j.org, to, 1)
  end
  if j.batch and j.batch ~= '' then
    if from and from ~= '' then redis.call('HINCRBY', P .. 'bstat:' .. j.batch, from, -1) end
    redis.call('HINCRBY', P .. 'bstat:' .. j.batch, to, 1)
  end
  if TERMINAL[to] then
    redis.call('SREM', P .. 'open', j.id)
    redis.call('ZREM', P .. 'jgeo', j.id)
    redis.call('EXPIRE', P .. 'job:' .. j.id, RETAIN_S)
  else
    redis.call('SADD', P .. 'open', j.id)
  end
  if from == 'offered' then redis.call('ZREM', P .. 'offers', j.id) end
  -- "pending": jobs waiting for a technician; the recompute's hot path inserts them.
  if to == 'new' then
    redis.call('SADD', P .. 'pending', j.id)
  else
    redis.call('SREM', P .. 'pending', j.id)
  end
end

local JOB_FIELDS = {'status', 'status_ms', 'tech', 'eta_ms', 'offer_n', 'deadline_ms',
  'offered_ms', 'accepted_ms', 'departed_ms', 'arrived_ms', 'ended_ms', 'reason', 'excluded',
  'arrive_m'}

local function save_job(j)
  save(P .. 'job:' .. j.id, j, JOB_FIELDS)
end

local function set_tech_status(t, to)
  t.status = to
  t.status_ms = NOW
  redis.call('HSET', P .. 'tech:' .. t.id, 'status', to, 'status_ms', NOW, 'active',
    t.active or '')
end

local function tech_brief(t)
  return {id = t.id, status = t.status, active = t.active or ''}
end

-- Routes: "route:<tech>" holds {v, at, stops = [{j, eta, start, end}]}.
local function get_route(tid)
  local raw = redis.call('GET', P .. 'route:' .. tid)
  if not raw then return {v = 0, at = 0, stops = {}} end
  local r = cjson.decode(raw)
  if type(r.stops) ~= 'table' then r.stops = {} end
  return r
end

local function put_route(tid, r)
  if #r.stops == 0 then
    redis.call('SET', P .. 'route:' .. tid, cjson.encode({v = r.v, at = r.at, stops = {}}))
    -- cjson writes an empty table as {}: readers treat both as an empty list.
  else
    redis.call('SET', P .. 'route:' .. tid, cjson.encode(r))
  end
end

-- Remove a job from a technician's route; returns true if it was there.
local function route_remove(tid, jid)
  if not tid or tid == '' then return false end
  local r = get_route(tid)
  local kept, found = {}, false
  for _, s in ipairs(r.stops) do
    if s.j == jid then found = true else kept[#kept + 1] = s end
  end
  if found then
    r.stops = kept
    r.at = NOW
    put_route(tid, r)
  end
  return found
end

-- A technician has declined or let an offer for this job expire: never offer it again.
local function exclude(j, tid)
  if not in_list(tid, j.excluded or '') then
    if j.excluded and j.excluded ~= '' then j.excluded = j.excluded .. ',' .. tid
    else j.excluded = tid end
  end
end

-- The offer is over without an acceptance (decline / expiry): the job is pending again and
-- the recompute's hot path inserts it at the cheapest technician left (the next candidate
-- by marginal insertion cost); this technician is excluded from it.
local function release_offer(j, etype, reason)
  local tid = j.tech
  exclude(j, tid)
  route_remove(tid, j.id)
  set_status(j, 'new')
  j.tech = ''
  j.deadline_ms = ''
  j.eta_ms = ''
  save_job(j)
  return emit(etype, {job = j, tech = tid, n = j.offer_n, reason = reason})
end

local function expired(j)
  return j.status == 'offered' and tonumber(j.deadline_ms) and NOW >= tonumber(j.deadline_ms)
end
