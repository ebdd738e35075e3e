-- Book a place (or a hold, or a waitlist entry). ARGV[4..]: id, candidate codes (csv),
-- slot, slot spec (service|resource|start_ms|end_ms|capacity|quotas), quota group,
-- customer, channel, notify, flags (hold, waitlist: "10"), policy
-- (hold_ms|max_open|grace_ms|offer_ms|reminder offsets), idem key, fingerprint,
-- idem_ttl_s, schedule version, site, lang (the page's, for its texts; '' none).
-- Everything is checked before the first write.
local id, codes, slot = ARGV[4], ARGV[5], ARGV[6]
local svc, res, start_ms, end_ms, cap, qspec = bk_slot_args(ARGV[7])
local grp, customer, channel, notify = ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local hold, waitlist = string.sub(ARGV[12], 1, 1) == '1', string.sub(ARGV[12], 2, 2) == '1'
local hold_ms, max_open, grace_ms, _, offsets = bk_policy_args(ARGV[13])
local idem, fp, idem_ttl, ver, site = ARGV[14], ARGV[15], tonumber(ARGV[16]), ARGV[17], ARGV[18]
local lang = ARGV[19] or ''

if idem ~= '' then
  local prior = redis.call('GET', BK .. 'idem:' .. idem)
  if prior then
    local sep = string.find(prior, '|', 1, true)
    if string.sub(prior, sep + 1) ~= fp then
      return fail('idempotency_mismatch', 'Idempotency-Key was used with a different request')
    end
    local b = bk_get(string.sub(prior, 1, sep - 1))
    if b then return bk_result({booking = b, replay = true}) end
  end
end
local err = bk_version_check(ver)
if err then return err end
local sid = bk_suspended(res, start_ms, end_ms)
if sid then
  return fail('resource_suspended', res .. ' is suspended at that time (' .. sid .. ')')
end
local listed
err, listed = bk_customer_check(customer, slot, start_ms, end_ms, '', max_open, grace_ms)
if err then return err end
local quotas = bk_quotas(qspec)
local refusal = bk_refusal(slot, cap, quotas, grp)
-- A waitlist is for a full slot. Places held for other channels are not "full": waiting for
-- them would block the channel they are held for (the waitlist comes first) without ever
-- being able to take them, so that answer stays channel_quota, waitlist or not.
if refusal and (not waitlist or refusal[2] == 'channel_quota') then return refusal end
-- The last check is also the first write: a code is taken by SET NX.
local keep = end_ms + RETAIN_MS
local code
for _, c in ipairs(split(codes, ',')) do
  if redis.call('SET', BK .. 'code:' .. c, id, 'PX', int(math.max(1, keep - NOW)), 'NX') then
    code = c
    break
  end
end
if not code then return fail('unavailable', 'could not allocate a booking code; retry') end

-- Checks done: write.
local b = {id = id, site = site, code = code, slot = slot, service = svc, resource = res,
  start_ms = start_ms, end_ms = end_ms, order_ms = start_ms, customer = customer,
  channel = channel, grp = grp, notify = notify, created_ms = NOW, v = 1, due = '',
  by = ACTOR, answered = 0, late = 0, reminded = 0, lang = lang ~= '' and lang or nil}
if refusal then
  b.status = 'waitlisted'
  local seq = redis.call('INCR', BK .. 'wlseq')
  redis.call('ZADD', BK .. 'wl:' .. slot, seq, id)
  bk_slot_expire(BK .. 'wl:' .. slot, end_ms)
elseif hold then
  b.status = 'held'
  b.hold_until = math.min(NOW + hold_ms, start_ms)
  redis.call('ZADD', bk_place_key(b), b.hold_until, id)
else
  b.status = 'confirmed'
  b.confirmed_ms = NOW
  redis.call('ZADD', bk_place_key(b), bk_kept(id), id)
end
bk_slot_expire(bk_place_key(b), end_ms)
bk_spec_save(slot, cap, start_ms, end_ms, qspec)
redis.call('ZADD', BK .. 'cu:' .. customer, int(start_ms), id)
if listed == 0 then  -- a new list: no lifetime to compare with
  redis.call('PEXPIRE', BK .. 'cu:' .. customer, int(math.max(1, keep - NOW)))
else
  bk_expire_at(BK .. 'cu:' .. customer, keep)
end
if notify ~= '' then  -- the number's bookings, for texts from it (realtime/sms_bookings.py)
  redis.call('ZADD', BK .. 'nt:' .. notify, int(start_ms), id)
  bk_expire_at(BK .. 'nt:' .. notify, keep)
end
if idem ~= '' then
  redis.call('SET', BK .. 'idem:' .. idem, id .. '|' .. fp, 'EX', idem_ttl)
end
bk_due_plan(b, offsets, grace_ms)
bk_save(b, nil, true)
redis.call('PEXPIRE', BK .. 'b:' .. id, int(math.max(1, keep - NOW)))
local off, json = bk_emit(b.status, b)
local extra = {}
if b.status == 'waitlisted' then extra.waitlist_position = redis.call('ZRANK', BK .. 'wl:' .. slot, id) + 1 end
return bk_result_json(json, off, extra)
