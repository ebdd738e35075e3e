-- Create or update an organisation. ARGV[4]: org id, ARGV[5]: name.
if not redis.call('GET', P .. 'config') then
  return fail('unknown_region', 'unknown region ' .. REGION)
end
local id, name = ARGV[4], ARGV[5]
local key = P .. 'org:' .. id
local created = redis.call('EXISTS', key) == 0
if not created and redis.call('HGET', key, 'name') == name then
  return ok({org = {id = id, name = name}, changed = false})
end
redis.call('HSET', key, 'id', id, 'name', name)
redis.call('SADD', P .. 'orgs', id)
local off = emit('org_updated', {org = {id = id, name = name}, created = created})
return ok({org = {id = id, name = name}, changed = true, offset = off})
