-- Create jobs (one, or a batch of an organisation). ARGV[4]: JSON list of job field tables
-- (ids made by the engine), ARGV[5]: batch JSON {id, org, name} or ''.
if not redis.call('GET', P .. 'config') then
  return fail('unknown_region', 'unknown region ' .. REGION)
end
local jobs = cjson.decode(ARGV[4])
local batch = ARGV[5] ~= '' and cjson.decode(ARGV[5]) or nil
for _, j in ipairs(jobs) do
  if j.org ~= '' and redis.call('EXISTS', P .. 'org:' .. j.org) == 0 then
    return fail('unknown_org', 'unknown organisation ' .. j.org)
  end
  if redis.call('EXISTS', P .. 'job:' .. j.id) == 1 then
    return fail('conflict', 'job ' .. j.id .. ' exists')
  end
end
local FIELDS = {'id', 'region', 'status', 'status_ms', 'lat', 'lon', 'address', 'skills',
  'duration_s', 'win_start', 'win_end', 'priority', 'org', 'batch', 'customer', 'note',
  'tech', 'eta_ms', 'created_ms', 'offer_n', 'excluded', 'reason'}
if batch then
  redis.call('HSET', P .. 'batch:' .. batch.id, 'id', batch.id, 'org', batch.org, 'name',
    batch.name, 'created_ms', NOW, 'size', #jobs)
  redis.call('SADD', P .. 'batches:' .. batch.org, batch.id)
end
local offsets = {}
for i, j in ipairs(jobs) do
  j.region = REGION
  j.status = ''
  j.tech = ''
  j.eta_ms = ''
  j.created_ms = NOW
  j.offer_n = 0
  j.excluded = ''
  j.reason = ''
  j.batch = batch and batch.id or ''
  set_status(j, 'new')
  save(P .. 'job:' .. j.id, j, FIELDS)
  redis.call('GEOADD', P .. 'jgeo', j.lon, j.lat, j.id)
  if j.org ~= '' then redis.call('SADD', P .. 'orgjobs:' .. j.org, j.id) end
  if batch then redis.call('SADD', P .. 'bjobs:' .. batch.id, j.id) end
  offsets[i] = emit('job_created', {job = job(j.id)})
end
if batch then
  emit('batch_created', {batch = {id = batch.id, org = batch.org, name = batch.name,
    size = #jobs}})
end
return ok({offsets = offsets})
