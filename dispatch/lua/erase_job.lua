-- Erase a customer's data from one job (dispatch/erase.py). ARGV[4]: job id; ARGV[5]: its
-- texts as the erasure read them, JSON {customer, note, address} ('' when the job was named:
-- whatever it holds goes); ARGV[6]: the number's reference ('' : none); ARGV[7]: decimals a
-- finished job's location keeps. Checked here, in the same step as the change.
-- An open job keeps its address and location (it is still to be served) and the reference
-- (`erased`), so the same erasure made again once it has ended finds it and finishes it; its
-- change is a `job_redacted` event (hubs' views drop the name). A finished one loses its
-- address, and its location is coarsened (no event: the `erased` entry records it).
local jid, read, ref, places = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
local j = job(jid)
if not j then return ok({erased = 0}) end
if read ~= '' then
  local r = cjson.decode(read)
  for _, f in ipairs({'customer', 'note', 'address'}) do
    if (j[f] or '') ~= r[f] then return ok({erased = 0, changed = true}) end
  end
end
local done = TERMINAL[j.status] ~= nil
local fields = {}
local function set(f, v)
  if tostring(j[f] or '') ~= tostring(v) then
    j[f] = v
    fields[#fields + 1] = f
  end
end
set('customer', '')
set('note', '')
if done then
  set('address', '')
  set('erased', '')
  local scale = 10 ^ places
  for _, f in ipairs({'lat', 'lon'}) do
    if tonumber(j[f]) then set(f, math.floor(j[f] * scale + 0.5) / scale) end
  end
elseif ref ~= '' then
  set('erased', ref)
end
if #fields == 0 then return ok({erased = 0, open = not done}) end
save(P .. 'job:' .. jid, j, fields)
if not done then emit('job_redacted', {job = job(jid)}) end
return ok({erased = 1, open = not done})
