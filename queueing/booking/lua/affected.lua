-- The bookings a suspension of these slots would reach (read only).
-- ARGV[4..]: grace_ms, slot ids (csv).
return ok({bookings = bk_affected(split(ARGV[5], ','), tonumber(ARGV[4]))})
