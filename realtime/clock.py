"""Is this process's clock right? Compared with Redis's clock (``TIME``) and with the data.

A server whose clock ran 2 h behind put new walk-ins ahead of tickets issued earlier (their
times are later); a worker 16 h ahead closed tomorrow's day at 11:24. Nothing here sets a
clock (NTP or chrony does): the server says so at start-up and in /readyz (503
``clock_skew``), and the worker closes no day while its clock and Redis's disagree.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from queueing import keys

log = logging.getLogger("switchboard.clock")

# More than this apart is a wrong clock, not the milliseconds between two hosts.
SKEW_LIMIT_S = 60.0


@dataclass(frozen=True, slots=True)
class Skew:
    """This clock is ``behind_s`` seconds behind ``source`` (negative: ahead of it)."""
    behind_s: float
    source: str  # "redis": Redis's TIME; "data": the latest event a site recorded

    def message(self) -> str:
        way = "behind" if self.behind_s > 0 else "ahead of"
        what = ("Redis's clock" if self.source == "redis"
                else "the latest event in the data")
        return (f"this host's clock is {_span(abs(self.behind_s))} {way} {what}: tickets "
                "would be ordered, and days closed, by a wrong time. Set the clock right "
                "(NTP / chrony; docs/deployment.md, \"Keep the clock right\")")


def _span(s: float) -> str:
    return f"{s / 3600:.1f} h" if s >= 5400 else f"{s / 60:.0f} min" if s >= 90 else f"{s:.0f} s"


def judge(now_s: float, redis_s: float, latest_s: float | None,
          limit_s: float = SKEW_LIMIT_S) -> Skew | None:
    """The skew to report, if any: this clock against Redis's (either way), else behind the
    latest recorded event (a clock put back after the data was written)."""
    if abs(redis_s - now_s) > limit_s:
        return Skew(redis_s - now_s, "redis")
    if latest_s is not None and latest_s - now_s > limit_s:
        return Skew(latest_s - now_s, "data")
    return None


async def redis_time(redis: Any) -> float:
    sec, usec = await redis.time()
    return float(sec) + float(usec) / 1e6


async def latest_event_s(redis: Any) -> float | None:
    """The time of the newest entry of any site's event stream (stream ids start with the
    milliseconds they were written at)."""
    sites = sorted(s.decode() if isinstance(s, bytes) else s
                   for s in await redis.smembers(keys.SITES))
    if not sites:
        return None
    async with redis.pipeline(transaction=False) as pipe:
        for site in sites:
            pipe.xrevrange(keys.events(site), count=1)
        found = await pipe.execute()
    stamps = [int((e[0][0].decode() if isinstance(e[0][0], bytes) else e[0][0])
                  .split("-")[0]) for e in found if e]
    return max(stamps) / 1000 if stamps else None


async def check(redis: Any, data: bool = True) -> Skew | None:
    """This process's clock against Redis's and (``data``) the sites' latest events."""
    redis_s = await redis_time(redis)
    latest = await latest_event_s(redis) if data else None
    return judge(time.time(), redis_s, latest)


class Watch:
    """One process's verdict, logged at ERROR once when it turns bad (and once when it is
    right again), not at every /readyz poll. Asked each time: a TIME, an SMEMBERS and one
    XREVRANGE per site, pipelined."""

    def __init__(self) -> None:
        self._skew: Skew | None = None

    async def skew(self, redis: Any) -> Skew | None:
        skew = await check(redis)
        if skew is not None and self._skew is None:
            log.error("CLOCK SKEW: %s", skew.message())
        elif skew is None and self._skew is not None:
            log.warning("the clock agrees with Redis and the data again")
        self._skew = skew
        return skew
