"""A patient sent from Room 1 to the lab and back: the ticket, its ``transferred`` event and
the queue list the counter console gets say where it last came from (``from_service``),
while ``transferred_from`` stays the service that issued it and ``issued_at`` (the console's
"waited n min") stays the first arrival."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgspec
import websockets
from redis.asyncio import Redis

from queueing import keys
from tests.integration.conftest import Server


async def _until(ws: Any, pred: Any) -> dict[str, Any]:
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if pred(msg):
            return msg  # type: ignore[no-any-return]


async def _take(server: Server) -> dict[str, Any]:
    r = await server.client.post("/v1/sites/demo/tickets", headers=server.auth(
        "kiosk", site="demo"), json={"service": "internal", "channel": "kiosk"})
    return r.json()  # type: ignore[no-any-return]


async def _send(server: Server, counter: str, tid: str, service: str) -> None:
    """Counter ``counter`` calls the ticket and transfers it to ``service``."""
    agent = server.auth("agent", site="demo", counter=counter)
    for op, body in (("call", {"ticket": tid}), ("transfer", {"service": service})):
        r = await server.client.post(f"/v1/sites/demo/counters/{counter}/{op}", json=body,
                                     headers=agent)
        assert r.status_code == 200, r.text


async def test_there_and_back_carries_from_service(server: Server, redis: Redis) -> None:
    c = server.client
    t = await _take(server)
    own = {"Authorization": f"Bearer {t['token']}"}
    fresh = (await c.get(f"/v1/tickets/{t['id']}", headers=own)).json()
    assert "from_service" not in fresh and "transferred_from" not in fresh
    start = (await redis.xrevrange(keys.events("demo"), "+", "-", count=1))[0][0].decode()
    url = (f"{server.base.replace('http', 'ws')}/ws?token="
           f"{server.token('agent', site='demo', counter='1')}")
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": "service:demo:internal",
                                  "id": 1}))
        snap = await _until(ws, lambda m: m.get("op") == "snapshot")
        row = next(r for r in snap["data"]["tickets"] if r["id"] == t["id"])
        assert "from_service" not in row
        # Room 1 calls and sends the patient to the lab (a counter's transfer).
        await _send(server, "1", t["id"], "lab")
        got = (await c.get(f"/v1/tickets/{t['id']}", headers=own)).json()
        assert (got["service"], got["from_service"], got["transferred_from"]) == (
            "lab", "internal", "internal")
        # The lab calls them and sends them back.
        await _send(server, "4", t["id"], "internal")
        # Room 1's list gets the returned ticket with where it came from.
        msg = await _until(ws, lambda m: m.get("type") == "changed" and any(
            i["ticket"]["id"] == t["id"] for i in m["data"]["inserted"]))
        row = next(i["ticket"] for i in msg["data"]["inserted"] if i["ticket"]["id"] == t["id"])
        assert row["status"] == "transferred" and row["from_service"] == "lab"
        assert row["issued_at"] is not None
    # The ticket view: back where it was issued, last transferred from the lab.
    got = (await c.get(f"/v1/tickets/{t['id']}", headers=own)).json()
    assert got["service"] == "internal" and got["from_service"] == "lab"
    assert "transferred_from" not in got  # as before: only while elsewhere than its issuer
    assert got["issued_at"] == fresh["issued_at"]  # the first arrival, kept
    # The events: each transfer's from_service / to_service, and its ticket carries it.
    rows = await redis.xrange(keys.events("demo"), "(" + start, "+")
    moves = [msgspec.json.decode(f[b"d"]) for _, f in rows if f[b"t"] == b"transferred"]
    assert [(d["from_service"], d["to_service"], d["ticket"]["from_service"]) for d in moves] \
        == [("internal", "lab", "internal"), ("lab", "internal", "lab")]
    # A console opened now: the snapshot row and the holder's ticket topic say it too.
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": "service:demo:internal",
                                  "id": 1}))
        snap = await _until(ws, lambda m: m.get("op") == "snapshot")
        row = next(r for r in snap["data"]["tickets"] if r["id"] == t["id"])
        assert row["from_service"] == "lab"
    ws_url = f"{server.base.replace('http', 'ws')}/ws?token={t['token']}"
    async with websockets.connect(ws_url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": f"ticket:{t['id']}", "id": 1}))
        snap = await _until(ws, lambda m: m.get("op") == "snapshot")
        assert snap["data"]["from_service"] == "lab"


async def test_a_move_by_id_records_from_service(server: Server) -> None:
    c = server.client
    agent = server.auth("agent", site="demo", counter="1")
    t = await _take(server)
    r = await c.post(f"/v1/tickets/{t['id']}/transfer", json={"service": "lab"},
                     headers=agent)
    assert r.status_code == 200 and r.json()["from_service"] == "internal", r.text
    r = await c.post(f"/v1/tickets/{t['id']}/transfer", json={"service": "pharmacy"},
                     headers=agent)
    got = r.json()
    assert (got["from_service"], got["transferred_from"]) == ("lab", "internal")
