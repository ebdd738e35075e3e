"""Is this process's clock right? Compared with Redis's clock (``TIME``) and with the data;
and this process's time (``now_s``, ``now_ms``), anchored to Redis's while its own is wrong.

A server whose clock ran 2 h behind put new walk-ins ahead of tickets issued earlier (their
times are later); a worker 16 h ahead closed tomorrow's day at 11:24. Nothing here sets the
host's clock (NTP or chrony does), but while it disagrees with Redis's by more than
``ANCHOR_S`` the server's and the worker's engines, and token checks, go by Redis's time
(``Anchor``): every process sharing the Redis then orders tickets and judges tokens by one
clock. The server still says so at start-up (ERROR), in /readyz (a ``clock_skew`` warning;
503 only before its time is measured) and in ``switchboard_clock_offset_seconds``; the
worker closes no day while its time and Redis's disagree (its anchor not measured yet).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
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
        if self.source == "redis" and ANCHOR.anchored:
            effect = ("this server uses Redis's time instead (ticket order, tokens, day "
                      "close) until it is set right")
        else:
            effect = "tickets would be ordered, and days closed, by a wrong time"
        return (f"this host's clock is {_span(abs(self.behind_s))} {way} {what}: {effect}. "
                "Set the clock right (NTP / chrony; docs/deployment.md, \"Keep the clock "
                "right\")")


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


# -- this process's time ------------------------------------------------------------------

# Redis's time is this process's while the two are further apart than this (a wrong clock);
# nearer, the host's own (the milliseconds between two hosts' clocks, as before).
ANCHOR_S = 1.0
# ... and the host's own again once they agree within this (no flapping around ANCHOR_S).
RELEASE_S = 0.5
# How often each server and worker process asks Redis's TIME (one round trip).
MEASURE_EVERY_S = 5.0
# A TIME answered slower than this says too little about the offset: the last one stands.
MAX_ROUND_TRIP_S = 0.25


class Anchor:
    """A process's time: the host's clock, or, while that disagrees with Redis's by more
    than ``ANCHOR_S``, Redis's: its ``TIME`` at the last measurement carried forward by the
    monotonic clock (which NTP stepping the wall clock does not move). A server 10 min
    behind issued walk-ins ahead of 94 waiting tickets and refused every token minted on a
    right clock; anchored, it stamps and checks by the time every other process uses."""

    def __init__(self) -> None:
        self.offset_s = 0.0  # Redis's time minus the host's, at the last measurement
        self._base: tuple[float, float] | None = None  # (Redis's time, monotonic) then
        # Told each measured offset (the server and the worker: a Prometheus gauge).
        self.report: Callable[[float], None] | None = None

    @property
    def anchored(self) -> bool:
        return self._base is not None

    def now_s(self) -> float:
        base = self._base
        if base is None:
            return time.time()
        return base[0] + (time.monotonic() - base[1])

    def now_ms(self) -> int:
        if self._base is None:
            return time.time_ns() // 1_000_000
        return math.floor(self.now_s() * 1000)

    def update(self, redis_s: float, wall_s: float, mono_s: float) -> None:
        """Redis's time was ``redis_s`` when the host's clock said ``wall_s`` and the
        monotonic clock ``mono_s``."""
        offset = redis_s - wall_s
        self.offset_s = offset
        if self.report is not None:
            self.report(offset)
        if abs(offset) > (RELEASE_S if self.anchored else ANCHOR_S):
            if not self.anchored:
                log.warning("this host's clock is %.1f s %s Redis's: using Redis's time",
                            abs(offset), "behind" if offset > 0 else "ahead of")
            self._base = (redis_s, mono_s)
        elif self.anchored:
            log.warning("this host's clock agrees with Redis's again: using it")
            self._base = None

    async def measure(self, redis: Any) -> bool:
        """One ``TIME``; False when it came back too slowly to judge by."""
        wall0, mono0 = time.time(), time.monotonic()
        redis_s = await redis_time(redis)
        wall1, mono1 = time.time(), time.monotonic()
        if mono1 - mono0 > MAX_ROUND_TRIP_S:
            return False
        self.update(redis_s, (wall0 + wall1) / 2, (mono0 + mono1) / 2)
        return True

    async def keep(self, redis: Any, every_s: float = MEASURE_EVERY_S) -> None:
        """Measure every ``every_s`` until cancelled (Redis away: the last measurement
        stands)."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.measure(redis)
            except Exception as exc:  # Redis restarting: /readyz says so
                log.debug("clock measurement: %s", exc)

    async def start(self, redis: Any, every_s: float = MEASURE_EVERY_S
                    ) -> asyncio.Task[None]:
        """Measure now (before the first ticket is stamped), then every ``every_s``."""
        try:
            await self.measure(redis)
        except Exception as exc:  # start anyway: the readiness check says what is wrong
            log.debug("clock measurement at start-up: %s", exc)
        return asyncio.create_task(self.keep(redis, every_s), name="clock-anchor")


# The process's anchor: the engines' clocks (realtime/app.py, realtime/worker.py) and the
# token checks (realtime/auth.py) read it; the server and the worker keep it measured.
ANCHOR = Anchor()


def now_s() -> float:
    """This process's time, epoch seconds (Redis's while the host's clock is wrong)."""
    return ANCHOR.now_s()


def now_ms() -> int:
    """This process's time, epoch milliseconds: the engines' clock."""
    return ANCHOR.now_ms()


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
