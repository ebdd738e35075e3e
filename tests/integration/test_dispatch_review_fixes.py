"""Review findings on a running system (serve --demo, a worker, the device simulator), each
pinned on a real Redis and, where a client sees it, a real server."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis

from dispatch import keys
from dispatch.engine import DispatchEngine, NoEnqueuer
from dispatch.model import Action, ActionKind, RegionConfig
from dispatch.recompute import WHOLE, Recomputer
from dispatch.view import RegionView
from realtime.hub.dispatch_topics import TechTopic
from realtime.hub.entry import decode_entry
from tests.integration.conftest import Clock, Server
from tests.integration.test_dispatch_http import now, srv
from tests.integration.test_dispatch_support import (
    ADMIN,
    add_techs,
    clock_engine,
    config,
    job,
    recomputer,
    tech_spec,
)

__all__ = ["srv"]  # the fixture, imported for pytest


async def test_customer_get_job_is_the_tracking_view(srv: Server, redis: Redis) -> None:
    # An offered job: the customer's REST view is the job topic's, never the technician's id,
    # the note, the priority or the offer's deadline; staff keep the whole job.
    eng = clock_engine(redis, now, NoEnqueuer())
    await eng.put_region("city", config(improve_s=0), ADMIN)
    await add_techs(eng, now(), {"city.t1": tech_spec(52.370, 4.891, name="Anna de Vries")})
    c, disp = srv.client, srv.auth("dispatcher", region="city")
    r = await c.post("/v1/regions/city/jobs", headers=disp, json={
        "location": {"lat": 52.371, "lon": 4.891}, "note": "key under the mat",
        "priority": 50, "customer": "Mrs K"})
    assert r.status_code == 201, r.text
    created = r.json()
    jid, cust = created["id"], {"Authorization": f"Bearer {created['token']}"}
    await recomputer(eng).run("city")
    staff = (await c.get(f"/v1/jobs/{jid}", headers=disp)).json()
    assert staff["status"] == "offered" and staff["technician"] == "city.t1"
    assert staff["note"] == "key under the mat" and staff["offer_deadline_ms"]
    r = await c.get(f"/v1/jobs/{jid}", headers=cust)
    assert r.status_code == 200
    view = r.json()
    assert set(view) == {"id", "status", "window", "eta_ms", "technician", "reason"}
    assert view["status"] == "offered" and view["technician"] is None
    assert view["eta_ms"] == staff["eta_ms"]
    # Accepted: the first name, nothing else about the technician.
    await eng.action("city.t1", _accept(jid), ADMIN)
    view = (await c.get(f"/v1/jobs/{jid}", headers=cust)).json()
    assert view["status"] == "assigned" and view["technician"] == {"name": "Anna"}
    # Cancelling answers with the same view.
    r = await c.post(f"/v1/jobs/{jid}/cancel", headers=cust, json={"reason": "moved"})
    assert r.status_code == 200
    assert r.json()["status"] == "cancelled" and "note" not in r.json()
    assert "technician" in (await c.get(f"/v1/jobs/{jid}", headers=disp)).json()
    ended = (await c.get(f"/v1/jobs/{jid}", headers=cust)).json()
    assert ended["status"] == "cancelled" and ended["reason"] == "moved"
    assert ended["technician"] is None and "note" not in ended


def _accept(jid: str) -> Action:
    return Action(f"acc-{jid}", ActionKind.ACCEPT, now(), jid)


class _Feed:
    """What the tech namespace reads from a hub's RegionFeed: the region view."""

    def __init__(self, rv: RegionView) -> None:
        self.rv = rv


