-- Compare-and-set the KPI checkpoint (dispatch/checkpoint.py). ARGV[4]: SHA-1 of the
-- checkpoint as the caller read it ('' : there was none), ARGV[5]: the checkpoint to write
-- ('' : only compare). Written only if the stored one is still the one read: a fold that
-- started from an older checkpoint (another worker's, an erasure's) is refused, so it can
-- neither move the checkpoint back nor replace it with one computed from a stream some of
-- whose entries were deleted since. `same` says whether it was still the one read.
local key = P .. 'kpi'
local cur = redis.call('GET', key)
if (cur and redis.sha1hex(cur) or '') ~= ARGV[4] then return ok({same = false}) end
if ARGV[5] ~= '' then redis.call('SET', key, ARGV[5]) end
return ok({same = true})
