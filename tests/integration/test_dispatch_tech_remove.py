"""Removing a technician who left (``DELETE /v1/technicians/{tech}``, lua/tech_remove.lua)
and erasing its profile (``POST /v1/regions/{region}/erase`` with ``profile``), on a real
Redis: refused while it has work, offers to it go to others, nothing of it stays but its id
on finished jobs (and, until an admin erases them, the stream's copies), the KPIs stay,
its device tokens stop working."""

from __future__ import annotations

import time

import msgspec
import pytest
from redis.asyncio import Redis

from dispatch import keys
from dispatch.engine import DispatchEngine, NoEnqueuer
from dispatch.erase import RegionEraser, Request
from dispatch.errors import TechnicianBusy, UnknownTechnician
from dispatch.gps import Fix
from dispatch.model import Action, ActionKind
from dispatch.view import RegionView
from tests.integration.conftest import Clock, Server
from tests.integration.test_dispatch_erase import _job, _serve, deng, srv
from tests.integration.test_dispatch_support import (
    ADMIN,
    add_techs,
    clock_engine,
    config,
    recomputer,
    recorder,
    tech_spec,
)
from tests.integration.test_erase import dump, holding

__all__ = ["deng", "recorder", "srv"]  # the fixtures, imported for pytest

NAME = "Marieke Visser"
P = keys.prefix("city")


async def _offered(eng: DispatchEngine, clock: Clock) -> str:
    """A new job, offered (to the only technician on shift)."""
    jid: str = (await eng.create_job("city", _job("Piet", at=(52.372, 4.893)), ADMIN))["id"]
    clock.advance(1)
    await recomputer(eng).run("city")
    assert (await eng.job(jid))["status"] == "offered"
    return jid


async def test_removing_a_technician(deng: DispatchEngine, clock: Clock, redis: Redis) -> None:
    await add_techs(deng, clock.now, {"city.a": tech_spec(52.370, 4.891, name=NAME)})
    for i in range(3):
        clock.advance(10)
        await deng.gps("city.a", Fix(clock.now, 52.3701 + i * 0.0001, 4.8911), ADMIN)
    snap = await deng.snapshot("city")
    done = await _offered(deng, clock)
    await _serve(deng, clock, "city.a", done, "d", until="accept")

    # Work assigned (or under way): refused, nothing changed.
    before = await dump(redis)
    with pytest.raises(TechnicianBusy) as busy:
        await deng.remove_tech("city.a", ADMIN)
    assert busy.value.code == "technician_busy" and busy.value.details == {"jobs": [done]}
    assert await dump(redis) == before

    await _serve(deng, clock, "city.a", done, "d", since="depart")
    offered = await _offered(deng, clock)
    kpis = (await deng.kpis("city")).summary(clock.now)

    out = await deng.remove_tech("city.a", ADMIN)
    assert out["withdrawn"] == [offered] and out["fixes"] == 3 and out["actions"] == 5
    # The offer waits for another technician; the finished job keeps the id.
    j = await deng.job(offered)
    assert (j["status"], j["technician"]) == ("new", None)
    assert await redis.sismember(P + "pending", offered)  # type: ignore[misc]
    assert (await deng.job(done))["technician"] == "city.a"
    for key in ("tech:city.a", "gps:city.a", "route:city.a"):
        assert not await redis.exists(P + key), key
    assert not await redis.sismember(P + "techs", "city.a")  # type: ignore[misc]
    assert await redis.geopos(P + "geo", "city.a") == [None]
    assert not [k async for k in redis.scan_iter(match=P + "act:city.a:*")]
    with pytest.raises(UnknownTechnician):
        await deng.tech("city.a")
    with pytest.raises(UnknownTechnician):
        await deng.remove_tech("city.a", ADMIN)
    # No copy of its name outside the stream (entries are the audit log: an admin's erasure).
    left = await dump(redis)
    assert holding(left, NAME) == [keys.events("city").encode()]
    # The KPIs: the same jobs, its time on shift ended, its last position gone.
    k = await deng.kpis("city", fold=True)
    after = k.summary(clock.now)
    assert {x: after[x] for x in ("jobs_created", "jobs_done", "accepted", "km_driven")} == {
        x: kpis[x] for x in ("jobs_created", "jobs_done", "accepted", "km_driven")}
    assert "city.a" not in k.tech_pos and not k.online_since
    # A hub's view drops it.
    rv = RegionView.from_snapshot("city", snap)
    for _, f in await redis.xrange(keys.events("city"), "(" + snap["offset"], "+"):
        rv.apply(f[b"t"].decode(), msgspec.json.decode(f[b"d"]))
    assert "city.a" not in rv.techs and "city.a" not in rv.routes

    # The admin's erasure of its profile, after the removal: the stream's copies go.
    eraser = RegionEraser(deng, "test-secret")
    erased = await eraser.erase(Request("city", technician="city.a", profile=True), ADMIN)
    assert erased["erased"]["profile"] == 0 and erased["erased"]["events"] >= 4
    assert holding(await dump(redis), NAME) == []
    assert holding(await dump(redis), "52.3702") == []  # its fixes
    again = await eraser.erase(Request("city", technician="city.a", profile=True), ADMIN)
    assert set(again["erased"].values()) == {0}
    # Put again under the same id: a new technician, at its home base.
    await deng.put_tech("city.a", tech_spec(52.370, 4.891), ADMIN)
    assert (await deng.tech("city.a"))["position"] == {"lat": 52.37, "lon": 4.891, "t": None}


