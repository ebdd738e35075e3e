"""The dispatch engines go by this process's time (realtime/clock.py: Redis's while the
host's clock is off), as the queue engine does: a server 10 min behind stamped jobs, offers
and fixes by its own clock, 10 min before the tickets and tokens of the same moment."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from redis.asyncio import Redis

from dispatch import tasks
from realtime import clock
from realtime.hub import dispatch_topics
from realtime.settings import Settings


@pytest.fixture
def ten_min_behind(monkeypatch: pytest.MonkeyPatch) -> Iterator[clock.Anchor]:
    """This process's anchor as on a host 10 min behind Redis."""
    a = clock.Anchor()
    monkeypatch.setattr(clock, "ANCHOR", a)
    a.update(time.time() + 600, time.time(), time.monotonic())
    yield a


class _Hub:
    """What dispatch_engine reads of a hub (a weak-referenceable key)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.settings = Settings(config_cache_s=1.0)


def _ahead_s(now_ms: int) -> float:
    return now_ms / 1000 - time.time()


async def test_the_servers_dispatch_engine_goes_by_the_anchored_clock(
        ten_min_behind: clock.Anchor) -> None:
    redis = Redis.from_url("redis://127.0.0.1:1")  # never connected: nothing is asked
    hub = _Hub(redis)
    try:
        eng = dispatch_topics.dispatch_engine(hub)  # type: ignore[arg-type]
        assert 599 < _ahead_s(eng.clock()) < 601
    finally:
        await redis.aclose()


async def test_the_workers_dispatch_engine_takes_the_clock_it_is_given(
        ten_min_behind: clock.Anchor) -> None:
    redis = Redis.from_url("redis://127.0.0.1:1")
    try:
        ctx: dict[str, Any] = {"redis": redis}
        await tasks.startup(ctx, clock=clock.now_ms)
        assert 599 < _ahead_s(ctx[tasks.CTX_KEY].engine.clock()) < 601
        await tasks.startup(ctx)  # none given (a test, the simulator's own): the host's
        assert abs(_ahead_s(ctx[tasks.CTX_KEY].engine.clock())) < 1
    finally:
        await redis.aclose()
