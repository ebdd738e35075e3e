"""arq jobs for a booking's side effects, scheduled when the booking changes.

Every script records what must happen later in the site's ``bk:due`` sorted set, in the same
atomic step as the change (reminders, a hold's or an offer's lapse, the no-show at the end of
the grace period). This module mirrors those entries as arq jobs with deterministic ids and
``_defer_until`` at the due time, and deletes the jobs of entries a change removed (a
cancelled booking, a rescheduled reminder). The entry, not the job, is the truth: a job whose
entry is gone does nothing, and the worker's sweep fires entries whose job was lost (a crash
between the script and this call, a deleted queue), so a restart loses no reminder.

Reminders and lapses (holds, offers) get a job, to happen at their second. No-shows are
left to the sweep (every 10 s): the status is already right without any job, the event only
records it, and a booking's hot path is spared two more writes.

Jobs are written as ``ArqRedis.enqueue_job`` writes them (``arq.jobs.serialize_job``, the job
key and the queue's sorted set) but by one small script call per batch of changes instead of
one WATCH transaction per job: bookings are the hot path. (A pipeline of SET and ZADD per job
cost the booking client ~90 µs of redis-py packing and reply parsing per booking; the script
call is one command for the whole batch.)
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Iterable

from arq.constants import default_queue_name, job_key_prefix
from arq.jobs import serialize_job
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("switchboard.booking")
FUNCTION = "booking_due"
KINDS = ("r", "x")  # due entries that get an arq job (see above)
EXPIRES_EXTRA_MS = 86400_000  # as arq: a job not started a day after its time is dropped
BATCH = 500


# The batch, in order: "d" jid (delete the job) or "a" jid payload ttl_ms due_ms (add it if
# absent, as enqueue_job's SET NX and ZADD NX).
_WRITE = """
local q, prefix, i = ARGV[1], ARGV[2], 3
while i <= #ARGV do
  local jid = ARGV[i + 1]
  if ARGV[i] == 'd' then
    redis.call('ZREM', q, jid)
    redis.call('DEL', prefix .. jid)
    i = i + 2
  else
    redis.call('SET', prefix .. jid, ARGV[i + 2], 'PX', ARGV[i + 3], 'NX')
    redis.call('ZADD', q, 'NX', ARGV[i + 4], jid)
    i = i + 5
  end
end
return 0
"""


def job_id(site: str, member: str) -> str:
    return f"sb:booking:{site}:{member}"


def _tie(jid: str) -> float:
    """A fraction of a millisecond added to a job's score. The reminders of one slot are
    all due at the same millisecond; in a sorted set, equal scores are ordered by comparing
    member strings on every skip-list level, which showed as a tenth of Redis's time in the
    booking rush. arq takes a job once its score is <= now: at most 1 ms later."""
    return (zlib.crc32(jid.encode()) % 4096) / 4096


class Jobs:
    """Writes and deletes the arq jobs of due entries.

    ``apply`` only queues the change: one writer task per process sends everything queued
    meanwhile in one pipeline, so a rush of bookings costs one round trip per batch, not one
    per booking, and no request waits for it. A change still queued when the process dies
    is not lost: its entry is in ``bk:due`` and the sweep fires it.
    """

    def __init__(self, redis: Redis, queue_name: str = default_queue_name) -> None:
        self.redis = redis
        self.queue_name = queue_name
        self._pending: list[tuple[str, list[tuple[str, int]], list[str], int]] = []
        self._writer: asyncio.Task[None] | None = None
        self._script = redis.register_script(_WRITE)

    def apply(self, site: str, due: Iterable[tuple[str, int]], undue: Iterable[str],
              now_ms: int) -> None:
        """Add jobs for ``due`` entries and delete those of ``undue`` entries (an entry in
        both was re-planned unchanged: its job stays)."""
        self._pending.append((site, list(due), list(undue), now_ms))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="booking-jobs")

    async def flush(self) -> None:
        """Wait until everything queued so far is written."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _write_all(self) -> None:
        while self._pending:
            # At most BATCH changes per script call: one call never holds Redis for long.
            batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
            try:
                await self._write(batch)
            except (RedisError, OSError) as exc:
                # The entries are in bk:due: the worker's sweep fires them on time anyway.
                log.warning("could not schedule %d booking jobs (%s); the sweep will fire "
                            "them", len(batch), exc)

    async def _write(self, batch: list[tuple[str, list[tuple[str, int]], list[str], int]]
                     ) -> None:
        args: list[str | bytes | int | float] = [self.queue_name, job_key_prefix]
        for site, due, undue, now_ms in batch:
            keep = {m for m, _ in due}
            for member in set(undue) - keep:
                args += ("d", job_id(site, member))
            for member, at in due:
                if member[:1] not in KINDS:
                    continue
                jid = job_id(site, member)
                payload = serialize_job(FUNCTION, (site, member), {}, None, now_ms)
                ttl = max(1, at - now_ms) + EXPIRES_EXTRA_MS
                args += ("a", jid, payload, ttl, at + _tie(jid))
        if len(args) > 2:
            await self._script(args=args)

    async def scheduled(self, site: str, member: str) -> int | None:
        """When the job of ``member`` is due (ms), or None if there is none (for tests)."""
        await self.flush()
        score = await self.redis.zscore(self.queue_name, job_id(site, member))
        return None if score is None else int(score)
