"""A hub's first contact with a site warms the site's wait-estimate rates with its last week
of day-log records (realtime/estimates.py ``LiveEstimator._warm``). A busy site has 60,000
records a day: they are decoded and fed off the event loop, so the process keeps serving its
websockets meanwhile, and the tracker that results is the one feeding them in order on the
loop gave. Real Redis, the real hub feed; the day log written as the recorder writes it."""

from __future__ import annotations

import asyncio
import pickle
import random
import time
from collections.abc import AsyncIterator
from datetime import date as Date
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from loadtest.day_views_bench import TZ, bench_site, day_log
from queueing import keys
from queueing.engine import Engine
from queueing.estimate import RateTracker
from queueing.numbering import local_day
from realtime.estimates import WARM_DAYS, LiveEstimator, feed_days
from realtime.hub.feed import SiteFeed
from realtime.hub.hub import Hub
from realtime.redisproc import EmbeddedRedis
from realtime.settings import Settings
from realtime.stats import day_records
from tests.integration.conftest import ADMIN, Clock

SITE = "big"


@pytest.fixture
async def hub(engine: Engine, redis: Redis, redis_server: EmbeddedRedis) -> AsyncIterator[Hub]:
    h = Hub(Settings(redis_url=redis_server.url, secret="x" * 32), redis, engine)
    h.estimator = LiveEstimator(engine)
    yield h
    await h.reader.aclose()


async def _days(engine: Engine, clock: Clock, redis: Redis, tickets: dict[int, int]) -> None:
    """``tickets[back]`` tickets on the day ``back`` days before today (today: up to now)."""
    await engine.put_site(SITE, bench_site(40), ADMIN)
    today = Date.fromisoformat(local_day(clock.now, TZ))
    rng = random.Random(5)
    for back, n in tickets.items():
        day = (today - timedelta(back)).isoformat()
        rows = day_log(day, n, 40, rng, clock.now if back == 0 else None)
        for i in range(0, len(rows), 5000):
            await redis.rpush(keys.prefix(SITE) + "daylog:" + day,
                              *rows[i:i + 5000])  # type: ignore[misc]


async def _feed(hub: Hub) -> SiteFeed:
    feed = SiteFeed(hub, SITE)
    await feed._load()  # the snapshot a feed starts from (no tailing: nothing happens here)
    return feed


def _state(t: RateTracker) -> bytes:
    return pickle.dumps((t._services, t._counters))


async def test_the_warmed_tracker_is_what_feeding_in_order_gives(engine: Engine, clock: Clock,
                                                                 redis: Redis, hub: Hub) -> None:
    # Eight days, more than the window keeps of some kinds, and more than a day is fed on
    # the loop (day_views.OFF_LOOP rows), one day empty.
    await _days(engine, clock, redis, {8: 300, 7: 900, 6: 1_000, 4: 700, 2: 800, 1: 900, 0: 400})
    feed = await _feed(hub)
    est = hub.estimator
    s = est._site(feed)
    await asyncio.gather(*est._tasks)
    assert s.pending is None
    ref = RateTracker(s.tracker.settings)
    for back in range(WARM_DAYS, -1, -1):  # as the hub fed them before: in order, on the loop
        day = local_day(clock.now - back * 86_400_000, TZ)
        feed_days(await day_records(engine, SITE, day), ref, feed.offset, False)
    assert ref._services  # something was fed
    assert _state(s.tracker) == _state(ref)
    svc = bench_site(40).services[0].id
    assert pickle.dumps(s.tracker.rates(svc, clock.now)) == pickle.dumps(ref.rates(svc, clock.now))


async def test_the_loop_keeps_turning_while_a_busy_week_warms(engine: Engine, clock: Clock,
                                                              redis: Redis, hub: Hub) -> None:
    """A day of 20,000 tickets (60,000 records): fed on the loop, the loop stood still for as
    long as the feeding took (~0.3 s on the development machine, more under load)."""
    await _days(engine, clock, redis, {3: 20_000})
    day = local_day(clock.now - 3 * 86_400_000, TZ)
    records = await day_records(engine, SITE, day)
    t0 = time.perf_counter()
    feed_days(records, RateTracker(), "9" * 13 + "-0", False)
    feeding = time.perf_counter() - t0  # what holding the loop for that day costs here
    del records
    feed = await _feed(hub)
    s = hub.estimator._site(feed)
    lags: list[float] = []
    t_start = time.perf_counter()
    while s.pending is not None:  # a loop-lag probe: how late a 1 ms sleep wakes
        t0 = time.perf_counter()
        await asyncio.sleep(0.001)
        lags.append(time.perf_counter() - t0 - 0.001)
    took = time.perf_counter() - t_start
    assert s.tracker.rates(bench_site(40).services[0].id, clock.now).mean_service_s != 300.0
    assert len(lags) >= 10, (len(lags), took)
    # A behaviour, not a speed: generous, against what the feeding costs on this machine now.
    assert max(lags) < max(0.05, feeding / 2), (max(lags), feeding, took, len(lags))
