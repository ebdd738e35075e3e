-- Booking helpers, prepended (after queueing/lua/prelude.lua) to every booking script.
-- Keys live under the site's hash tag: P .. 'bk:…'. Layout (see docs/appointments.md):
--   bk:b:<id>            booking hash            bk:sl:<slot>:<group>  places taken (zset)
--   bk:wl:<slot>         waitlist (zset by seq)  bk:sc:<slot>          slot spec, for offers
--   bk:cu:<customer>     the customer's bookings bk:code:<code>        code -> booking id
--   bk:nt:<number>       bookings texted at a number (notify; zset by start), for texts
--                        from it; as long as the booking
--   bk:due               time-triggered side effects (reminders, expiries, no-shows)
--   bk:sus:<resource>    suspensions of a resource (id -> "from|until")
--   bk:sp:<id>           a suspension (hash; :all, :pending sets, :answers hash)
--   bk:spu               suspensions by end (until_ms); a suspension's keys live as long as
--                        it lists them (bk_sp_keep). bk:sps (by creation, before 2026-12)
--                        is moved into it once (spmigrate.lua)
-- A place is a member of bk:sl:<slot>:<group> scored by the time it lapses: a hold's or an
-- offer's deadline, or INF once confirmed. Places taken = ZCOUNT(score > NOW), so a hold
-- whose TTL passed is free again without any job having run.
local BK, DUE  -- per call: P .. 'bk:'; due entries this call added ({member, due_ms}: the
               -- engine makes sure an arq job runs at each time, queueing/booking/jobs.py)
local OFFER_FROM  -- per call: when an offer made now can reach its person (bk_offer_ms)
local INF = 9e15
local RETAIN_MS = 7 * 86400 * 1000
-- bk:spu lists a suspension this long past its end, and its keys (bk:sp:<id>…) live as long:
-- the day log's and the audit trail's 31 days, so the suspension of any day they still show
-- can be read.
local SPU_KEEP_MS = 31 * 86400 * 1000

local queue_begin = begin
begin = function(keys, args)
  queue_begin(keys, args)
  BK = P .. 'bk:'
  DUE = {}
  OFFER_FROM = 0
end

-- An offer argument "offer_ms" or "offer_ms@from_ms" (engine.offer_arg): ``from_ms`` is the
-- end of the site's quiet hours when the call is made in them (queueing/booking/quiet.py):
-- an offer made then is texted at that time, and its offer_ms count from it.
local function bk_offer_ms(arg)
  local ms, from = string.match(arg or '', '^(%d+)@?(%d*)$')
  OFFER_FROM = tonumber(from) or 0
  return tonumber(ms)
end

local BNUM = {start_ms = true, end_ms = true, order_ms = true, hold_until = true,
  offer_until = true, created_ms = true, confirmed_ms = true, ended_ms = true, v = true,
  late = true, answered = true, checked_in_ms = true, reminded = true}

local BFIELDS = {'id', 'site', 'code', 'slot', 'service', 'resource', 'start_ms', 'end_ms',
  'order_ms', 'customer', 'channel', 'grp', 'notify', 'status', 'hold_until', 'offer_until',
  'created_ms', 'confirmed_ms', 'ended_ms', 'checked_in_ms', 'ticket', 'v', 'due', 'by',
  'susp', 'answered', 'alts', 'late', 'reminded', 'lang'}

local function bk_get(id)
  local flat = redis.call('HGETALL', BK .. 'b:' .. id)
  if #flat == 0 then return nil end
  local b = {}
  for i = 1, #flat, 2 do
    local k, v = flat[i], flat[i + 1]
    if BNUM[k] then b[k] = tonumber(v) or 0 else b[k] = v end
  end
  return b
end

