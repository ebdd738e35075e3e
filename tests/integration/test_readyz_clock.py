"""/readyz and a wrong clock: a process going by Redis's time (its anchor) is ready and
warns; one whose time is not measured yet is not ready. A single server taken out of its
load balancer for a clock it already compensates was an outage for nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from realtime import clock
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import running_server


@pytest.fixture
def anchor(monkeypatch: pytest.MonkeyPatch) -> Iterator[clock.Anchor]:
    a = clock.Anchor()
    monkeypatch.setattr(clock, "ANCHOR", a)
    yield a


def _skewed(monkeypatch: pytest.MonkeyPatch, skew: clock.Skew) -> None:
    async def check(redis: Any, data: bool = True) -> clock.Skew:
        return skew
    monkeypatch.setattr(clock, "check", check)


async def test_a_compensated_clock_is_ready_with_a_warning(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path, anchor: clock.Anchor,
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_server(redis_server.url, tmp_path) as s:
        _skewed(monkeypatch, clock.Skew(600.0, "redis"))
        # Not measured yet (this process would stamp by the host's wrong clock): not ready.
        anchor._base = None
        r = await s.client.get("/readyz")
        assert r.status_code == 503 and r.json()["code"] == "clock_skew", r.text
        assert r.json()["details"] == {"behind_s": 600.0, "source": "redis",
                                       "using_redis_time": False}
        assert r.headers["retry-after"] == "30"
        # Measured: it goes by Redis's time, so it serves, and says why it warns.
        anchor.update(time.time() + 600, time.time(), time.monotonic())
        r = await s.client.get("/readyz")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "ready"
        [warning] = body["warnings"]
        assert warning["code"] == "clock_skew"
        assert warning["details"]["using_redis_time"] is True
        assert "uses Redis's time instead" in warning["message"]
        # ?worker=1 still asks for the worker first: no heartbeat, 503 worker_down.
        r = await s.client.get("/readyz?worker=1")
        assert r.status_code == 503 and r.json()["code"] == "worker_down", r.text


async def test_a_clock_behind_the_data_only_warns(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path, anchor: clock.Anchor,
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_server(redis_server.url, tmp_path) as s:
        _skewed(monkeypatch, clock.Skew(7200.0, "data"))
        r = await s.client.get("/readyz")
        assert r.status_code == 200, r.text
        [warning] = r.json()["warnings"]
        assert warning["details"] == {"behind_s": 7200.0, "source": "data",
                                      "using_redis_time": False}
        monkeypatch.setattr(clock, "check", _right)
        assert (await s.client.get("/readyz")).json() == {"status": "ready"}


async def _right(redis: Any, data: bool = True) -> None:
    return None
