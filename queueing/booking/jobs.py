"""arq jobs for a booking's side effects, scheduled when the booking changes.

Every script records what must happen later in the site's ``bk:due`` sorted set, in the same
atomic step as the change (reminders, a hold's or an offer's lapse, the no-show at the end of
the grace period). This module mirrors those entries as arq jobs with deterministic ids and
``_defer_until`` at the due time, and deletes the jobs of entries a change removed (a
cancelled booking, a rescheduled reminder). The entry, not the job, is the truth: a job whose
entry is gone does nothing, and the worker's sweep fires entries whose job was lost (a crash
between the script and this call, a deleted queue), so a restart loses no reminder.

Jobs are written as ``ArqRedis.enqueue_job`` writes them (``arq.jobs.serialize_job``, the job
key and the queue's sorted set) but in one pipeline per change instead of one WATCH
transaction per job: a booking schedules up to four jobs and bookings are the hot path.
"""

from __future__ import annotations

from collections.abc import Iterable

from arq.constants import default_queue_name, job_key_prefix
from arq.jobs import serialize_job
from redis.asyncio import Redis

FUNCTION = "booking_due"
EXPIRES_EXTRA_MS = 86400_000  # as arq: a job not started a day after its time is dropped


def job_id(site: str, member: str) -> str:
    return f"sb:booking:{site}:{member}"


class Jobs:
    def __init__(self, redis: Redis, queue_name: str = default_queue_name) -> None:
        self.redis = redis
        self.queue_name = queue_name

    async def apply(self, site: str, due: Iterable[tuple[str, int]], undue: Iterable[str],
                    now_ms: int) -> None:
        """Add jobs for ``due`` entries and delete those of ``undue`` entries (an entry in
        both was re-planned unchanged: its job stays)."""
        due = list(due)
        keep = {m for m, _ in due}
        pipe = self.redis.pipeline(transaction=False)
        for member in set(undue) - keep:
            jid = job_id(site, member)
            pipe.zrem(self.queue_name, jid)
            pipe.delete(job_key_prefix + jid)
        for member, at in due:
            jid = job_id(site, member)
            payload = serialize_job(FUNCTION, (site, member), {}, None, now_ms)
            ttl = max(1, at - now_ms) + EXPIRES_EXTRA_MS
            pipe.set(job_key_prefix + jid, payload, px=ttl, nx=True)
            pipe.zadd(self.queue_name, {jid: at}, nx=True)
        if len(pipe):
            await pipe.execute()

    async def scheduled(self, site: str, member: str) -> int | None:
        """When the job of ``member`` is due (ms), or None if there is none (for tests)."""
        score = await self.redis.zscore(self.queue_name, job_id(site, member))
        return None if score is None else int(score)