-- Save `fields` of booking b (all by default). `skip_empty` leaves out unset fields (a new
-- booking: fewer arguments to convert on the hot path).
local function bk_save(b, fields, skip_empty)
  local args = {}
  for _, f in ipairs(fields or BFIELDS) do
    local v = b[f]
    if v ~= nil or not skip_empty then
      args[#args + 1] = f
      -- Numeric fields are whole (ms, counters): printf's integer path.
      args[#args + 1] = v == nil and '' or (BNUM[f] and int(v) or tostring(v))
    end
  end
  redis.call('HSET', BK .. 'b:' .. b.id, unpack(args))
end

local function bk_emit(kind, b, extra)
  local data = extra or {}
  data.booking = b
  return emit('booking_' .. kind, data)
end

-- "service|resource|start_ms|end_ms|capacity|quotas" (engine.slot_spec).
local function bk_slot_args(spec)
  local svc, res, s, e, cap, q = string.match(spec, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
  return svc, res, tonumber(s), tonumber(e), tonumber(cap), q
end

-- "hold_ms|max_open|grace_ms|offer_ms|offsets" (engine.Schedule.args).
local function bk_policy_args(spec)
  local h, m, g, o, offs = string.match(spec, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
  return tonumber(h), tonumber(m), tonumber(g), tonumber(o), offs
end

local function split(s, sep)
  local out = {}
  if not s or s == '' then return out end
  for part in string.gmatch(s, '[^' .. sep .. ']+') do out[#out + 1] = part end
  return out
end

-- Quota spec "q0:2:1795000000000;q1:1:…" (group:reserved:release_ms), as
-- queueing.booking.schedule.QuotaGroup.
local function bk_quotas(spec)
  local out = {}
  for _, item in ipairs(split(spec, ';')) do
    local g, r, rel = string.match(item, '([^:]+):([^:]+):([^:]+)')
    out[#out + 1] = {g = g, r = tonumber(r), rel = tonumber(rel)}
  end
  return out
end

local function bk_taken(slot, quotas)
  local key = BK .. 'sl:' .. slot .. ':'
  local t = {g = redis.call('ZCOUNT', key .. 'g', '(' .. NOW_S, '+inf')}
  for _, q in ipairs(quotas) do t[q.g] = redis.call('ZCOUNT', key .. q.g, '(' .. NOW_S, '+inf') end
  return t
end

-- Places group `grp` may still take: queueing.booking.quota.free.
local function bk_free(cap, quotas, taken, grp)
  local need, extra = taken.g, 0
  for _, q in ipairs(quotas) do
    local tq = taken[q.g]
    if NOW >= q.rel then
      need = need + tq
    else
      need = need + math.max(tq, q.r)
      if q.g == grp then extra = math.max(0, q.r - tq) end
    end
  end
  return math.max(0, cap - need + extra)
end

local function bk_free_total(cap, quotas, taken)
  local n = taken.g
  for _, q in ipairs(quotas) do n = n + taken[q.g] end
  return math.max(0, cap - n)
end

-- Groups of the people waiting on `slot`'s waitlist, in order.
local function bk_waitlist_groups(slot)
  local out = {}
  for _, id in ipairs(redis.call('ZRANGE', BK .. 'wl:' .. slot, 0, -1)) do
    local st, grp = unpack(redis.call('HMGET', BK .. 'b:' .. id, 'status', 'grp'))
    if st == 'waitlisted' then out[#out + 1] = grp or 'g' end
  end
  return out
end

-- The waitlist comes first: in order, each person whose group may take a place takes one
-- (quota.after_waitlist). `taken` is changed in place.
local function bk_after_waitlist(cap, quotas, taken, groups)
  for _, grp in ipairs(groups) do
    if bk_free_total(cap, quotas, taken) < 1 then break end
    if bk_free(cap, quotas, taken, grp) >= 1 then
      local g = taken[grp] ~= nil and grp or 'g'
      taken[g] = taken[g] + 1
    end
  end
  return taken
end

-- Can a newcomer of group `grp` take a place? nil, or the refusal (quota.check_new).
local function bk_refusal(slot, cap, quotas, grp)
  local taken = bk_after_waitlist(cap, quotas, bk_taken(slot, quotas), bk_waitlist_groups(slot))
  if bk_free(cap, quotas, taken, grp) >= 1 then return nil end
  if bk_free_total(cap, quotas, taken) >= 1 then
    return fail('channel_quota', 'the places left in ' .. slot ..
      ' are held for other channels until their quota is released')
  end
  return fail('slot_full', 'slot ' .. slot .. ' is full')
end

-- The status at NOW: queueing.booking.rules.effective_status.
local function bk_eff(b, grace_ms)
  local s = b.status
  if s == 'held' and NOW >= b.hold_until then return 'expired' end
  if s == 'offered' and NOW >= b.offer_until then return 'expired' end
  if s == 'waitlisted' and NOW >= b.start_ms then return 'expired' end
  if s == 'confirmed' and NOW >= b.start_ms + grace_ms then return 'no_show' end
  return s
end

-- What an expired booking was before it lapsed, 'held' or 'offered' (nil otherwise): the same
-- answer (hold_expired, offer_expired) whether or not the lapse job has run yet.
local function bk_lapsed_from(b)
  if b.status == 'held' or b.status == 'offered' then return b.status end
  if b.status ~= 'expired' then return nil end
  if (b.offer_until or 0) > 0 then return 'offered' end
  if (b.hold_until or 0) > 0 then return 'held' end
  return nil
end

local function bk_is_open(st)
  return st == 'held' or st == 'confirmed' or st == 'offered'
end

-- One person never holds two overlapping bookings nor more than max_open open ones.
-- Returns the refusal or nil, and how many bookings the person's list holds.
local function bk_customer_check(customer, slot, start_ms, end_ms, exclude, max_open, grace_ms)
  local open = 0
  local ids = redis.call('ZRANGE', BK .. 'cu:' .. customer, 0, -1)
  for _, id in ipairs(ids) do
    local o = id ~= exclude and bk_get(id)
    if o then
      local st = bk_eff(o, grace_ms)
      if bk_is_open(st) then
        open = open + 1
        if o.start_ms < end_ms and o.end_ms > start_ms then
          -- Never the other booking's code: it is that booking's check-in credential, and
          -- whoever knows a customer id (a phone number) could ask for it.
          return fail('overlap', 'the customer already holds a booking at an overlapping time')
        end
      elseif st == 'waitlisted' and o.slot == slot then
        return fail('overlap', 'customer is already on the waitlist of ' .. slot)
      end
    end
  end
  if open >= max_open then
    return fail('too_many_bookings', 'customer already has ' .. open .. ' open bookings')
  end
  return nil, #ids
end

-- A suspension of `resource` overlapping [start, end), or nil.
local function bk_suspended(resource, start_ms, end_ms)
  local flat = redis.call('HGETALL', BK .. 'sus:' .. resource)
  for i = 1, #flat, 2 do
    local f, u = string.match(flat[i + 1], '([^|]+)|([^|]+)')
    if tonumber(f) < end_ms and tonumber(u) > start_ms then return flat[i] end
  end
  return nil
end

local function bk_version_check(ver)
  if (redis.call('GET', BK .. 'ver') or '') ~= ver then
    return fail('schedule_changed', 'the booking schedule changed; retry')
  end
  return nil
end

-- Lifetimes run on the engine's clock (NOW), not Redis's: a relative PEXPIRE, so a key
-- lives as long as the engine's time says, whatever the wall clock of the Redis host.
local function bk_expire_at(key, at_ms)
  local ttl = math.max(1, at_ms - NOW)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, int(ttl)) end
end

-- Remember the slot's capacity and quotas, so scripts that free a place can offer it; and
-- index the slot by the UTC date of its start (sd:YYYYMMDD, scored by start): a day's
-- appointment list finds every slot that holds bookings, also one a later schedule dropped.
local function bk_spec_save(slot, cap, start_ms, end_ms, quota_spec)
  local key = BK .. 'sc:' .. slot
  redis.call('SET', key, cap .. '|' .. start_ms .. '|' .. end_ms .. '|' .. quota_spec,
    'PX', int(math.max(1, end_ms + RETAIN_MS - NOW)))
  local day = string.match(slot, '(%d%d%d%d%d%d%d%d)T%d%d%d%dZ$')
  if day then
    redis.call('ZADD', BK .. 'sd:' .. day, start_ms, slot)
    bk_expire_at(BK .. 'sd:' .. day, end_ms + RETAIN_MS)
  end
end

local function bk_spec(slot)
  local raw = redis.call('GET', BK .. 'sc:' .. slot)
  if not raw then return nil end
  local cap, s, e, q = string.match(raw, '([^|]*)|([^|]*)|([^|]*)|(.*)')
  return {cap = tonumber(cap), start_ms = tonumber(s), end_ms = tonumber(e), quotas = bk_quotas(q)}
end

-- 0..4095 from a booking id's last three hex digits (ids end in random hex). Sorted sets
-- whose members share a score (every confirmed place of a slot; the reminders of a slot)
-- order ties by comparing member strings, a memory access per skip-list level: spread over
-- 4,096 values, inserts compare scores only. bk:due scores are due_ms + tie/4096 (exact
-- in a double); readers take floor(score) as the due time.
local function bk_tie(id)
  return tonumber(string.sub(id, -3), 16) or 0
end

-- Time-triggered side effects: reminders r|id|offset_s|start, expiry x|id|v, no-show n|id|v,
-- a waitlisted booking's look at its slot when a quota is released w|id|release_ms.
-- The booking's `due` field lists them all, "member@due_ms,…", and is the truth: an entry
-- fires once, by the script that removes it from that list. bk:due indexes only each
-- booking's next entry (the sweep's view of what is due; one insert per booking, not one
-- per entry, into a set as large as all open bookings); firing an entry indexes the next.
-- Every entry still gets its arq job when it is planned (DUE).
local function bk_due_add(b, member, at)
  DUE[#DUE + 1] = {member, at}
  local entry = member .. '@' .. int(at)
  b.due = (b.due == nil or b.due == '') and entry or (b.due .. ',' .. entry)
end

-- {member, at} of every entry of b.due (at nil for an entry written before due times were
-- listed: its time is its bk:due score).
local function bk_due_list(b)
  local out = {}
  if not b.due or b.due == '' then return out end
  for item in string.gmatch(b.due, '[^,]+') do
    local m, at = string.match(item, '^([^@]+)@?(%d*)$')
    out[#out + 1] = {m, tonumber(at)}
  end
  return out
end

-- "member@due_ms,…" of entries {member, at} (an entry without its time stays bare).
local function bk_due_join(entries)
  local out = {}
  for _, e in ipairs(entries) do out[#out + 1] = e[2] and (e[1] .. '@' .. int(e[2])) or e[1] end
  return table.concat(out, ',')
end

-- Index the earliest of b's entries in bk:due (`entries`, default all of b.due; DUE[from..]).
local function bk_due_index(b, entries, from)
  local first
  entries = entries or bk_due_list(b)
  for i = from or 1, #entries do
    local e = entries[i]
    if e[2] and (not first or e[2] < first[2]) then first = e end
  end
  if first then redis.call('ZADD', BK .. 'due', first[2] + bk_tie(b.id) / 4096, first[1]) end
end

-- Keys of one slot all live until its end + RETAIN_MS: one PEXPIRE, no PTTL check.
local function bk_slot_expire(key, end_ms)
  redis.call('PEXPIRE', key, int(math.max(1, end_ms + RETAIN_MS - NOW)))
end

-- b.v changed without a new plan (a suspension reached it): its lapse and no-show entries
-- name the version they were planned for, so they take the new one (times unchanged;
-- their jobs are per time, so nothing else changes).
local function bk_due_reversion(b)
  local old, entries = {}, bk_due_list(b)
  for _, e in ipairs(entries) do
    local kind = string.sub(e[1], 1, 1)
    if kind == 'x' or kind == 'n' then
      old[#old + 1] = e[1]
      e[2] = e[2] or math.floor(tonumber(redis.call('ZSCORE', BK .. 'due', e[1]) or NOW))
      e[1] = kind .. '|' .. b.id .. '|' .. b.v
    end
  end
  if #old > 0 then redis.call('ZREM', BK .. 'due', unpack(old)) end
  b.due = bk_due_join(entries)
  bk_due_index(b, entries)
end

local function bk_due_clear(b)
  local members = {}
  for _, e in ipairs(bk_due_list(b)) do members[#members + 1] = e[1] end
  if #members > 0 then redis.call('ZREM', BK .. 'due', unpack(members)) end
  b.due = ''
end

-- After a change: what must happen later, for the booking's current status.
local function bk_due_plan(b, offsets_csv, grace_ms)
  local n0 = #DUE
  if b.status == 'held' then
    bk_due_add(b, 'x|' .. b.id .. '|' .. b.v, b.hold_until)
  elseif b.status == 'offered' then
    bk_due_add(b, 'x|' .. b.id .. '|' .. b.v, b.offer_until)
  elseif b.status == 'waitlisted' then
    bk_due_add(b, 'x|' .. b.id .. '|' .. b.v, b.start_ms)
    -- A quota's release opens its places to the waitlist: look again then (w|id|release).
    local spec = bk_spec(b.slot)
    for _, q in ipairs(spec and spec.quotas or {}) do
      if q.rel > NOW and q.rel < b.start_ms then
        bk_due_add(b, 'w|' .. b.id .. '|' .. int(q.rel), q.rel)
      end
    end
  elseif b.status == 'confirmed' then
    -- Reminders still in the future (queueing.booking.rules.reminders), then the no-show.
    for _, off in ipairs(split(offsets_csv, ',')) do
      local at = b.start_ms - tonumber(off) * 1000
      if at > NOW then bk_due_add(b, 'r|' .. b.id .. '|' .. off .. '|' .. b.start_ms, at) end
    end
    bk_due_add(b, 'n|' .. b.id .. '|' .. b.v, b.start_ms + grace_ms)
  end
  bk_due_index(b, DUE, n0 + 1)  -- the entries just added
end

-- The score of a confirmed place: INF plus a tie-breaker (see bk_tie), still > any NOW.
local function bk_kept(id)
  return INF + bk_tie(id)
end

local function bk_place_key(b)
  return BK .. 'sl:' .. b.slot .. ':' .. b.grp
end

-- Free places of `slot` go to its waitlist, in order (the first whose channel may take one).
local function bk_offer_next(slot, offer_ms, grace_ms)
  local spec = bk_spec(slot)
  -- Offered from when its person can be told (quiet hours end), to nobody if the slot
  -- starts by then: the place stays free for the waitlist, who may still confirm it.
  local from = math.max(NOW, OFFER_FROM or 0)
  if not spec or from >= spec.start_ms then return end
  local wl = BK .. 'wl:' .. slot
  for _, id in ipairs(redis.call('ZRANGE', wl, 0, -1)) do
    local w = bk_get(id)
    if not w or w.status ~= 'waitlisted' then
      redis.call('ZREM', wl, id)
    else
      local taken = bk_taken(slot, spec.quotas)
      if bk_free_total(spec.cap, spec.quotas, taken) < 1 then return end
      if bk_free(spec.cap, spec.quotas, taken, w.grp) >= 1 then
        redis.call('ZREM', wl, id)
        w.status = 'offered'
        w.offer_until = math.min(from + offer_ms, spec.start_ms)
        w.v = w.v + 1
        redis.call('ZADD', bk_place_key(w), w.offer_until, id)
        bk_due_clear(w)
        bk_due_plan(w, '', grace_ms)
        bk_save(w, {'status', 'offer_until', 'v', 'due'})
        bk_emit('offered', w)
      end
    end
  end
end

-- A suspension's keys (hash, :all, :pending, :answers once made) live until SPU_KEEP_MS
-- past its end, when bk:spu stops listing it.
local SP_KEYS = {'', ':all', ':pending', ':answers'}
local function bk_sp_keep(sid, until_ms)
  local ttl = int(math.max(1, until_ms + SPU_KEEP_MS - NOW))
  for _, suffix in ipairs(SP_KEYS) do
    redis.call('PEXPIRE', BK .. 'sp:' .. sid .. suffix, ttl)
  end
end

-- Record booking `id`'s answer to suspension `sid`: the answers hash, made by the first
-- answer, lives as long as the suspension's hash.
local function bk_sp_answer(sid, id, how)
  local key = BK .. 'sp:' .. sid
  redis.call('HSET', key .. ':answers', id, how)
  local ttl = redis.call('PTTL', key)
  if ttl > 0 then redis.call('PEXPIRE', key .. ':answers', ttl) end
end

-- A suspension the booking must still answer is answered by this change.
local function bk_answer(b, how)
  if b.susp and b.susp ~= '' and b.answered ~= 1 then
    b.answered = 1
    redis.call('SREM', BK .. 'sp:' .. b.susp .. ':pending', b.id)
    bk_sp_answer(b.susp, b.id, how)
    return b.susp
  end
  return nil
end

-- Checked-in bookings whose ticket still waits (a suspension reaches them too).
local function bk_ticket_waiting(b)
  if b.status ~= 'checked_in' or not b.ticket or b.ticket == '' then return false end
  local st = redis.call('HGET', P .. 't:' .. b.ticket, 'status')
  return st == 'waiting' or st == 'transferred'
end

-- Every booking of `slots` a suspension affects: holding a place, waiting for one, or
-- checked in with a ticket still waiting.
-- Every booking placed (any quota group) or waitlisted in these slots, each once, in slot
-- order: `keep(b)` chooses (bookings gone from the store are skipped).
local function bk_slot_bookings(slots, keep)
  local out, seen = {}, {}
  for _, slot in ipairs(slots) do
    local spec = bk_spec(slot)
    if spec then
      local keys = {BK .. 'sl:' .. slot .. ':g', BK .. 'wl:' .. slot}
      for _, q in ipairs(spec.quotas) do keys[#keys + 1] = BK .. 'sl:' .. slot .. ':' .. q.g end
      for _, key in ipairs(keys) do
        for _, id in ipairs(redis.call('ZRANGE', key, 0, -1)) do
          local b = not seen[id] and bk_get(id)
          if b then
            seen[id] = true
            if keep(b) then out[#out + 1] = b end
          end
        end
      end
    end
  end
  return out
end

local function bk_affected(slots, grace_ms)
  return bk_slot_bookings(slots, function(b)
    local st = bk_eff(b, grace_ms)
    return bk_is_open(st) or st == 'waitlisted' or bk_ticket_waiting(b)
  end)
end

local function bk_result(tbl)
  tbl.due = DUE
  return ok(tbl)
end

-- bk_result for {booking = b, offset = off} + `extra`, where `json` is the event data
-- {"booking": b} bk_emit just encoded: the booking is not encoded a second time.
local function bk_result_json(json, off, extra)
  local head = extra or {}
  head.offset = off
  head.due = DUE
  return {'ok', string.sub(cjson.encode(head), 1, -2) .. ',' .. string.sub(json, 2)}
end
