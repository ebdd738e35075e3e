-- Promote early check-ins whose appointment's place is due: prelude's promote_due (the
-- worker's promote job, every 15 s; call_next.lua runs it too before it chooses, so a due
-- promotion is never late for a call). ARGV[4]: at most this many in one call.
local done, pk = promote_due(tonumber(ARGV[4]))
return ok({promoted = done, pending = redis.call('ZCARD', pk)})
