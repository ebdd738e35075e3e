-- Suspensions made before 2026-12-07 are indexed by creation only (bk:sps) and their keys
-- never expire. Up to ARGV[4] of them at a time: each still within SPU_KEEP_MS of its end
-- is indexed by end (bk:spu, the site's list) and given the lifetime of bk_sp_keep; one
-- over for longer is deleted, as bk:spu and its expiry would have done. bk:sps goes with
-- its last member (nothing writes it any more): the engine runs this when it loads a site's
-- schedule until `left` is 0 (then a run reads an empty key). Idempotent.
local batch = tonumber(ARGV[4])
local moved, dropped = 0, 0
for _, sid in ipairs(redis.call('ZRANGE', BK .. 'sps', 0, batch - 1)) do
  local key = BK .. 'sp:' .. sid
  local u = tonumber(redis.call('HGET', key, 'until_ms'))
  if u and u + SPU_KEEP_MS > NOW then
    redis.call('ZADD', BK .. 'spu', u, sid)
    bk_sp_keep(sid, u)
    moved = moved + 1
  else
    for _, suffix in ipairs(SP_KEYS) do redis.call('DEL', key .. suffix) end
    redis.call('ZREM', BK .. 'spu', sid)
    dropped = dropped + 1
  end
  redis.call('ZREM', BK .. 'sps', sid)
end
return ok({moved = moved, dropped = dropped, left = redis.call('ZCARD', BK .. 'sps')})
