-- One ticket with its current position. ARGV[4]: ticket id.
local t = ticket(ARGV[4])
if not t then return fail('unknown_ticket', 'unknown ticket ' .. ARGV[4]) end
return ok({ticket = t, position = position(t)})
