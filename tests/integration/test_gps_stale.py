"""A GPS fix stamped in seconds (1970 as epoch ms) was accepted: there was a bound ahead
(``gps_future``) and none behind. A fix older than the offline-replay window (a device back
after hours replays its buffer; its actions are remembered 2 days) is refused ``gps_stale``,
over the websocket (an error frame, counted as the other rejects) and the REST fallback (in
``rejected``). Real server, real Redis."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import websockets
from redis.asyncio import Redis

from dispatch import gps
from realtime import metrics
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server, running_server
from tests.integration.test_dispatch_batch_links import put_city
from tests.integration.test_dispatch_hub import MSGPACK, Device, ws_url

HOUR_MS = 3_600_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def test_the_bound_is_the_replay_window() -> None:
    fix = gps.Fix(now_ms() // 1000, 52.37, 4.89)  # seconds
    assert gps.stale(fix, now_ms(), 2 * 86400)
    assert not gps.stale(gps.Fix(now_ms() - 40 * HOUR_MS, 52.37, 4.89), now_ms(), 2 * 86400)
    assert gps.stale(gps.Fix(now_ms() - 49 * HOUR_MS, 52.37, 4.89), now_ms(), 2 * 86400)


@pytest.fixture
async def srv(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
              ) -> AsyncIterator[Server]:
    async with running_server(redis_server.url, tmp_path) as s:
        await put_city(s)
        tech = {"name": "Anna", "home": {"lat": 52.37, "lon": 4.89},
                "shift": {"start": "00:00", "end": "24:00"}}
        await s.client.put("/v1/technicians/city.t1", json=tech, headers=s.auth("admin"))
        yield s


async def test_rest_batch_refuses_fixes_older_than_the_window(srv: Server) -> None:
    t = now_ms()
    r = await srv.client.post("/v1/technicians/city.t1/gps", headers=srv.auth(
        "tech", tech="city.t1"), json={"fixes": [
            {"t": t // 1000, "la": 52.37, "lo": 4.89},  # seconds: 1970
            {"t": t - 72 * HOUR_MS, "la": 52.37, "lo": 4.89},
            {"t": t - 5 * HOUR_MS, "la": 52.37, "lo": 4.89},  # an offline morning: kept
            {"t": t, "la": 52.37, "lo": 4.89}]})
    out = r.json()
    assert r.status_code == 200 and out["accepted"] == 2, out
    assert [(x["index"], x["code"]) for x in out["rejected"]] == [(0, "gps_stale"),
                                                                  (1, "gps_stale")]
    assert "seconds" in out["rejected"][0]["message"]
    track = (await srv.client.get("/v1/technicians/city.t1/track",
                                  headers=srv.auth("admin"))).json()["fixes"]
    assert [f["t"] for f in track] == [t - 5 * HOUR_MS, t]


async def test_websocket_fix_in_seconds_is_refused_and_counted(srv: Server) -> None:
    before = metrics.PROTOCOL_ERRORS.labels("gps_stale")._value.get()
    token = srv.token("tech", tech="city.t1")
    async with websockets.connect(f"{ws_url(srv)}?token={token}",
                                  subprotocols=[MSGPACK]) as ws:  # type: ignore[list-item]
        dev = Device(ws)
        await dev.send({"op": "gps", "t": now_ms() // 1000, "la": 52.37, "lo": 4.89, "id": 3})
        err = await dev.until(lambda m: m["op"] == "error")
        assert err["code"] == "gps_stale" and err["id"] == 3
        await dev.send({"op": "gps", "t": now_ms(), "la": 52.37, "lo": 4.89, "id": 4})
        assert (await dev.until(lambda m: m["op"] in ("pong", "error"))) == {"op": "pong",
                                                                           "id": 4}
    assert metrics.PROTOCOL_ERRORS.labels("gps_stale")._value.get() == before + 1


def test_the_code_is_documented() -> None:
    import yaml
    docs = Path(__file__).parents[2] / "docs"
    spec = yaml.safe_load((docs / "asyncapi.yaml").read_text())
    assert "gps_stale" in spec["components"]["schemas"]["ErrorCode"]["enum"]
    assert "gps_stale" in spec["components"]["messages"]["gps"]["summary"]
    prose = (docs / "protocol.md").read_text()
    assert prose.count("`gps_stale`") >= 4
