"""The ``region:{id}`` topic (a dispatcher console's whole region) over real websockets and a
real Redis: job changes with their reason, technicians' summaries, KPI tiles; scoped to the
region's dispatchers."""

from __future__ import annotations

from typing import Any

from clients.client import Client, Position
from dispatch.engine import DispatchEngine
from dispatch.recompute import Recomputer
from tests.integration.conftest import Server
from tests.integration.test_dispatch_hub import _wall, city, dserver, ws_url  # noqa: F401
from tests.integration.test_dispatch_support import ADMIN, job


async def _until(page: Client, pred: Any, n: int = 30) -> dict[str, Any]:
    for _ in range(n):
        msg = await page.next(5)
        if pred(msg):
            return msg
    raise AssertionError("not seen")


async def test_a_job_change_shows_on_the_region_topic(
        dserver: Server, city: tuple[DispatchEngine, Recomputer]) -> None:  # noqa: F811
    eng, rc = city
    token = dserver.token("dispatcher", region="city")
    async with Client(ws_url(dserver), token) as console:
        await console.subscribe("region:city")
        snap = await console.next(5)
        assert snap["op"] == "snapshot", snap
        data = snap["data"]
        assert data["jobs"] == [] and {t["id"] for t in data["techs"]} == {"city.a", "city.b"}
        assert data["kpis"]["jobs_created"] == 0
        jid = (await eng.create_job("city", job(52.370, 4.890), ADMIN))["id"]
        created = await console.next(5)
        assert created["type"] == "job", created
        assert created["data"]["job"]["id"] == jid and created["data"]["job"]["status"] == "new"
        assert created["data"]["change"] == "job_created"
        assert created["data"]["kpis"]["jobs_created"] == 1  # the tile moved with it
        await rc.run("city")
        offered = await _until(console, lambda m: m.get("type") == "job"
                               and m["data"]["job"]["status"] == "offered")
        tech = offered["data"]["job"]["technician"]
        assert tech in ("city.a", "city.b")
        r = await dserver.client.post(f"/v1/jobs/{jid}/cancel", json={"reason": "by phone"},
                                      headers=dserver.auth("dispatcher", region="city"))
        assert r.status_code == 200, r.text
        ended = await _until(console, lambda m: m.get("type") == "job"
                             and m["data"]["job"]["status"] == "cancelled")
        assert ended["data"]["reason"] == "by phone"
        # GPS: a technician's summary comes again once it moved (coalesced, not every fix).
        h = {"Authorization": f"Bearer {dserver.token('tech', tech='city.a')}"}
        r = await dserver.client.post("/v1/technicians/city.a/gps", headers=h, json={
            "fixes": [{"t": _wall(), "la": 52.380, "lo": 4.900}]})
        assert r.json()["accepted"] == 1
        moved = await _until(console, lambda m: "techs" in m.get("data", {}))
        row = moved["data"]["techs"][0]
        assert row["id"] == "city.a" and row["position"]["lat"] == 52.380
        # A resume is a resync: the whole region again.
        pos = Position(moved["epoch"], moved["offset"])
    async with Client(ws_url(dserver), token) as console:
        await console.subscribe("region:city", since=pos)
        again = await console.next(5)
        assert again["op"] == "snapshot" and again["resync"] is True


async def test_the_region_topic_is_its_dispatchers_only(
        dserver: Server, city: tuple[DispatchEngine, Recomputer]) -> None:  # noqa: F811
    for token in (dserver.token("dispatcher", region="south"),
                  dserver.token("tech", tech="city.a"),
                  dserver.token("org", org="city.acme")):
        async with Client(ws_url(dserver), token) as nosy:
            await nosy.subscribe("region:city")
            msg = await nosy.next(5)
            assert msg.get("code") == "forbidden", msg
    async with Client(ws_url(dserver), dserver.token("admin")) as admin:
        await admin.subscribe("region:city")
        assert (await admin.next(5))["op"] == "snapshot"
        await admin.subscribe("region:nowhere")
        assert (await admin.next(5))["code"] == "unknown_topic"
