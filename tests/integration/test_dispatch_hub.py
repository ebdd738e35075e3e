"""Dispatch topics and device ops over real websockets (uvicorn) and a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import websockets
from redis.asyncio import Redis

from clients.client import Client, Position
from dispatch.engine import DispatchEngine, NoEnqueuer
from dispatch.model import OrgSpec
from dispatch.recompute import Recomputer
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server, running_server
from tests.integration.test_dispatch_support import (
    ADMIN,
    add_techs,
    clock_engine,
    config,
    job,
    recomputer,
    tech_spec,
)

MSGPACK = "switchboard.v1.msgpack"


@pytest.fixture
async def dserver(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
                  ) -> AsyncIterator[Server]:
    async with running_server(redis_server.url, tmp_path) as s:
        yield s


@pytest.fixture
async def city(redis: Redis, dserver: Server) -> tuple[DispatchEngine, Recomputer]:
    # Wall clock: the hub stamps and orders by Redis stream ids in real time.
    eng = clock_engine(redis, _wall, NoEnqueuer())
    await eng.put_region("city", config(improve_s=0), ADMIN)
    await add_techs(eng, _wall(), {"city.a": tech_spec(52.370, 4.891, name="Anna de Vries"),
                                   "city.b": tech_spec(52.390, 4.930, name="Bram")})
    return eng, recomputer(eng)


def _wall() -> int:
    import time
    return time.time_ns() // 1_000_000


def ws_url(server: Server) -> str:
    return server.base.replace("http", "ws") + "/ws"


class Device:
    """A wristband: msgpack frames, raw sizes kept."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.sizes: list[tuple[str, int]] = []

    async def send(self, msg: dict[str, Any]) -> int:
        frame = msgspec.msgpack.encode(msg)
        await self.ws.send(frame)
        return len(frame)

    async def recv(self, wait_s: float = 5.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), wait_s)
        assert isinstance(raw, bytes)
        msg: dict[str, Any] = msgspec.msgpack.decode(raw)
        self.sizes.append((msg.get("type") or msg["op"], len(raw)))
        return msg

    async def until(self, pred: Any, wait_s: float = 5.0) -> dict[str, Any]:
        while True:
            msg = await self.recv(wait_s)
            if pred(msg):
                return msg


async def test_device_gets_offer_within_budget_and_answers(
        dserver: Server, city: tuple[DispatchEngine, Recomputer]) -> None:
    eng, rc = city
    token = dserver.token("tech", tech="city.a")
    async with websockets.connect(f"{ws_url(dserver)}?token={token}",
                                  subprotocols=[MSGPACK]) as ws:  # type: ignore[list-item]
        dev = Device(ws)
        await dev.send({"op": "subscribe", "topic": "tech:city.a", "id": 1})
        snap = await dev.recv()
        assert snap["op"] == "snapshot" and snap["data"]["status"] == "available"
        jid = (await eng.create_job("city", job(52.370, 4.890, window=(
            _wall() + 3600_000, _wall() + 7200_000), priority=90), ADMIN))["id"]
        await rc.run("city")
        offer = await dev.until(lambda m: m.get("type") == "offer")
        size = dict(dev.sizes)["offer"]
        assert size <= 256, size
        assert offer["data"]["j"] == jid and offer["data"]["dl"] > _wall()
        assert offer["data"]["w"][1] - offer["data"]["w"][0] == 3600_000
        # Accept, with an action id; the same action again (a replay) is acked, applied once.
        seen: list[dict[str, Any]] = []
        for _ in range(2):
            await dev.send({"op": "act", "aid": "acc-1", "k": "accept", "t": _wall(),
                            "j": jid, "id": 7})
            while not seen or seen[-1]["op"] not in ("pong", "error"):
                seen.append(await dev.recv())
            assert seen[-1] == {"op": "pong", "id": 7}
        changed = [m for m in seen if m.get("type") == "route_changed"]
        while not changed:
            changed = [await dev.until(lambda m: m.get("type") == "route_changed")]
        assert len(changed) == 1  # applied once
        changed = changed[0]
        assert changed["data"]["reason"] == "accepted"
        assert changed["data"]["route"][0]["status"] == "assigned"
        assert (await eng.job(jid))["status"] == "assigned"
        # GPS over the socket: the frame is within 64 bytes; a bad one is named.
        n = await dev.send({"op": "gps", "t": _wall(), "la": 52.370312, "lo": 4.890851,
                            "s": 9, "a": 12, "id": 8})
        assert n <= 64, n
        assert (await dev.until(lambda m: m["op"] in ("pong", "error")))["op"] == "pong"
        await dev.send({"op": "gps", "t": _wall() + 3600_000, "la": 52.37, "lo": 4.89,
                        "id": 9})
        err = await dev.until(lambda m: m["op"] == "error")
        assert err["code"] == "gps_future" and err["id"] == 9
        # Another technician's topic is not this token's.
        await dev.send({"op": "subscribe", "topic": "tech:city.b", "id": 10})
        err = await dev.until(lambda m: m["op"] == "error")
        assert err["code"] == "forbidden"