async def test_new_owner_of_a_moved_offer_is_not_told_it_was_withdrawn(
        redis: Redis, clock: Clock) -> None:
    # A plan moves an offered job from t1 to t3: t1 hears offer_withdrawn; t3 hears of an
    # offer (route_changed "offered", then the offer), never "withdrawn".
    eng = clock_engine(redis, clock, NoEnqueuer())
    await eng.put_region("city", config(improve_s=0), ADMIN)
    await add_techs(eng, clock.now, {"city.t1": tech_spec(52.370, 4.891),
                                     "city.t3": tech_spec(52.380, 4.900)})
    jid = (await eng.create_job("city", job(52.370, 4.890), ADMIN))["id"]
    rc = recomputer(eng)
    await rc.run("city")
    assert (await eng.job(jid))["technician"] == "city.t1"
    snap = await eng.snapshot("city")
    feed = _Feed(RegionView.from_snapshot("city", snap))
    token = await rc.acquire("city")
    eta = clock.now + 600_000
    await rc.publish("city", token, config(), {
        "reason": "improve", "moved": 1, "planned": 1, "unassigned": {}, "offers": {},
        "routes": {"city.t1": [], "city.t3": [[jid, eta, eta, eta + 1800_000]]},
        "pos": {}, "hist": {}})
    await rc.lock("city", "release", token)
    ns = TechTopic()
    heard: dict[str, list[tuple[str, Any]]] = {"city.t1": [], "city.t3": []}
    replay: dict[str, list[tuple[str, Any]]] = {"city.t1": [], "city.t3": []}
    for eid, fields in await redis.xrange(keys.events("city"), "(" + snap["offset"], "+"):
        entry = decode_entry(eid, fields)
        change = feed.rv.apply(entry.type, entry.data)
        for topic in set(ns.affected(feed, entry, change)):
            tid = topic.split(":", 1)[1]
            ref = ns.parse(topic, (tid,))
            msg = ns.live(feed, ref, entry, change)
            if msg is not None:
                heard[tid].append((msg.type, msg.data.get("reason")))
            old = ns.history(feed, ref, entry, clock.now)
            if old is not None:
                replay[tid].append((old.type, old.data.get("reason")))
    assert ("offer_withdrawn", "reassigned") in heard["city.t1"]
    for seen in (heard["city.t3"], replay["city.t3"]):
        assert ("route_changed", "withdrawn") not in seen, seen
        assert seen[-2:] == [("route_changed", "offered"), ("offer", None)], seen


async def test_offer_candidates_are_a_list_even_when_empty(redis: Redis, clock: Clock) -> None:
    # Alone in the region, a technician's offer has no next candidates: [] on the stream
    # (Lua's cjson wrote the empty table as {}); with a second one, [[tech, cost]].
    eng = clock_engine(redis, clock, NoEnqueuer())
    await eng.put_region("city", config(improve_s=0), ADMIN)
    await add_techs(eng, clock.now, {"city.t1": tech_spec(52.370, 4.891)})
    rc = recomputer(eng)
    first = (await eng.create_job("city", job(52.370, 4.890), ADMIN))["id"]
    await rc.run("city")
    await add_techs(eng, clock.now, {"city.t3": tech_spec(52.380, 4.900)})
    second = (await eng.create_job("city", job(52.371, 4.891), ADMIN))["id"]
    await rc.run("city")
    offered = {}
    for _, f in await redis.xrange(keys.events("city")):
        if f[b"t"] == b"offered":
            d = msgspec.json.decode(f[b"d"])
            offered[d["job"]["id"]] = d["candidates"]
    assert offered[first] == []
    (cand,) = offered[second]
    assert cand[0] in ("city.t1", "city.t3") and isinstance(cand[1], int)


class _Stuck(Recomputer):
    """A worker whose pass stops before it publishes: it fails, or hangs until cancelled
    (arq cancels the job on SIGINT and retries it)."""

    def __init__(self, eng: DispatchEngine, fail: bool) -> None:
        super().__init__(eng, threads=False)
        self.fail = fail
        self.reached = asyncio.Event()

    async def publish(self, region: str, token: int, cfg: RegionConfig,
                      payload: dict[str, Any]) -> dict[str, Any]:
        self.reached.set()
        if self.fail:
            raise RuntimeError("worker died mid-pass")
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


@pytest.mark.parametrize("fail", [True, False], ids=["error", "cancelled"])
async def test_dirty_work_outlives_an_interrupted_pass(redis: Redis, clock: Clock,
                                                       fail: bool) -> None:
    eng = clock_engine(redis, clock, NoEnqueuer())
    await eng.put_region("city", config(improve_s=0), ADMIN)
    await add_techs(eng, clock.now, {"city.t1": tech_spec(52.370, 4.891)})
    rc = recomputer(eng)
    await rc.run("city")
    # A full recompute is asked for (POST /v1/regions/city/recompute does this).
    await redis.sadd(keys.prefix("city") + "dirty", WHOLE)  # type: ignore[misc]
    stuck = _Stuck(eng, fail)
    run = asyncio.create_task(stuck.run("city", "requested"))
    await asyncio.wait_for(stuck.reached.wait(), 5)
    if not fail:
        run.cancel()
    with pytest.raises(RuntimeError if fail else asyncio.CancelledError):
        await run
    assert await rc.has_work("city")
    # The retry (or the next trigger) does the pass the interrupted one did not publish.
    version = int(await redis.hget(keys.prefix("city") + "plan", "version"))  # type: ignore[misc]
    (report,) = await rc.run("city", "requested")
    assert report.mode == "full" and report.version == version + 1
    assert not await rc.has_work("city")
    assert await rc.run("city") == []
