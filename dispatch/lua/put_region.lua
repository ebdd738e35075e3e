-- Create or replace a region's configuration (idempotent). ARGV[4]: config JSON,
-- ARGV[5]: epoch to use if the region has none.
local cfg = ARGV[4]
local same = redis.call('GET', P .. 'config') == cfg
redis.call('SET', P .. 'config', cfg)
local created = redis.call('SET', P .. 'epoch', ARGV[5], 'NX')
if same and not created then return ok({changed = false}) end
local off = emit('region_updated', {config = cjson.decode(cfg)})
dirty('*')
return ok({changed = true, created = created and true or false, offset = off})
