"""The ticket topic carries what ``GET /v1/tickets/{id}`` does for a booked ticket: its
appointment time (the holder's page had to make a second request for it), in the same form
(the site's offset: the topic gave UTC while GET gave local time)."""

from __future__ import annotations

import time

import websockets

from tests.integration.conftest import Server
from tests.integration.test_protocol_conformance import JSON, ask, ws_url


async def test_a_booked_ticket_shows_its_appointment_on_its_topic(server: Server) -> None:
    at_ms = (int(time.time()) // 60 + 30) * 60_000
    # A walk-in first: the hub then follows the site, and the booked ticket reaches its view
    # by the issue event (the time as the script wrote it, a string), not by a snapshot.
    walk_in = (await server.client.post("/v1/sites/demo/tickets", headers=server.auth("admin"),
                                        json={"service": "lab", "channel": "kiosk"})).json()
    r = await server.client.post("/v1/sites/demo/tickets", headers=server.auth("admin"), json={
        "service": "lab", "channel": "web", "priority": "appointment",
        "appointment_ms": at_ms})
    t = r.json()
    assert r.status_code == 201 and t["appointment_at"]
    async with websockets.connect(ws_url(server, t["token"]), subprotocols=[JSON]) as ws:
        snap = await ask(ws, {"op": "subscribe", "topic": f"ticket:{t['id']}", "id": 1})
        assert snap["op"] == "snapshot"
        # The same string GET gives: the site's offset (the demo: +08:00), not UTC.
        got = snap["data"]["appointment_at"]
        assert got == t["appointment_at"] and got.endswith("+08:00")
        own = await server.client.get(f"/v1/tickets/{t['id']}", headers=server.auth("admin"))
        assert own.json()["appointment_at"] == got
    async with websockets.connect(ws_url(server, walk_in["token"]), subprotocols=[JSON]) as ws:
        snap = await ask(ws, {"op": "subscribe", "topic": f"ticket:{walk_in['id']}", "id": 1})
        assert "appointment_at" not in snap["data"]
