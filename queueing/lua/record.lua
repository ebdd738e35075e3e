-- Append the day-log records and the audit record of one event and acknowledge it in the
-- consumer group, in one step: each event is counted exactly once however many processes
-- consume the stream. Acknowledged first: an entry another consumer claimed and recorded
-- (this one was too slow) is no longer pending, XACK says 0, and nothing is written twice.
-- ARGV[4]: group, ARGV[5]: entry id, ARGV[6]: day-log keep seconds, ARGV[7]: audit keep
-- seconds, ARGV[8]: audit day ('' none), ARGV[9]: its score (the offset as a number),
-- ARGV[10]: audit record JSON, then pairs day, day-log record JSON.
local group, eid, keep, audit_keep = ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local acked = redis.call('XACK', P .. 'events', group, eid)
if acked == 0 then return ok({acked = 0}) end
for i = 11, #ARGV, 2 do
  local key = P .. 'daylog:' .. ARGV[i]
  redis.call('RPUSH', key, ARGV[i + 1])
  redis.call('EXPIRE', key, keep)
end
if ARGV[8] ~= '' then
  -- A sorted set by offset: read in stream order, a page at a time from a cursor.
  local key = P .. 'audit:' .. ARGV[8]
  redis.call('ZADD', key, ARGV[9], ARGV[10])
  redis.call('EXPIRE', key, audit_keep)
end
return ok({acked = acked})
