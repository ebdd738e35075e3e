"""A real server whose process clock is 10 min behind (libfaketime; Redis on the true clock,
as libfaketime cannot run redis-server): it goes by Redis's time, so a walk-in it issues
lands behind the tickets issued earlier and a token minted on a right clock is accepted.
Before, the walk-in got position 1 ahead of everyone and the token was refused
``not_yet_valid``."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from queueing.demo import demo_site
from queueing.engine import Actor, Engine
from queueing.model import Channel, TicketRequest
from queueing.store import Store
from realtime.auth import make_token
from realtime.redisproc import EmbeddedRedis
from tests.conftest import free_port
from tests.integration.test_hub_processes import stop

SECRET = "clock-anchor-secret-0123456789abcdef"
ADMIN = Actor("test-admin", "test")
BEHIND_S = 600

pytestmark = pytest.mark.skipif(shutil.which("faketime") is None,
                                reason="needs libfaketime (faketime)")


@contextlib.contextmanager
def skewed_server(redis_url: str, data_dir: Path) -> Iterator[tuple[str, Path]]:
    """``switchboard serve`` under ``faketime -f -10m``, up when /healthz answers (its
    /readyz warns of the skew)."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "serve.log"
    env = {**os.environ, "SWITCHBOARD_SECRET": SECRET, "SWITCHBOARD_LOG_LEVEL": "warning"}
    with log.open("wb") as err:  # the server's own copy stays open
        proc = subprocess.Popen(["faketime", "-f", f"-{BEHIND_S // 60}m", sys.executable,
                                 "-m", "realtime.cli", "serve", "--redis-url", redis_url,
                                 "--port", str(port), "--data-dir", str(data_dir)],
                                env=env, stdout=subprocess.DEVNULL, stderr=err,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"server did not start: {log.read_text()}")
            time.sleep(0.1)
        yield base, log
    finally:
        stop(proc)


async def test_a_server_behind_orders_walk_ins_and_checks_tokens_by_redis_time(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    engine = Engine(Store(redis), config_ttl_s=0)  # this process: the true clock
    await engine.put_site("demo", demo_site(), ADMIN)
    for counter in demo_site().counters:
        await engine.counter_op("demo", counter.id, "open", ADMIN)
    earlier = [await engine.issue("demo", TicketRequest("internal", Channel.KIOSK), ADMIN)
               for _ in range(3)]
    with skewed_server(redis_server.url, tmp_path / "data") as (base, log):
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            # A kiosk's token minted on a right clock (here): 10 min after the server's own.
            kiosk = make_token(SECRET, "kiosk", site="demo")
            r = await c.post("/v1/sites/demo/tickets",
                             json={"service": "internal", "channel": "kiosk"},
                             headers={"Authorization": f"Bearer {kiosk}"})
            assert r.status_code in (200, 201), r.text
            walk_in = r.json()
            # Behind the three issued earlier, not ahead of them.
            assert walk_in["position"] == 4, walk_in
            queue = await engine.queue("demo", "internal")
            ids = [t["id"] for t in queue["tickets"]]
            assert ids == [*(i.ticket["id"] for i in earlier), walk_in["id"]], queue
            # Stamped by Redis's time, not 10 min back.
            issued = datetime.fromisoformat(walk_in["issued_at"]).timestamp()
            assert abs(issued - time.time()) < 30, walk_in
            # The ticket's own token, minted by the skewed server, opens it here too.
            mine = await c.get(f"/v1/tickets/{walk_in['id']}",
                               headers={"Authorization": f"Bearer {walk_in['token']}"})
            assert mine.status_code == 200, mine.text
            # Ready (it goes by Redis's time), and still reported: /readyz warns, naming the
            # skew and saying Redis's time is used; the metric carries the offset.
            ready = await c.get("/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
            [warning] = ready.json()["warnings"]
            assert warning["code"] == "clock_skew"
            assert warning["details"]["behind_s"] == pytest.approx(BEHIND_S, abs=15)
            assert warning["details"]["using_redis_time"] is True
            assert "uses Redis's time" in warning["message"]
            scraped = (await c.get("/metrics")).text
            [offset] = [float(line.split()[-1]) for line in scraped.splitlines()
                        if line.startswith("switchboard_clock_offset_seconds")]
            assert offset == pytest.approx(BEHIND_S, abs=15)
    skews = [line for line in log.read_text().splitlines() if "CLOCK SKEW" in line]
    assert len(skews) == 1 and "uses Redis's time instead" in skews[0], skews


async def test_a_worker_with_a_wrong_clock_closes_days_by_redis_time(
        redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker 16 h ahead: no day closed until its anchor is measured (clock_start, its
    first start-up step), then by Redis's time."""
    from realtime import clock, worker
    assert worker.ON_STARTUP[0] is worker.clock_start
    assert worker.clock_stop in worker.ON_SHUTDOWN
    anchor = clock.Anchor()
    monkeypatch.setattr(clock, "ANCHOR", anchor)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 16 * 3600)
    assert await worker.clock_wrong(redis)
    ctx = {"redis": redis}
    await worker.clock_start(ctx)
    try:
        assert anchor.anchored and not await worker.clock_wrong(redis)
        assert abs(clock.now_ms() / 1000 - real()) < 5
    finally:
        await worker.clock_stop(ctx)
    assert "clock_anchor" not in ctx
