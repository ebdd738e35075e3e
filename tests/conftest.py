"""Shared fixtures: a real redis-server started by the tests (the binary `serve` uses)."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis

from realtime.redisproc import EmbeddedRedis


def pytest_configure(config: pytest.Config) -> None:
    """Compiled bytecode is kept (in pytest's cache folder) where the environment asks for
    none (``PYTHONDONTWRITEBYTECODE``): otherwise every server, worker and CLI the tests start
    compiles Switchboard's ~130 modules again (~0.4 s of CPU each, and the browser tests start
    over a hundred servers), and pytest rewrites every test module at each run (~8 s). The
    source tree stays free of it, as the environment wanted; a changed source is recompiled
    as usual (its pyc records the source's time and size)."""
    cache = getattr(config, "cache", None)  # None under -p no:cacheprovider
    if cache is None or not os.environ.get("PYTHONDONTWRITEBYTECODE") \
            or os.environ.get("PYTHONPYCACHEPREFIX"):
        return
    prefix = str(cache.mkdir("pycache"))
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ["PYTHONPYCACHEPREFIX"] = prefix  # the processes the tests start
    sys.dont_write_bytecode = False  # and this one's later imports and rewritten tests
    sys.pycache_prefix = prefix


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


# Local day boundaries the tests' sites and regions live by: the demo clinic's midnight and
# its 03:00 day close (Shanghai), and midnight where other tests' sites and regions are.
DAY_BOUNDARIES = (("Asia/Shanghai", 0), ("Asia/Shanghai", 3), ("UTC", 0),
                  ("America/New_York", 0), ("Europe/Amsterdam", 0), ("Europe/London", 0))
# Longer than nearly every test takes (browser tests included).
BOUNDARY_GUARD_S = 60.0


def seconds_to_boundary(now: datetime) -> float:
    """Seconds from ``now`` (aware) to the next of ``DAY_BOUNDARIES``."""
    out = []
    for name, hour in DAY_BOUNDARIES:
        local = now.astimezone(ZoneInfo(name))
        at = local.replace(hour=hour, minute=0, second=0, microsecond=0)
        if at <= local:
            at = (local + timedelta(days=1)).replace(hour=hour, minute=0, second=0,
                                                      microsecond=0)
        out.append((at - local).total_seconds())
    return min(out)


@pytest.fixture(autouse=True)
def _not_across_a_local_day() -> None:
    """A test that starts within a minute of a local midnight (or the demo's day close)
    waits until just after it: a test reads "today" at its start, the server at each request,
    and the two differ if the day turns in between (the server has no clock to stop). The
    turn of the day itself is tested with the engine's clock (tests/integration)."""
    left = seconds_to_boundary(datetime.now().astimezone())
    if left < BOUNDARY_GUARD_S:
        print(f"\nwaiting {left + 2:.0f} s for a local day to turn", file=sys.stderr)
        time.sleep(left + 2)



@pytest.fixture(autouse=True)
def _switchboard_env_restored() -> Iterator[None]:
    """The ``SWITCHBOARD_*`` settings as they were before each test, after it: a test that
    runs the CLI in-process with ``--env-file`` (which sets them, as it should for the
    command) would otherwise give every later test in the process its secret or public URL,
    and which tests those are depends on the order the files run in."""
    before = {k: v for k, v in os.environ.items() if k.startswith("SWITCHBOARD_")}
    yield
    for k in [k for k in os.environ if k.startswith("SWITCHBOARD_") and k not in before]:
        del os.environ[k]
    os.environ.update(before)