async def test_customer_tracks_technician_position_and_eta(
        dserver: Server, city: tuple[DispatchEngine, Recomputer]) -> None:
    eng, rc = city
    r = await dserver.client.post("/v1/regions/city/jobs", json={
        "location": {"lat": 52.371, "lon": 4.895}, "duration_s": 1800, "customer": "Mrs K"},
        headers=dserver.auth("dispatcher", region="city"))
    assert r.status_code == 201, r.text
    created = r.json()
    jid = created["id"]
    await rc.run("city")
    tech = (await eng.job(jid))["technician"]
    async with Client(ws_url(dserver), created["token"]) as page:
        await page.subscribe(f"job:{jid}")
        snap = await page.next(5)
        assert snap["data"]["status"] == "offered" and snap["data"]["technician"] is None
        dev = dserver.token("tech", tech=tech)
        h = {"Authorization": f"Bearer {dev}"}
        r = await dserver.client.post(f"/v1/technicians/{tech}/actions", headers=h, json={
            "actions": [{"aid": "1", "k": "accept", "t": _wall(), "j": jid},
                        {"aid": "2", "k": "depart", "t": _wall(), "j": jid}]})
        assert [x["ok"] for x in r.json()["results"]] == [True, True]
        seen = [await page.next(5), await page.next(5)]
        assert [m["data"]["status"] for m in seen] == ["assigned", "en_route"]
        assert seen[1]["data"]["technician"]["name"] in ("Anna", "Bram")
        r = await dserver.client.post(f"/v1/technicians/{tech}/gps", headers=h, json={
            "fixes": [{"t": _wall(), "la": 52.375, "lo": 4.90}]})
        assert r.json()["accepted"] == 1
        moved = await page.next(5)
        assert moved["type"] == "position"
        d = moved["data"]
        assert d["technician"]["lat"] == 52.375 and d["eta_ms"] > _wall()
        # Only the first name and the position: nothing else about the technician.
        assert set(d["technician"]) == {"name", "lat", "lon", "at_ms"}
        other = dserver.token("customer", job="city.j-000000000000")
        async with Client(ws_url(dserver), other) as nosy:
            await nosy.subscribe(f"job:{jid}")
            assert (await nosy.next(5))["code"] == "forbidden"


async def test_org_dashboard_and_resume(dserver: Server,
                                        city: tuple[DispatchEngine, Recomputer]) -> None:
    eng, rc = city
    await eng.put_org("city.acme", OrgSpec("ACME"), ADMIN)
    org_token = dserver.token("org", org="city.acme")
    h = {"Authorization": f"Bearer {org_token}"}
    r = await dserver.client.post("/v1/orgs/city.acme/batches", headers=h, json={
        "name": "Tower A", "jobs": [{"location": {"lat": 52.37 + 0.001 * i, "lon": 4.89},
                                     "duration_s": 1200} for i in range(5)]})
    assert r.status_code == 201, r.text
    async with Client(ws_url(dserver), org_token) as dash:
        await dash.subscribe("org:city.acme")
        snap = await dash.next(5)
        assert "data" in snap, snap
        assert snap["data"]["counts"] == {"new": 5}
        assert snap["data"]["batches"][0]["name"] == "Tower A"
        await rc.run("city")
        # One "job" message per offer; "progress" may come between (the hub writes what it
        # has when a batch of changes takes long, so some states are not merged away).
        msgs = [await dash.next(5)]
        while msgs[-1]["data"].get("counts") != {"offered": 5} and len(msgs) < 20:
            msgs.append(await dash.next(5))
        assert {m["type"] for m in msgs} <= {"job", "progress"}
        assert len({m["data"]["changed"]["job"] for m in msgs if m["type"] == "job"}) == 5
        assert msgs[-1]["data"]["counts"] == {"offered": 5}
        pos = Position(msgs[-1]["epoch"], msgs[-1]["offset"])
    # Offline: two offers are answered; the dashboard resumes and gets exactly those.
    b = await eng.org("city.acme")
    first = r.json()["jobs"][:2]
    for jid in first:
        t = (await eng.job(jid))["technician"]
        from dispatch.model import Action, ActionKind
        await eng.action(t, Action(f"acc-{jid}", ActionKind.ACCEPT, _wall(), jid), ADMIN)
    async with Client(ws_url(dserver), org_token) as dash:
        await dash.subscribe("org:city.acme", since=pos)
        got = [await dash.next(5) for _ in range(2)]
        assert [m["data"]["changed"]["status"] for m in got] == ["assigned", "assigned"]
        assert got[-1]["data"]["counts"] == {"offered": 3, "assigned": 2}  # current attached
        with pytest.raises(TimeoutError):
            await dash.next(0.3)
    assert b["counts"] == {"offered": 5}


