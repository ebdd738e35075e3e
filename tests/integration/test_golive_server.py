"""The server as a go-live test met it: Redis refusing writes, a clock behind the data, a
worker clock Redis disagrees with, and the set-up hint of a server that has sites."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from queueing import keys
from realtime.cli import _start_real
from realtime.redisproc import EmbeddedRedis
from realtime.settings import Settings
from realtime.worker import clock_wrong
from tests.integration.conftest import Server


async def test_a_store_refusing_writes_is_503_naming_the_cause(server: Server, redis: Redis
                                                               ) -> None:
    """maxmemory reached (noeviction): as a full disk's MISCONF, every write is refused. The
    answer is a temporary 503 naming it, not 500 internal with two tracebacks; /readyz
    (whose PING still answers) says it too."""
    c = server.client
    await redis.config_set("maxmemory-policy", "noeviction")
    await redis.config_set("maxmemory", 1)
    try:
        r = await c.post("/v1/sites/demo/tickets", json={"service": "internal",
                                                         "channel": "kiosk"},
                         headers=server.auth("kiosk", site="demo"))
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["code"] == "unavailable" and body["temporary"] is True
        assert body["details"]["reason"] == "out_of_memory"
        ready = await c.get("/readyz")
        assert ready.status_code == 503, ready.text
        assert ready.json()["details"]["reason"] == "out_of_memory"
        assert "out of memory" in ready.json()["message"]
    finally:
        await redis.config_set("maxmemory", 0)
    assert (await c.get("/readyz")).status_code == 200


async def test_a_clock_behind_the_data_is_logged_but_stays_ready(
        server: Server, redis: Redis, caplog: pytest.LogCaptureFixture) -> None:
    """The site's latest event two hours ahead of this clock (a clock put back after it was
    written, or one that ran ahead and was corrected): logged once at ERROR, but /readyz
    stays 200 (taking the only server out of a load balancer for hours would be worse)."""
    c = server.client
    assert (await c.get("/readyz")).status_code == 200
    ahead_ms = int(time.time() * 1000) + 2 * 3600 * 1000
    await redis.xadd(keys.events("demo"), {"t": "probe"}, id=f"{ahead_ms}-0")
    with caplog.at_level(logging.ERROR, logger="switchboard.clock"):
        for _ in range(3):
            assert (await c.get("/readyz")).status_code == 200
    skews = [r for r in caplog.records if "CLOCK SKEW" in r.getMessage()]
    assert len(skews) == 1 and "the latest event in the data" in skews[0].getMessage()
    assert "2.0 h behind" in skews[0].getMessage() and "NTP" in skews[0].getMessage()


async def test_worker_closes_no_day_by_a_clock_redis_disagrees_with(redis: Redis) -> None:
    assert not await clock_wrong(redis)
    assert await clock_wrong(redis, time.time() + 16 * 3600)  # 16 h ahead
    assert await clock_wrong(redis, time.time() - 2 * 3600)


async def test_the_setup_hint_only_without_sites(redis: Redis, redis_server: EmbeddedRedis,
                                                 tmp_path: Path) -> None:
    settings = Settings(redis_url=redis_server.url, data_dir=str(tmp_path))
    assert await _start_real(settings) is False
    await redis.sadd(keys.SITES, "opd")
    assert await _start_real(settings) is True
