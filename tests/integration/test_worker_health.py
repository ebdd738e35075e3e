"""A stopped worker is seen: without one, reminders, the end of day and dispatch stop while
the hub serves on, so ``/readyz?worker=1`` and a metric say so (a reviewer stopped the
worker, created an urgent job that was never offered, and ``/readyz`` still said ready)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from realtime.redisproc import EmbeddedRedis
from realtime.worker import HEARTBEAT_KEY
from tests.integration.conftest import Server, running_server
from tests.integration.test_booking_worker import until

pytestmark = pytest.mark.slow


def beat_metric(text: str) -> float:
    m = re.search(r"^switchboard_worker_heartbeat_timestamp_seconds (\S+)$", text, re.M)
    assert m, "the heartbeat metric is missing"
    return float(m.group(1))


def start_worker(redis_url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "realtime.cli", "worker",
                                 "--redis-url", redis_url], stdout=out, stderr=subprocess.STDOUT)


async def test_readyz_worker_says_when_no_worker_runs(server: Server, redis: Redis) -> None:
    c = server.client
    await redis.delete(HEARTBEAT_KEY)
    # The plain check (a load balancer's) is about this process and Redis only.
    assert (await c.get("/readyz")).json() == {"status": "ready"}
    r = await c.get("/readyz?worker=1")
    assert r.status_code == 503 and r.headers["retry-after"] == "30"
    body = r.json()
    assert body["code"] == "worker_down" and body["worker_seen_s"] is None, body
    assert beat_metric((await c.get("/metrics")).text) == 0

    # Seen 10 s ago: ready; three missed beats (200 s): down, saying since when.
    now = time.time()
    await redis.set(HEARTBEAT_KEY, int((now - 10) * 1000))
    r = await c.get("/readyz?worker=1")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    assert 9 <= r.json()["worker_seen_s"] <= 60
    assert abs(beat_metric((await c.get("/metrics")).text) - (now - 10)) < 1
    await redis.set(HEARTBEAT_KEY, int((now - 200) * 1000))
    r = await c.get("/readyz?worker=1")
    assert r.status_code == 503 and 199 <= r.json()["worker_seen_s"] <= 260, r.text


async def test_a_real_worker_makes_it_ready(redis: Redis, redis_server: EmbeddedRedis,
                                            tmp_path: Path) -> None:
    await redis.delete(HEARTBEAT_KEY)
    async with running_server(redis_server.url, tmp_path) as s:
        assert (await s.client.get("/readyz?worker=1")).status_code == 503
        proc = start_worker(redis_server.url, tmp_path / "worker.log")
        try:
            async def ready() -> bool:
                return (await s.client.get("/readyz?worker=1")).status_code == 200
            await until(ready, 60, "the worker's first heartbeat")
        finally:
            proc.terminate()
            proc.wait(10)
