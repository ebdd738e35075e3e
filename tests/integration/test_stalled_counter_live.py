"""A page left open while its counter stands free with nobody calling: time alone moves the
estimate. Before, "you are next, any minute now" stayed on the page (and in texts) for as
long as nobody pressed "call next", since estimates were only made again on an event.
In-process server: trims (and so the hub's refresh round) every second, and the idle grace
of the estimator shortened from 90 s to 1 s."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from clients.client import Client
from queueing.estimate import predictor
from realtime.auth import make_token
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import SECRET, _demo_json, running_server


async def test_a_free_counter_nobody_is_at_moves_the_estimate_without_an_event(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(predictor, "IDLE_GRACE_S", 1.0)
    async with running_server(redis_server.url, tmp_path, trim_interval_s=1) as s:
        admin = s.auth("admin")
        r = await s.client.put("/v1/sites/demo", content=_demo_json(), headers=admin)
        assert r.status_code == 200, r.text
        # Counter 3 alone serves paediatrics: open, free; two people come.
        assert (await s.client.post("/v1/sites/demo/counters/3/open", headers=admin)
                ).status_code == 200
        ids = []
        for _ in range(2):
            r = await s.client.post("/v1/sites/demo/tickets", headers=admin,
                                    json={"service": "paediatrics", "channel": "kiosk"})
            ids.append(r.json()["id"])
        # The first in line follows her ticket: next, and the counter is free.
        phone = Client(s.base.replace("http", "ws") + "/ws",
                       make_token(SECRET, "ticket", ticket=ids[0]))
        async with phone:
            await phone.subscribe(f"ticket:{ids[0]}")
            snap = await phone.next(10)
            assert snap["op"] == "snapshot"
            first = snap["data"]["estimate"]
            assert first == {"wait_s": 0, "low_s": 0, "high_s": 0}, first  # any minute now
            # Nothing happens at the counter; no event at the site at all.
            got: list[dict[str, Any]] = []
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(8):
                    while not got or got[-1]["data"]["estimate"]["wait_s"] <= first["wait_s"]:
                        got.append(await phone.next())
            assert got, "no message without an event"
            moved = got[-1]
            assert moved["type"] == "position" and moved["data"]["position"] == 1
            # Minutes now, with the range a late counter has (docs/estimates.md).
            assert moved["data"]["estimate"]["wait_s"] >= 60
            assert moved["data"]["estimate"]["high_s"] > moved["data"]["estimate"]["wait_s"]
        # The counter calls: the estimate is for a working counter again (the call is the
        # event; nobody is "late" any more).
        r = await s.client.post("/v1/sites/demo/counters/3/call-next", headers=admin)
        assert r.json()["id"] == ids[0]
