-- Append day-log records for one event and acknowledge it in the consumer group, in one
-- step: each event is counted exactly once however many processes consume the stream.
-- ARGV[4]: group, ARGV[5]: entry id, ARGV[6]: keep seconds, then pairs day, record JSON.
local group, eid, keep = ARGV[4], ARGV[5], tonumber(ARGV[6])
for i = 7, #ARGV, 2 do
  local key = P .. 'daylog:' .. ARGV[i]
  redis.call('RPUSH', key, ARGV[i + 1])
  redis.call('EXPIRE', key, keep)
end
return ok({acked = redis.call('XACK', P .. 'events', group, eid)})
