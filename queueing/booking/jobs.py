"""arq jobs that fire bookings' due side effects at their time, scheduled as bookings change.

Every script records what must happen later in the booking's due list and indexes the
booking's next entry in the site's ``bk:due`` sorted set, in the same atomic step as the
change (reminders, a hold's or an offer's lapse, the no-show at the end of the grace
period). This module makes sure an arq job runs at each of those times: the job
``booking_due(site, at_ms)`` fires every entry of the site that is due by then
(queueing/booking/tasks.py ``fire_due``). Entries share times — every booking of a slot has
its reminders at the same two moments — so there is one job per site and due time
(deterministic id, ``_defer_until`` that time), written by the first change that needs it;
a rush of bookings on a few hundred slots writes a few hundred jobs, not two per booking.
A job is never deleted when a booking is cancelled or moved: the entry, not the job, is the
truth, and a job that finds nothing due does nothing. The worker's sweep (every 10 s) fires
entries whose job was lost (a crash between the script and this call, a deleted queue), so
a restart loses no reminder.

Reminders, lapses (holds, offers) and quota releases that concern a waitlist get a job, to
happen at their second. No-shows are
left to the sweep: the status is already right without any job, the event only records it.

Jobs are written as ``ArqRedis.enqueue_job`` writes them (``arq.jobs.serialize_job``, the
job key and the queue's sorted set, both only if absent) by one small script call per batch
of changes, off the request path.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections import OrderedDict
from collections.abc import Iterable

from arq.constants import default_queue_name, job_key_prefix
from arq.jobs import serialize_job
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("switchboard.booking")
FUNCTION = "booking_due"
KINDS = ("r", "x", "w")  # due entries that get an arq job (see above)
EXPIRES_EXTRA_MS = 86400_000  # as arq: a job not started a day after its time is dropped
BATCH = 500


# The batch: jid payload ttl_ms score, repeated (add each if absent, as enqueue_job's SET NX
# and ZADD NX).
_WRITE = """
local q, prefix = ARGV[1], ARGV[2]
for i = 3, #ARGV, 4 do
  redis.call('SET', prefix .. ARGV[i], ARGV[i + 1], 'PX', ARGV[i + 2], 'NX')
  redis.call('ZADD', q, 'NX', ARGV[i + 3], ARGV[i])
end
return 0
"""
REMEMBER = 65_536  # (site, time) pairs a process remembers having written


def job_id(site: str, at_ms: int) -> str:
    return f"sb:booking:{site}:at:{at_ms}"


def _tie(jid: str) -> float:
    """A fraction of a millisecond added to a job's score: equal scores in a sorted set are
    ordered by comparing member strings on every skip-list level (a tenth of Redis's time
    in the booking rush, before ties were broken). arq takes a job once its score is <= its
    now, which it rounds to the millisecond: a fraction above 0 keeps the job from starting
    half a millisecond before its time (when the engine's clock, which floors, would not yet
    see the entries due). At most 1 ms late."""
    return (zlib.crc32(jid.encode()) % 4095 + 1) / 4096


class Jobs:
    """Makes sure a ``booking_due`` job exists at each due time of a site.

    ``apply`` only queues the times: one writer task per process sends everything queued
    meanwhile in one script call, so a rush of bookings costs one round trip per batch, not
    one per booking, and no request waits for it. A time this process wrote recently is not
    written again. A change still queued when the process dies is not lost: its entry is in
    the booking and ``bk:due``, and the sweep fires it.
    """

    def __init__(self, redis: Redis, queue_name: str = default_queue_name) -> None:
        self.redis = redis
        self.queue_name = queue_name
        self._pending: list[tuple[str, int, int]] = []
        self._written: OrderedDict[tuple[str, int], None] = OrderedDict()
        self._writer: asyncio.Task[None] | None = None
        self._script = redis.register_script(_WRITE)

    def apply(self, site: str, due: Iterable[tuple[str, int]], now_ms: int) -> None:
        """Jobs at the times of ``due`` entries (member, due_ms) that get one (KINDS)."""
        for member, at in due:
            if member[:1] not in KINDS or (site, at) in self._written:
                continue
            self._written[(site, at)] = None
            if len(self._written) > REMEMBER:
                self._written.popitem(last=False)
            self._pending.append((site, at, now_ms))
        if self._pending and (self._writer is None or self._writer.done()):
            self._writer = asyncio.create_task(self._write_all(), name="booking-jobs")

    async def flush(self) -> None:
        """Wait until everything queued so far is written."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def _write_all(self) -> None:
        while self._pending:
            # At most BATCH jobs per script call: one call never holds Redis for long.
            batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
            try:
                await self._write(batch)
            except BaseException as exc:
                for site, at, _ in batch:  # not written: a later change may write it
                    self._written.pop((site, at), None)
                if not isinstance(exc, (RedisError, OSError)):
                    raise
                log.warning("could not schedule %d booking jobs (%s); the sweep will fire "
                            "their entries", len(batch), exc)

    async def _write(self, batch: list[tuple[str, int, int]]) -> None:
        args: list[str | bytes | int | float] = [self.queue_name, job_key_prefix]
        for site, at, now_ms in batch:
            jid = job_id(site, at)
            payload = serialize_job(FUNCTION, (site, at), {}, None, now_ms)
            ttl = max(1, at - now_ms) + EXPIRES_EXTRA_MS
            args += (jid, payload, ttl, at + _tie(jid))
        await self._script(args=args)

    async def scheduled(self, site: str, at_ms: int) -> int | None:
        """When the job for ``at_ms`` is due (ms), or None if there is none (for tests)."""
        await self.flush()
        score = await self.redis.zscore(self.queue_name, job_id(site, at_ms))
        return None if score is None else int(score)