async def test_erasing_a_technician_who_left(deng: DispatchEngine, clock: Clock,
                                             redis: Redis) -> None:
    """An admin's erasure with ``profile``: removed and every copy of its profile gone in one
    request; refused while it has work, with nothing changed."""
    await add_techs(deng, clock.now, {"city.a": tech_spec(52.370, 4.891, name=NAME),
                                      "city.b": tech_spec(52.380, 4.920, name="Joost Kok")})
    await deng.action("city.b", Action("off-b", ActionKind.OFFLINE, clock.now), ADMIN)
    clock.advance(10)
    await deng.gps("city.a", Fix(clock.now, 52.3711, 4.8922), ADMIN)
    jid = await _offered(deng, clock)
    await _serve(deng, clock, "city.a", jid, "j", until="depart")
    eraser = RegionEraser(deng, "test-secret")
    before = await dump(redis)
    with pytest.raises(TechnicianBusy):
        await eraser.erase(Request("city", PHONE_OF_NOBODY, technician="city.a",
                                   profile=True), ADMIN)
    assert await dump(redis) == before

    await _serve(deng, clock, "city.a", jid, "j", since="arrive")
    out = await eraser.erase(Request("city", technician="city.a", profile=True), ADMIN)
    assert out["erased"]["profile"] == 1 and out["erased"]["fixes"] == 1
    after = await dump(redis)
    assert holding(after, NAME) == [] and holding(after, "52.3711") == []
    assert holding(after, "Joost Kok")  # another technician's
    assert (await deng.job(jid))["technician"] == "city.a"
    k = await deng.kpis("city")
    assert k.summary(clock.now)["jobs_done"] == 1 and "city.a" not in k.tech_pos


PHONE_OF_NOBODY = "+31611112222"


# -- over HTTP ----------------------------------------------------------------------------------

