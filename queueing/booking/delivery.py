"""What became of the notifications, counted in Redis for the server's /metrics.

The worker sends the texts; Prometheus scrapes the server. So, as with the worker's
heartbeat, the worker writes and the server reads at each scrape (realtime/metrics.py):

- ``sb:nt:stats``, a hash of counters: ``sent:<kind>``, ``failed:<kind>`` (an attempt the
  gateway refused), ``given_up:<kind>`` (the last retry refused too), and
  ``stale:<kind>:<reason>`` (dropped before a retry: no longer true, queueing/booking/fresh.py);
- ``sb:nt:undelivered``, a sorted set of the notifications refused and not yet settled (sent,
  given up or dropped), by when they were first refused: the oldest one's age says how long
  people have been waiting for a text.

The last outcome of a text about a booking is also kept on the booking (``nst``:
``ok|ms|kind`` or ``failed|ms|kind|status``, ``given_up|…``), so staff see that its number
does not take texts (``notify_state`` in the booking's view) and can correct it.

Counting never stops a text: a Redis error here is logged and forgotten.
"""

from __future__ import annotations

import logging

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from queueing import keys

log = logging.getLogger("switchboard.notify")
STATS = f"{keys.ROOT}:nt:stats"
UNDELIVERED = f"{keys.ROOT}:nt:undelivered"
FORGET_MS = 2 * 86400 * 1000  # an entry left by a worker killed mid-retry stops counting
OUTCOMES = ("sent", "failed", "given_up", "stale")
# Every kind a worker or the server sends (notify.Notification.kind): shown at 0 before
# its first text, so an alert on a counter's increase sees the first failure too.
KINDS = ("booked", "rebooked", "booking_cancelled", "reminder", "offer", "suspended",
         "unsuspended", "waitlisted",
         "issued", "almost", "turn", "moved", "no_show", "no_show_back", "cancelled_by_staff",
         "cancelled_day_closed", "no_counter", "verify")


class Stats(msgspec.Struct):
    """The counters as read at a scrape: (outcome, kind, reason) -> count."""

    counts: dict[tuple[str, str, str], int]
    oldest_undelivered_ms: int | None  # when the oldest unsettled one was first refused
    undelivered: int
    pending_retries: int


async def sent(redis: Redis, notification_id: str, kind: str) -> None:
    """Delivered (maybe after retries): counted, and no longer undelivered."""
    await _settle(redis, notification_id, f"sent:{kind}")


async def failed(redis: Redis, notification_id: str, kind: str, now_ms: int) -> None:
    """An attempt the gateway refused; the notification is undelivered since ``now_ms``
    (its first refusal: later ones keep that time)."""
    try:
        pipe = redis.pipeline(transaction=False)
        pipe.hincrby(STATS, f"failed:{kind}", 1)
        pipe.zadd(UNDELIVERED, {notification_id: now_ms}, nx=True)
        pipe.zremrangebyscore(UNDELIVERED, "-inf", now_ms - FORGET_MS)
        await pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("notification stats: %s", exc)


async def given_up(redis: Redis, notification_id: str, kind: str) -> None:
    await _settle(redis, notification_id, f"given_up:{kind}")


async def stale(redis: Redis, notification_id: str, kind: str, reason: str,
                only_if_pending: bool = False) -> bool:
    """Dropped as no longer true. ``only_if_pending``: counted only if it was undelivered
    (a reminder whose booking went: a text nobody tried to send is no drop). Returns
    whether it was undelivered."""
    if only_if_pending:
        try:
            if not await redis.zrem(UNDELIVERED, notification_id):
                return False
        except (RedisError, OSError) as exc:
            log.warning("notification stats: %s", exc)
            return False
    return await _settle(redis, notification_id, f"stale:{kind}:{reason}")


async def _settle(redis: Redis, notification_id: str, field: str) -> bool:
    try:
        pipe = redis.pipeline(transaction=False)
        pipe.hincrby(STATS, field, 1)
        pipe.zrem(UNDELIVERED, notification_id)
        _, removed = await pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("notification stats: %s", exc)
        return False
    return bool(removed)


async def read(redis: Redis) -> Stats:
    """The counters, for a scrape (raises RedisError: the scrape goes on without them)."""
    pipe = redis.pipeline(transaction=False)
    pipe.hgetall(STATS)
    pipe.zrange(UNDELIVERED, 0, 0, withscores=True)
    pipe.zcard(UNDELIVERED)
    pipe.zcard(keys.NOTIFY_RETRY)
    raw, oldest, undelivered, pending = await pipe.execute()
    return Stats(parse(raw), int(oldest[0][1]) if oldest else None, int(undelivered),
                 int(pending))


def parse(raw: dict[bytes, bytes]) -> dict[tuple[str, str, str], int]:
    """``sb:nt:stats`` fields as (outcome, kind, reason); unknown fields are left out."""
    out: dict[tuple[str, str, str], int] = {}
    for field, value in raw.items():
        outcome, _, rest = field.decode().partition(":")
        kind, _, reason = rest.partition(":")
        if outcome in OUTCOMES and kind:
            out[(outcome, kind, reason)] = int(value)
    return out


# Sets the booking's delivery state only while the booking exists (a text about an erased
# or expired booking must not bring its hash back).
_STATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'nst', ARGV[1]) end
return 0
"""


async def booking_state(redis: Redis, site: str, booking: str | None, state: str, kind: str,
                        now_ms: int, status: int | None = None) -> None:
    """Record on ``booking`` the outcome of a text about it: ``ok``, ``failed`` (with the
    gateway's HTTP status, if it answered) or ``given_up``."""
    if not booking:
        return
    value = f"{state}|{now_ms}|{kind}" + (f"|{status}" if status is not None else "")
    try:
        await redis.eval(_STATE, 1, keys.prefix(site) + "bk:b:" + booking, value)  # type: ignore[misc]
    except (RedisError, OSError) as exc:
        log.warning("booking delivery state: %s", exc)


async def first_failed_ms(redis: Redis, notification_id: str) -> int | None:
    """When ``notification_id`` was first refused (still undelivered), or None."""
    try:
        score = await redis.zscore(UNDELIVERED, notification_id)
    except (RedisError, OSError):
        return None
    return None if score is None else int(score)
