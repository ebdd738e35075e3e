-- Delete event entries that carry an erased person's data, and record the erasure
-- (queueing/erase.py). ARGV[4]: the `erased` entry's data as JSON ('' : none yet, more
-- entries follow), ARGV[5..]: entry ids. Entries cannot be edited, so they go; the trim
-- mark moves past the newest one in the same step, so a client resuming from before it
-- gets a snapshot (resync), never a history with holes.
local audit = ARGV[4]
local gone, newest = 0, nil
for i = 5, #ARGV do
  if redis.call('XDEL', P .. 'events', ARGV[i]) == 1 then
    gone = gone + 1
    if not newest or id_before(newest, ARGV[i]) then newest = ARGV[i] end
  end
end
if newest then
  local mark = redis.call('GET', P .. 'trimmed')
  if not mark or id_before(mark, newest) then redis.call('SET', P .. 'trimmed', newest) end
end
if audit == '' then return ok({events = gone}) end
local off = emit('erased', cjson.decode(audit))
return ok({events = gone, offset = off})
