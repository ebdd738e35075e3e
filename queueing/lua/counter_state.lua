-- Open, pause or close a counter. ARGV[4]: counter, ARGV[5]: new state.
local cid, state = ARGV[4], ARGV[5]
local cs = counter_state(cid)
if not cs then return fail('unknown_counter', 'unknown counter ' .. cid) end
if state == 'closed' and cs.ticket and cs.ticket ~= '' then
  return fail('counter_busy', 'finish ticket ' .. cs.ticket .. ' before closing the counter')
end
if cs.state == state then
  return ok({counter = cid, state = state, ticket = cs.ticket or ''})
end
redis.call('HSET', P .. 'cs:' .. cid, 'state', state, 'since', NOW)
local off = emit('counter_' .. state, {counter = cid, state = state, from = cs.state,
  current = cs.ticket or ''})
return ok({counter = cid, state = state, ticket = cs.ticket or '', offset = off})
