"""The end of a site's working day (``policy.day_close``): when it falls, and closing it.

At the site's local ``day_close`` time the worker closes every ticket still open that was
issued before it (``Engine.close_day``: cancelled with reason ``day_closed``), once per
local date, so Monday's queue does not start with Friday's leftovers, and numbering restarts
at 001 (it goes on while a ticket of an earlier day is open). A site open around the clock
leaves ``day_close`` unset. ``POST /v1/sites/{site}/close-day`` does the same by hand.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from queueing import keys

if TYPE_CHECKING:
    from queueing.engine import Actor, Engine

log = logging.getLogger("switchboard.dayclose")
CLAIM_TTL_S = 3 * 86400


def last_cutoff(day_close: str, timezone: str, now_ms: int) -> tuple[str, int]:
    """The latest ``day_close`` at or before ``now_ms``: (its local date, epoch ms).

    On a daylight-saving day a ``day_close`` inside the skipped hour falls at the same
    instant later (zoneinfo's fold 0 normalises), one in the repeated hour at its first
    occurrence."""
    tz = ZoneInfo(timezone)
    now = datetime.fromtimestamp(now_ms / 1000, tz)
    hh, mm = (int(x) for x in day_close.split(":"))
    day = now.date()
    cut = datetime.combine(day, time(hh, mm), tz)
    if cut > now:
        day -= timedelta(days=1)
        cut = datetime.combine(day, time(hh, mm), tz)
    return day.isoformat(), int(cut.timestamp() * 1000)


def next_cutoff(day_close: str, timezone: str, now_ms: int) -> int:
    """The first ``day_close`` after ``now_ms`` (epoch ms): a ticket open now is closed by it
    at the latest."""
    tz = ZoneInfo(timezone)
    now = datetime.fromtimestamp(now_ms / 1000, tz)
    hh, mm = (int(x) for x in day_close.split(":"))
    cut = datetime.combine(now.date(), time(hh, mm), tz)
    if cut <= now:
        cut = datetime.combine(now.date() + timedelta(days=1), time(hh, mm), tz)
    return int(cut.timestamp() * 1000)


async def close_due(engine: Engine, site: str, now_ms: int, actor: Actor) -> dict[str, Any] | None:
    """Close ``site``'s day if its ``day_close`` has passed and this local date was not
    closed up to it yet (the cut-off closed to is marked in Redis once done; two workers
    closing at once cancel each ticket once, as each cancel is atomic). A ``day_close``
    moved later on a date already closed closes again at the new time: the tickets issued
    between the two were left open overnight. None if not due."""
    cfg = await engine.config(site)
    if not cfg.policy.day_close:
        return None
    day, cutoff = last_cutoff(cfg.policy.day_close, cfg.timezone, now_ms)
    done = keys.prefix(site) + "dayclose:" + day
    # Marks before this kept the moment of closing, which is at or after their cut-off.
    closed_to = await engine.store.redis.get(done)
    if closed_to is not None and int(closed_to) >= cutoff:
        return None
    result = await engine.close_day(site, cutoff, actor)
    await engine.store.redis.set(done, cutoff, ex=CLAIM_TTL_S)
    if result["closed"] or result["kept"]:
        log.info("day %s of %s closed: %d tickets closed, %d kept (being served)", day, site,
                 len(result["closed"]), len(result["kept"]))
    return result | {"day": day}
