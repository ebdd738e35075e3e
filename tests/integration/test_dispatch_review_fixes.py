"""Review findings on a running system (serve --demo, a worker, the device simulator), each
pinned on a real Redis and, where a client sees it, a real server."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis

from dispatch import keys
from dispatch.engine import Actor, DispatchEngine, NoEnqueuer
from dispatch.gps import Fix
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
    assert set(view) == {"id", "status", "window", "eta_ms", "start_ms", "technician",
                         "reason", "due_ms"}
    assert view["status"] == "offered" and view["technician"] is None
    assert view["eta_ms"] == staff["eta_ms"]
    assert view["start_ms"] == max(view["eta_ms"], view["window"][0] if view["window"] else 0)
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


async def test_a_manual_arrival_far_from_the_job_is_accepted_but_flagged(
        redis: Redis, clock: Clock) -> None:
    # Two technicians tap "arrived": t1 with its GPS 2 km from the job (flagged: `far` on the
    # event, the job's arrive_m, the KPI), t2 at the door; a third job's arrival with no fix
    # near the tap (GPS off) has nothing to judge by. All three are accepted: GPS fails
    # indoors, and a technician at the door must be able to start.
    eng = clock_engine(redis, clock, NoEnqueuer())
    await eng.put_region("city", config(improve_s=0), ADMIN)
    await add_techs(eng, clock.now, {"city.t1": tech_spec(52.370, 4.891),
                                     "city.t2": tech_spec(52.380, 4.900),
                                     "city.t3": tech_spec(52.390, 4.910)})
    j1 = (await eng.create_job("city", job(52.370, 4.891), ADMIN))["id"]
    j2 = (await eng.create_job("city", job(52.380, 4.900), ADMIN))["id"]
    j3 = (await eng.create_job("city", job(52.390, 4.910), ADMIN))["id"]
    await recomputer(eng).run("city")
    owner = {j: (await eng.job(j))["technician"] for j in (j1, j2, j3)}
    assert owner == {j1: "city.t1", j2: "city.t2", j3: "city.t3"}, owner
    for jid, tid in owner.items():
        await eng.action(tid, Action(f"acc-{jid}", ActionKind.ACCEPT, clock.now, jid), ADMIN)
    clock.advance(60)
    device = Actor("device", "device")
    # t1 is 2 km south of its job (accuracy 30 m); t2 is 20 m from its own.
    await eng.gps("city.t1", Fix(clock.now - 5_000, 52.352, 4.891, None, 30.0), device)
    await eng.gps("city.t2", Fix(clock.now - 5_000, 52.3801, 4.9001, None, 10.0), device)
    # t3's last fix is 10 min old: nothing near the tap.
    await eng.gps("city.t3", Fix(clock.now - 600_000 + 60_000, 52.391, 4.911, None, None),
                  device)
    far = (await eng.action("city.t1", Action("arr-1", ActionKind.ARRIVE, clock.now, j1),
                            device))["job"]
    near = (await eng.action("city.t2", Action("arr-2", ActionKind.ARRIVE, clock.now, j2),
                             device))["job"]
    blind = (await eng.action("city.t3", Action("arr-3", ActionKind.ARRIVE, clock.now, j3),
                              device))["job"]
    assert far["status"] == near["status"] == blind["status"] == "on_site"
    assert 1_950 <= far["arrive_m"] <= 2_000  # 2,001 m less the 30 m accuracy
    assert near["arrive_m"] == 3 and blind["arrive_m"] is None
    assert (await eng.job(j1))["arrive_m"] == far["arrive_m"]
    arrived = [decode_entry(eid, f).data for eid, f in await redis.xrange(keys.events("city"))
               if decode_entry(eid, f).type == "job_arrived"]
    assert [(a["job"]["id"], a.get("far")) for a in arrived] == [
        (j1, True), (j2, None), (j3, None)]
    assert (await eng.kpis("city")).summary(clock.now)["far_arrivals"] == 1
    # A replay of the same tap answers the first result, flag and all.
    again = await eng.action("city.t1", Action("arr-1", ActionKind.ARRIVE, clock.now, j1), device)
    assert again["replay"] and again["job"]["arrive_m"] == far["arrive_m"]
