-- What the erasure's scripts need beyond the dispatch prelude: the queue prelude's stream-id
-- order, for queueing/lua/erase_events.lua (reused as it is: the trim mark moves past the
-- entries it deletes, as on a queue site).
local function id_before(a, b)
  local am, as = string.match(a, '(%d+)-(%d+)')
  local bm, bs = string.match(b, '(%d+)-(%d+)')
  if am ~= bm then return tonumber(am) < tonumber(bm) end
  return tonumber(as) < tonumber(bs)
end
