-- Create or replace a site's configuration (idempotent). ARGV[4]: config JSON,
-- ARGV[5]: {service: prefix} JSON, ARGV[6]: {counter: {services, weights}} JSON,
-- ARGV[7]: policy JSON {factor, recall_max, no_show_after, no_show_returns, no_show_back,
-- undo_window_s}, ARGV[8]: epoch
-- to use if the site has none, ARGV[9]: {class: "rank|preempt"} JSON, ARGV[10]: '' or the
-- SHA-1 of the stored config the caller checked its version against (a PUT with `version`):
-- refused with site_changed unless the site is still exactly that, so the check and the
-- write are one step.
if ARGV[10] ~= '' and redis.sha1hex(redis.call('GET', P .. 'config') or '') ~= ARGV[10] then
  return fail('site_changed', 'the site was saved by someone else meanwhile')
end
local cfg, svcs, ctrs, pol = ARGV[4], cjson.decode(ARGV[5]), cjson.decode(ARGV[6]),
  cjson.decode(ARGV[7])
-- A service goes only once none of its tickets is open: one left waiting, at a counter or
-- parked would be stranded in a service that no longer exists.
local old_svcs = redis.call('HKEYS', P .. 'svc')
local gone = {}
for _, s in ipairs(old_svcs) do
  if not svcs[s] then
    if redis.call('ZCARD', P .. 'q:' .. s) > 0 then
      return fail('service_in_use', 'service ' .. s .. ' still has waiting tickets')
    end
    gone[s] = true
  end
end
if next(gone) then
  for _, id in ipairs(unqueued()) do
    local h = redis.call('HMGET', P .. 't:' .. id, 'service', 'number', 'status')
    if h[1] and gone[h[1]] then
      return fail('service_in_use', 'service ' .. h[1] .. ' still has ticket ' .. h[2] ..
        ' (' .. h[3] .. ')')
    end
  end
end
local old_ctrs = redis.call('HKEYS', P .. 'ctr')
for _, c in ipairs(old_ctrs) do
  if not ctrs[c] then
    local cur = redis.call('HGET', P .. 'cs:' .. c, 'ticket')
    if cur and cur ~= '' then
      return fail('counter_busy', 'counter ' .. c .. ' still has ticket ' .. cur)
    end
  end
end
local same = redis.call('GET', P .. 'config') == cfg
redis.call('SET', P .. 'config', cfg)
redis.call('DEL', P .. 'svc', P .. 'ctr')
for s, prefix in pairs(svcs) do redis.call('HSET', P .. 'svc', s, prefix) end
for c, spec in pairs(ctrs) do
  redis.call('HSET', P .. 'ctr', c, cjson.encode(spec))
  redis.call('HSETNX', P .. 'cs:' .. c, 'state', 'closed')
  redis.call('HSETNX', P .. 'cs:' .. c, 'ticket', '')
end
for _, c in ipairs(old_ctrs) do
  if not ctrs[c] then
    -- A counter taken out while open or paused is closed, so the day's figures (and the
    -- screens) stop counting it open.
    local was = redis.call('HGET', P .. 'cs:' .. c, 'state')
    if was and was ~= 'closed' then
      emit('counter_closed', {counter = c, state = 'closed', from = was, current = '',
        removed = true})
    end
    redis.call('DEL', P .. 'cs:' .. c)
  end
end
redis.call('DEL', P .. 'cls')
for c, spec in pairs(cjson.decode(ARGV[9])) do redis.call('HSET', P .. 'cls', c, spec) end
redis.call('HSET', P .. 'policy', 'factor', pol.factor, 'recall_max', pol.recall_max,
  'no_show_after', pol.no_show_after, 'no_show_returns', pol.no_show_returns,
  'no_show_back', pol.no_show_back, 'undo_window_s', pol.undo_window_s)
local created = redis.call('SET', P .. 'epoch', ARGV[8], 'NX')
if same and not created then return ok({changed = false}) end
local off = emit('site_updated', {config = cjson.decode(cfg)})
return ok({changed = true, created = created and true or false, offset = off})
