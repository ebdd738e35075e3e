-- Everything a hub needs to serve a region, read in one atomic step together with the
-- stream offset it corresponds to: events after `offset` apply on top of it.
local cfg = redis.call('GET', P .. 'config')
if not cfg then return fail('unknown_region', 'unknown region ' .. REGION) end
local last = redis.call('XREVRANGE', P .. 'events', '+', '-', 'COUNT', 1)[1]
local techs, jobs, routes, orgs = {}, {}, {}, {}
for _, id in ipairs(redis.call('SMEMBERS', P .. 'techs')) do
  techs[id] = tech(id)
  routes[id] = redis.call('GET', P .. 'route:' .. id) or ''
end
for _, id in ipairs(redis.call('SMEMBERS', P .. 'open')) do
  local j = job(id)
  if j then jobs[id] = j end
end
local function counts(key)
  local flat = redis.call('HGETALL', key)
  local c = {}
  for i = 1, #flat, 2 do c[flat[i]] = tonumber(flat[i + 1]) end
  return c
end
for _, id in ipairs(redis.call('SMEMBERS', P .. 'orgs')) do
  local batches = {}
  for _, b in ipairs(redis.call('SMEMBERS', P .. 'batches:' .. id)) do
    local bh = hgetall(P .. 'batch:' .. b) or {id = b}
    bh.counts = counts(P .. 'bstat:' .. b)
    batches[b] = bh
  end
  orgs[id] = {id = id, name = redis.call('HGET', P .. 'org:' .. id, 'name') or '',
    counts = counts(P .. 'orgstat:' .. id), batches = batches}
end
return ok({config = cjson.decode(cfg), epoch = redis.call('GET', P .. 'epoch') or '',
  offset = last and last[1] or '0-0', trimmed = redis.call('GET', P .. 'trimmed') or '0-0',
  techs = techs, jobs = jobs, routes = routes, orgs = orgs})
