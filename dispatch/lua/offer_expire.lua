-- An offer's deadline passed (the arq job deferred to it, or a lazy check). ARGV[4]: job,
-- ARGV[5]: offer number the timer was set for (a later offer has its own timer).
local j = job(ARGV[4])
if not j or j.status ~= 'offered' or tostring(j.offer_n) ~= ARGV[5] or not expired(j) then
  return ok({expired = false})
end
local off = release_offer(j, 'offer_expired', 'timeout')
return ok({expired = true, offset = off})
