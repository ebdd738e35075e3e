"""Shared fixtures: a real redis-server started by the tests (the binary `serve` uses)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from realtime.redisproc import EmbeddedRedis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def daytime_zone(*preferred: str) -> ZoneInfo:
    """The first of ``preferred``, UTC, Tokyo and New York where the local time is now
    between 01:00 and 22:59: a test that needs the next hour to be in the same local day
    (bookable times today, reminders before midnight) runs at any hour in such a zone."""
    for name in (*preferred, "UTC", "Asia/Tokyo", "America/New_York"):
        tz = ZoneInfo(name)
        if 1 <= datetime.now(tz).hour <= 22:
            return tz
    raise AssertionError("unreachable: Tokyo is 9 hours ahead of UTC")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(Path(tmp_path_factory.mktemp("redis")))
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def redis(redis_server: EmbeddedRedis) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_server.url)
    await client.flushall()
    yield client
    await client.aclose()
