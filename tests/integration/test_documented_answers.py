"""Answers docs/protocol.md describes and nothing else pinned: a second booking cancel is a
200 replay that changes nothing, and a counter's open/pause/close answer carries the
``offset`` of the event it made (none when nothing changed)."""

from __future__ import annotations

import asyncio
from typing import Any

from clients.client import Client
from tests.integration.conftest import Server
from tests.integration.test_booking_http import bserver, slot

__all__ = ["bserver"]


async def test_a_second_booking_cancel_is_a_200_replay(bserver: Server) -> None:
    c = bserver.client
    b = (await c.post("/v1/sites/demo/bookings", json={"slot": slot("r2", 2, "11:00"),
                      "customer": "kim", "channel": "app"},
                      headers=bserver.auth("partner", site="demo"))).json()
    own = {"Authorization": f"Bearer {b['token']}"}
    url = bserver.base.replace("http", "ws") + "/ws"
    async with Client(url, b["token"]) as phone:
        await phone.subscribe(f"booking:{b['id']}")
        assert (await phone.next(15))["op"] == "snapshot"
        first = await c.post(f"/v1/bookings/{b['id']}/cancel", headers=own)
        assert first.status_code == 200 and first.json()["status"] == "cancelled", first.text
        assert (await phone.next(15))["type"] == "cancelled"
        again = await c.post(f"/v1/bookings/{b['id']}/cancel", headers=own)
        assert again.status_code == 200, again.text
        assert again.json() == first.json()
        try:  # no second event
            extra: Any = await asyncio.wait_for(phone.next(15), 0.5)
        except TimeoutError:
            extra = None
        assert extra is None, extra


async def test_counter_state_answers_carry_the_events_offset(server: Server) -> None:
    c = server.client
    agent = server.auth("agent", site="demo", counter="1")
    url = server.base.replace("http", "ws") + "/ws"
    async with Client(url, server.token("agent", site="demo", counter="1")) as screen:
        await screen.subscribe("counter:demo:1")
        assert (await screen.next(15))["op"] == "snapshot"
        paused = await c.post("/v1/sites/demo/counters/1/pause", headers=agent)
        assert paused.status_code == 200, paused.text
        body = paused.json()
        assert body["counter"] == "1" and body["state"] == "paused" and body["ticket"] is None
        event = await screen.next(15)
        assert event["type"] == "counter_paused" and event["offset"] == body["offset"]
        same = await c.post("/v1/sites/demo/counters/1/pause", headers=agent)
        assert same.status_code == 200 and "offset" not in same.json(), same.text