async def test_delete_over_http(srv: Server, redis: Redis) -> None:
    c, admin = srv.client, srv.auth("admin")
    r = await c.put("/v1/regions/city", headers=admin, json=msgspec.to_builtins(config()))
    assert r.status_code == 200, r.text
    for tid, name in (("city.t1", "Joost Kok"), ("city.t2", NAME)):
        r = await c.put(f"/v1/technicians/{tid}", headers=admin, json={
            "name": name, "home": {"lat": 52.37, "lon": 4.89},
            "shift": {"start": "00:00", "end": "24:00"}})
        assert r.status_code == 200, r.text
    tokens = {}
    for tid in ("city.t1", "city.t2"):
        r = await c.post(f"/v1/technicians/{tid}/token", headers=admin)
        tokens[tid] = {"Authorization": f"Bearer {r.json()['token']}"}
    # A wristband's token an admin made with its own subject (switchboard token tech
    # --tech city.t1 --subject wristband-7): it is the technician's all the same.
    wristband = srv.auth("tech", tech="city.t1", subject="wristband-7")
    assert (await c.get("/v1/technicians/city.t1", headers=wristband)).status_code == 200
    dispatcher = srv.auth("dispatcher", region="city")

    for token in (tokens["city.t1"], srv.auth("dispatcher", region="other"),
                  srv.auth("org", org="city.acme"), srv.auth("supervisor", site="demo")):
        r = await c.delete("/v1/technicians/city.t1", headers=token)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), r.text
    r = await c.delete("/v1/technicians/city.t9", headers=dispatcher)
    assert (r.status_code, r.json()["code"]) == (404, "unknown_technician")

    # Busy: a job assigned to it.
    def wall() -> int:
        return time.time_ns() // 1_000_000
    eng = clock_engine(redis, wall, NoEnqueuer())
    await eng.action("city.t1", Action("on", ActionKind.ONLINE, wall()), ADMIN)
    r = await c.post("/v1/regions/city/jobs", headers=admin, json={
        "location": {"lat": 52.371, "lon": 4.891}})
    jid = r.json()["id"]
    await recomputer(eng).run("city")
    await eng.action("city.t1", Action("acc", ActionKind.ACCEPT, wall(), jid), ADMIN)
    r = await c.delete("/v1/technicians/city.t1", headers=dispatcher)
    assert r.status_code == 409 and r.json()["code"] == "technician_busy"
    assert r.json()["details"]["jobs"] == [jid]
    r = await c.post("/v1/regions/city/erase", headers=admin,
                     json={"technician": "city.t1", "profile": True})
    assert r.status_code == 409 and r.json()["code"] == "technician_busy"
    assert (await c.get("/v1/technicians/city.t1", headers=tokens["city.t1"])).status_code == 200

    await eng.cancel_job(jid, "", ADMIN)
    r = await c.delete("/v1/technicians/city.t1", headers=dispatcher)
    assert r.status_code == 200, r.text
    assert r.json()["removed"] is True
    # Its device token no longer works (the server would answer 404 anyway, and a
    # technician put again under the same id must not inherit it); another's does.
    for token in (tokens["city.t1"], wristband):
        r = await c.get("/v1/technicians/city.t1", headers=token)
        assert (r.status_code, r.json()["code"]) == (401, "unauthorized"), r.text
    assert (await c.get("/v1/technicians/city.t2", headers=tokens["city.t2"])).status_code == 200

    # The admin's erasure: profile needs a technician; one still there is removed too.
    r = await c.post("/v1/regions/city/erase", headers=admin, json={"profile": True})
    assert (r.status_code, r.json()["code"]) == (400, "bad_request")
    r = await c.post("/v1/regions/city/erase", headers=dispatcher,
                     json={"technician": "city.t2", "profile": True})
    assert r.status_code == 403
    r = await c.post("/v1/regions/city/erase", headers=admin,
                     json={"technician": "city.t2", "profile": True, "rewrite_aof": False})
    assert r.status_code == 200, r.text
    assert r.json()["erased"]["profile"] == 1
    assert holding(await dump(redis), NAME) == []
    # The one the dispatcher removed: its stream entries stay until trimmed or erased.
    assert holding(await dump(redis), "Joost Kok") == [keys.events("city").encode()]
    r = await c.get("/v1/technicians/city.t2", headers=tokens["city.t2"])
    assert r.status_code == 401
