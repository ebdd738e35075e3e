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


async def _two_waiting_at_a_free_counter(s: Any) -> list[str]:
    """Counter 3 alone serves paediatrics: open, free; two people come."""
    admin = s.auth("admin")
    r = await s.client.put("/v1/sites/demo", content=_demo_json(), headers=admin)
    assert r.status_code == 200, r.text
    assert (await s.client.post("/v1/sites/demo/counters/3/open", headers=admin)
            ).status_code == 200
    ids = []
    for _ in range(2):
        r = await s.client.post("/v1/sites/demo/tickets", headers=admin,
                                json={"service": "paediatrics", "channel": "kiosk"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


async def test_a_free_counter_nobody_is_at_moves_the_estimate_without_an_event(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(predictor, "IDLE_GRACE_S", 1.0)
    async with running_server(redis_server.url, tmp_path, trim_interval_s=1) as s:
        admin = s.auth("admin")
        ids = await _two_waiting_at_a_free_counter(s)
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


async def test_the_board_and_console_estimates_move_without_an_event(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A waiting-room board, an area's board and a counter console on a quiet floor: their
    service estimates follow time too (they kept the last event's until the next event;
    the floor overview beside a fresh page showed 3–50 min against 1–59)."""
    monkeypatch.setattr(predictor, "IDLE_GRACE_S", 1.0)
    async with running_server(redis_server.url, tmp_path, trim_interval_s=1) as s:
        await _two_waiting_at_a_free_counter(s)
        ws = s.base.replace("http", "ws") + "/ws"
        board = Client(ws, make_token(SECRET, "display", site="demo"))
        console = Client(ws, make_token(SECRET, "agent", site="demo", counter="3"))
        async with board, console:
            for c, topic in ((board, "board:demo"), (console, "counter:demo:3")):
                await c.subscribe(topic)
                snap = await c.next(10)
                assert snap["op"] == "snapshot", snap

            def paediatrics(msg: dict[str, Any]) -> Any:
                d = msg["data"]
                if "services" in d:
                    return next(x for x in d["services"] if x["id"] == "paediatrics")
                return d["waiting"]["paediatrics"]

            for c in (board, console):
                got: list[dict[str, Any]] = []
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(8):
                        while not got or (paediatrics(got[-1])["estimate"] or {}).get(
                                "wait_s", 0) < 60:
                            got.append(await c.next())
                assert got, "no message without an event"
                assert got[-1]["type"] == "waiting", got[-1]
                # Minutes now: nobody is at the free counter (a late counter's range).
                assert paediatrics(got[-1])["estimate"]["wait_s"] >= 60, got[-1]
                assert paediatrics(got[-1])["open"] == 1
