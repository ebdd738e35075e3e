-- Places taken per quota group, the waitlist (its people's groups, in order) and suspension
-- of slots (read only).
-- ARGV[4..]: one "slot|resource|start_ms|end_ms|group,group" per slot.
local out = {}
for i = 4, #ARGV do
  local slot, res, s, e, groups = string.match(ARGV[i], '([^|]+)|([^|]+)|([^|]+)|([^|]+)|(.*)')
  local taken = {}
  for _, g in ipairs(split(groups, ',')) do
    taken[g] = redis.call('ZCOUNT', BK .. 'sl:' .. slot .. ':' .. g, '(' .. NOW, '+inf')
  end
  local wl = bk_waitlist_groups(slot)
  out[#out + 1] = {taken = taken, waitlist = #wl > 0 and wl or cjson.null, waiting = #wl,
    suspended = bk_suspended(res, tonumber(s), tonumber(e)) or false}
end
return ok({slots = out})