async def test_a_region_resume_from_an_entry_a_restore_lost_resyncs(
        dserver: Server, city: tuple[DispatchEngine, Recomputer], redis: Redis) -> None:
    """As for sites: after Redis is restored from a backup (same epoch), a dashboard resuming
    from an offset the stream no longer holds gets a resync, not the entries after it."""
    from dispatch import keys as dkeys
    eng, _ = city
    await eng.put_org("city.acme", OrgSpec("ACME"), ADMIN)
    org_token = dserver.token("org", org="city.acme")
    stream = dkeys.events("city")
    backup = await redis.dump(stream)
    await eng.create_job("city", job(52.371, 4.892, org="city.acme"), ADMIN)
    async with Client(ws_url(dserver), org_token) as dash:
        await dash.subscribe("org:city.acme")
        snap = await dash.next(5)
    last = (await redis.xrevrange(stream, count=1))[0][0].decode()
    await redis.restore(stream, 0, backup, replace=True)
    await eng.create_job("city", job(52.372, 4.893, org="city.acme"), ADMIN)
    async with Client(ws_url(dserver), org_token) as dash:
        await dash.subscribe("org:city.acme", since=Position(snap["epoch"], last))
        msg = await dash.next(5)
        assert msg["op"] == "snapshot" and msg["resync"] is True, msg


async def test_a_dispatcher_following_a_removed_technician_is_told(
        dserver: Server, city: tuple[DispatchEngine, Recomputer]) -> None:
    """DELETE /v1/technicians/{id}: a screen following that technician gets `removed` (it
    went quiet before), live and when it resumes from before the removal."""
    token = dserver.token("dispatcher", region="city")
    async with Client(ws_url(dserver), token) as screen:
        await screen.subscribe("tech:city.b")
        snap = await screen.next(5)
        before = Position(snap["epoch"], snap["offset"])
        r = await dserver.client.delete("/v1/technicians/city.b",
                                        headers=dserver.auth("dispatcher", region="city"))
        assert r.status_code == 200, r.text
        msg = await screen.next(5)
        assert msg["type"] == "removed" and msg["data"] == {"tech": "city.b"}, msg
    async with Client(ws_url(dserver), token) as screen:
        await screen.subscribe("tech:city.b", since=before)
        replayed = await screen.next(5)
        assert replayed["type"] == "removed", replayed


async def test_an_action_without_its_job_is_malformed_not_an_unknown_job(
        dserver: Server, city: tuple[DispatchEngine, Recomputer]) -> None:
    """``accept`` (or any job step) without ``j`` was refused ``unknown_job`` "unknown job "
    (an empty id): now the frame is ``invalid_message`` naming the field, over the socket and
    in the REST batch alike (``bad_request``); an action about the technician needs none."""
    token = dserver.token("tech", tech="city.a")
    async with websockets.connect(f"{ws_url(dserver)}?token={token}",
                                  subprotocols=[MSGPACK]) as ws:  # type: ignore[list-item]
        dev = Device(ws)
        for k in ("accept", "decline", "depart", "arrive", "complete", "fail"):
            await dev.send({"op": "act", "aid": f"no-j-{k}", "k": k, "t": _wall(), "id": 3})
            err = await dev.until(lambda m: m["op"] in ("error", "pong"))
            assert err["op"] == "error" and err["code"] == "invalid_message", err
            assert err["details"] == {"field": "j"} and err["id"] == 3
            assert k in err["message"]
        await dev.send({"op": "act", "aid": "brk-1", "k": "break", "t": _wall(), "id": 4})
        assert await dev.until(lambda m: m["op"] in ("error", "pong")) == {"op": "pong", "id": 4}
    auth = {"Authorization": f"Bearer {token}"}
    r = await dserver.client.post("/v1/technicians/city.a/actions", headers=auth,
                                  json={"actions": [{"aid": "rest-no-j", "k": "accept",
                                                     "t": _wall()}]})
    assert r.status_code == 200, r.text
    [res] = r.json()["results"]
    assert res["ok"] is False and res["code"] == "bad_request"
    assert res["details"] == {"field": "j"}

