"""Requests for the same past day's view at the same time compute it once (day_views.once):
the others wait for that one computation and get its result. A computation that fails fails
every one of them with the same error, and leaves nothing behind: the next request computes
again. Real Redis; the day log written as the recorder writes it."""

from __future__ import annotations

import asyncio
import random
from datetime import date as Date
from datetime import timedelta
from typing import Any, ClassVar

import msgspec
import pytest
from redis.asyncio import Redis

from loadtest.day_views_bench import TZ, bench_site, day_log
from queueing import keys
from queueing.engine import Engine
from queueing.numbering import local_day
from realtime import day_views
from realtime.stats import DayLog
from tests.integration.conftest import ADMIN, Clock

SITE = "big"


class Counted(DayLog):
    """The real day log, counting what is read from it and kept."""

    reads: ClassVar[list[str]] = []
    ends: ClassVar[list[str]] = []
    keeps: ClassVar[list[str]] = []
    reading: ClassVar[asyncio.Event]

    async def rows(self, day: str, n: int) -> list[bytes]:
        self.reads.append(day)
        self.reading.set()
        return await super().rows(day, n)

    async def end_states(self, day: str) -> dict[str, str]:
        self.ends.append(day)
        return await super().end_states(day)

    async def keep(self, day: str, by: str, value: Any) -> None:
        self.keeps.append(by)
        await super().keep(day, by, value)


@pytest.fixture(autouse=True)
def _counts() -> None:
    Counted.reads, Counted.ends, Counted.keeps = [], [], []
    Counted.reading = asyncio.Event()


async def _past_day(engine: Engine, clock: Clock, redis: Redis, tickets: int = 1_000) -> str:
    await engine.put_site(SITE, bench_site(6), ADMIN)
    today = Date.fromisoformat(local_day(clock.now, TZ))
    rng = random.Random(3)
    for back in (2, 1):  # the day, and the day before it (its counters' closing states)
        rows = day_log((today - timedelta(back)).isoformat(), tickets, 6, rng)
        await redis.rpush(keys.prefix(SITE) + "daylog:" + (today - timedelta(back)).isoformat(),
                          *rows)  # type: ignore[misc]
    return (today - timedelta(1)).isoformat()


async def _ask(engine: Engine, day: str, by: str = "hour") -> dict[str, Any]:
    cfg = await engine.config(SITE)
    return await day_views.view(Counted(engine, SITE), cfg, day, by, engine.clock())


async def test_simultaneous_first_requests_compute_once(engine: Engine, clock: Clock,
                                                        redis: Redis) -> None:
    day = await _past_day(engine, clock, redis)
    got = await asyncio.gather(*[_ask(engine, day) for _ in range(4)])
    assert Counted.reads == [day] and Counted.keeps == ["hour"]
    assert len(Counted.ends) == 1  # the day before's closing states: read once too
    assert all(g == got[0] for g in got) and sum(h["issued"] for h in got[0]["hours"]) == 1_000
    # Each has its own dict: one caller adding to its answer does not change another's.
    assert len({id(g) for g in got}) == 4
    # Then from what was kept, as before.
    assert await _ask(engine, day) == got[0] and Counted.reads == [day]
    # Another view of the same day is another computation.
    await asyncio.gather(_ask(engine, day, "counter"), _ask(engine, day, "counter"))
    assert Counted.reads == [day, day] and Counted.keeps == ["hour", "counter"]


async def test_a_waiter_that_goes_away_does_not_stop_the_others(engine: Engine, clock: Clock,
                                                               redis: Redis) -> None:
    day = await _past_day(engine, clock, redis)
    first = asyncio.create_task(_ask(engine, day))
    others = [asyncio.create_task(_ask(engine, day)) for _ in range(2)]
    await Counted.reading.wait()  # the computation has begun
    first.cancel()  # its client hung up
    got = await asyncio.gather(*others)
    assert first.cancelled() and got[0] == got[1] and sum(h["issued"] for h in got[0]["hours"])
    assert Counted.reads == [day] and Counted.keeps == ["hour"]


async def test_a_failure_reaches_every_waiter_and_is_not_kept(engine: Engine, clock: Clock,
                                                               redis: Redis) -> None:
    day = await _past_day(engine, clock, redis)
    key = keys.prefix(SITE) + "daylog:" + day
    good = await redis.lindex(key, 500)  # type: ignore[misc]
    await redis.lset(key, 500, b"{not json")  # type: ignore[misc]
    got = await asyncio.gather(*[_ask(engine, day) for _ in range(3)], return_exceptions=True)
    assert isinstance(got[0], msgspec.DecodeError), got[0]
    assert all(g is got[0] for g in got)  # the one failure, the same error for each
    assert Counted.reads == [day] and Counted.keeps == []
    assert not await redis.exists(keys.prefix(SITE) + f"dayview:{day}:hour")
    assert not day_views._flights  # nothing left waiting: no poisoned flight
    # Repaired (same length, so the same digest): computed again, not the failure replayed.
    await redis.lset(key, 500, good)  # type: ignore[misc]
    v = await _ask(engine, day)
    assert sum(h["issued"] for h in v["hours"]) == 1_000 and Counted.reads == [day, day]
    kept = msgspec.json.decode(await redis.get(keys.prefix(SITE) + f"dayview:{day}:hour"))
    assert kept["view"] == v
