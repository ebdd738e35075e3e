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
key and the queue's sorted set) but in one pipeline per batch of changes instead of one
WATCH transaction per job: bookings are the hot path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from arq.constants import default_queue_name, job_key_prefix
from arq.jobs import serialize_job
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("switchboard.booking")
FUNCTION = "booking_due"
KINDS = ("r", "x")  # due entries that get an arq job (see above)
EXPIRES_EXTRA_MS = 86400_000  # as arq: a job not started a day after its time is dropped


def job_id(site: str, member: str) -> str:
    return f"sb:booking:{site}:{member}"


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
            batch, self._pending = self._pending, []
            try:
                await self._write(batch)
            except (RedisError, OSError) as exc:
                # The entries are in bk:due: the worker's sweep fires them on time anyway.
                log.warning("could not schedule %d booking jobs (%s); the sweep will fire "
                            "them", len(batch), exc)

    async def _write(self, batch: list[tuple[str, list[tuple[str, int]], list[str], int]]
                     ) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for site, due, undue, now_ms in batch:
            keep = {m for m, _ in due}
            for member in set(undue) - keep:
                jid = job_id(site, member)
                pipe.zrem(self.queue_name, jid)
                pipe.delete(job_key_prefix + jid)
            for member, at in due:
                if member[:1] not in KINDS:
                    continue
                jid = job_id(site, member)
                payload = serialize_job(FUNCTION, (site, member), {}, None, now_ms)
                ttl = max(1, at - now_ms) + EXPIRES_EXTRA_MS
                pipe.set(job_key_prefix + jid, payload, px=ttl, nx=True)
                pipe.zadd(self.queue_name, {jid: at}, nx=True)
        if len(pipe):
            await pipe.execute()

    async def scheduled(self, site: str, member: str) -> int | None:
        """When the job of ``member`` is due (ms), or None if there is none (for tests)."""
        await self.flush()
        score = await self.redis.zscore(self.queue_name, job_id(site, member))
        return None if score is None else int(score)
