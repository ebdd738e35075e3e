"""Erasing a customer, or a technician's location history, in a dispatch region
(``POST /v1/regions/{region}/erase``, dispatch/erase.py) on a real Redis: the number and
name leave every key and stream, another customer stays, the answer counts, a second call
finds nothing, an open job stays servable, KPIs stay as they were, only admins may, bad
input changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis

from dispatch import keys
from dispatch.engine import DispatchEngine, NoEnqueuer
from dispatch.erase import RegionEraser, Request
from dispatch.model import Action, ActionKind, JobRequest, Point
from dispatch.view import RegionView
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Clock, Server, running_server
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

__all__ = ["recorder"]  # the fixture, imported for pytest

PHONE = "+31612345678"  # the region is in Amsterdam: national numbers are Dutch
OTHER = "+31698765432"


@pytest.fixture
async def deng(redis: Redis, clock: Clock, recorder: NoEnqueuer) -> DispatchEngine:
    eng = clock_engine(redis, clock, recorder)
    await eng.put_region("city", config(), ADMIN)
    return eng


def _job(customer: str = "", note: str = "", address: str = "",
         at: tuple[float, float] = (52.3712, 4.8934)) -> JobRequest:
    return JobRequest(location=Point(*at), customer=customer, note=note, address=address,
                      duration_s=1800)


async def _serve(eng: DispatchEngine, clock: Clock, tech: str, jid: str, tag: str,
                 since: str = "accept", until: str = "complete") -> None:
    """The technician takes the job from step ``since`` through to ``until``."""
    steps = [ActionKind.ACCEPT, ActionKind.DEPART, ActionKind.ARRIVE, ActionKind.COMPLETE]
    for k in steps[steps.index(ActionKind(since)):steps.index(ActionKind(until)) + 1]:
        clock.advance(5)  # inside the offer's minute
        await eng.action(tech, Action(f"{tag}-{k.value}", k, clock.now, jid), ADMIN)


async def _customers(eng: DispatchEngine, clock: Clock) -> dict[str, str]:
    """Anna's number on three jobs (three spellings, three fields): one done, one cancelled,
    one open; Piet's job beside them."""
    await add_techs(eng, clock.now, {"city.a": tech_spec(52.370, 4.891)})
    jobs = {
        "done": await eng.create_job("city", _job(
            "Anna Smit", "bel 06-12345678 bij de poort", "Keizersgracht 12"), ADMIN),
        "cancelled": await eng.create_job("city", _job(
            note="ring +31 6 1234 5678", address="Keizersgracht 12"), ADMIN),
        "open": await eng.create_job("city", _job(
            "Anna Smit 0612345678", "", "Prinsengracht 5", (52.3741, 4.8839)), ADMIN),
        "theirs": await eng.create_job("city", _job(
            "Piet Bakker", f"call {OTHER}", "Herengracht 40", (52.3801, 4.8912)), ADMIN),
    }
    ids = {k: v["id"] for k, v in jobs.items()}
    await recomputer(eng).run("city")
    await _serve(eng, clock, "city.a", ids["open"], "o", until="accept")
    await _serve(eng, clock, "city.a", ids["done"], "d")
    await eng.cancel_job(ids["cancelled"], "", ADMIN)
    return ids


async def test_erasing_a_number_leaves_it_nowhere(deng: DispatchEngine, clock: Clock,
                                                  redis: Redis) -> None:
    ids = await _customers(deng, clock)
    theirs_before = await redis.hgetall(keys.prefix("city") + "job:" + ids["theirs"])  # type: ignore[misc]
    before = await dump(redis)
    assert holding(before, "Anna Smit") and holding(before, "12345678")
    eraser = RegionEraser(deng, "test-secret")

    out = await eraser.erase(Request("city", "06 1234 5678"), ADMIN)
    assert out["erased"]["jobs"] == 3 and out["erased"]["open_kept"] == 1
    assert out["erased"]["events"] >= 6 and out["cancelled"] == 0
    assert len(out["reference"]) == 16
    after = await dump(redis)
    for needle in ("Anna Smit", "12345678", "1234 5678", "bij de poort", "Keizersgracht"):
        assert holding(after, needle) == [], needle
    # A finished job's location is coarsened; the open one keeps what serving it needs.
    done = await deng.job(ids["done"])
    assert (done["lat"], done["lon"], done["address"]) == (52.37, 4.89, None)
    kept = await deng.job(ids["open"])
    assert kept["customer"] is None and kept["address"] == "Prinsengracht 5"
    assert (kept["lat"], kept["lon"]) == (52.3741, 4.8839)
    # Piet: untouched, his job and its entries.
    assert await redis.hgetall(keys.prefix("city") + "job:" + ids["theirs"]) == theirs_before  # type: ignore[misc]
    assert sorted(holding(after, "Piet Bakker")) == sorted(holding(before, "Piet Bakker"))
    # The erased entry: counts and the reference, never the number.
    rows = await redis.xrevrange(keys.events("city"), count=1)
    assert rows[0][1][b"t"] == b"erased" and b"12345678" not in rows[0][1][b"d"]
    audit = msgspec.json.decode(rows[0][1][b"d"])
    assert audit["counts"]["jobs"] == 3 and audit["reference"] == out["reference"]
    assert "job" not in audit and "tech" not in audit  # views must not read it as one
    # The trim mark moved past the deleted entries: a resume from before them resyncs.
    assert await redis.get(keys.prefix("city") + "trimmed") is not None

    again = await eraser.erase(Request("city", PHONE), ADMIN)
    assert set(again["erased"].values()) == {0} and again["reference"] == out["reference"]
    # The open job is still served as any other...
    await _serve(deng, clock, "city.a", ids["open"], "o", since="depart")
    assert (await deng.job(ids["open"]))["status"] == "done"
    # ...and once it has ended, the same request finishes it (it kept the reference).
    last = await eraser.erase(Request("city", "0612345678"), ADMIN)
    assert last["erased"]["jobs"] == 1 and last["erased"]["open_kept"] == 0
    assert holding(await dump(redis), "Prinsengracht") == []
    assert (await deng.job(ids["open"]))["lat"] == 52.37
    final = await eraser.erase(Request("city", PHONE), ADMIN)
    assert set(final["erased"].values()) == {0}


async def test_kpis_and_views_are_the_same_after_entries_are_deleted(
        deng: DispatchEngine, clock: Clock, redis: Redis) -> None:
    """No KPI checkpoint yet (no worker folded one): the erasure folds the log before
    deleting from it, so every measure stays; a hub's view applies what follows."""
    ids = await _customers(deng, clock)
    k_before = (await deng.kpis("city")).summary(clock.now)
    snap = await deng.snapshot("city")
    rv = RegionView.from_snapshot("city", snap)
    await RegionEraser(deng, "test-secret").erase(Request("city", PHONE), ADMIN)
    k_after = (await deng.kpis("city")).summary(clock.now)
    assert {**k_after, "offset": ""} == {**k_before, "offset": ""}
    assert k_before["jobs_created"] == 4 and k_before["jobs_done"] == 1
    assert k_before["jobs_cancelled"] == 1 and k_before["accepted"] == 2
    for _, f in await redis.xrange(keys.events("city"), "(" + snap["offset"], "+"):
        rv.apply(f[b"t"].decode(), msgspec.json.decode(f[b"d"]))
    assert not rv.jobs[ids["open"]].get("customer")  # job_redacted reached the view
    assert rv.jobs[ids["theirs"]]["customer"] == "Piet Bakker"


async def test_named_job_and_cancelling_open_ones(deng: DispatchEngine, clock: Clock,
                                                  redis: Redis) -> None:
    ids = await _customers(deng, clock)
    eraser = RegionEraser(deng, "test-secret")
    out = await eraser.erase(Request("city", job=ids["theirs"], cancel_open=True), ADMIN)
    assert out["erased"]["jobs"] == 1 and out["cancelled"] == 1 and out["reference"] is None
    j = await deng.job(ids["theirs"])
    assert j["status"] == "cancelled" and j["reason"] == "customer_request"
    assert (j["customer"], j["note"], j["address"]) == (None, None, None)
    assert holding(await dump(redis), "Piet Bakker") == []
    assert holding(await dump(redis), "Anna Smit")  # another customer's
    again = await eraser.erase(Request("city", job=ids["theirs"], cancel_open=True), ADMIN)
    assert set(again["erased"].values()) == {0} and again["cancelled"] == 0


async def test_a_technicians_location_history(deng: DispatchEngine, clock: Clock,
                                              redis: Redis) -> None:
    from dispatch.gps import Fix
    await add_techs(deng, clock.now, {"city.a": tech_spec(52.370, 4.891),
                                      "city.b": tech_spec(52.380, 4.920)})
    for i in range(5):
        clock.advance(10)
        await deng.gps("city.a", Fix(clock.now, 52.36011 + i * 0.00013, 4.88017), ADMIN)
        await deng.gps("city.b", Fix(clock.now, 52.39023, 4.91029 + i * 0.00011), ADMIN)
    await deng.kpis("city", fold=True)  # a worker's checkpoint holds last positions
    eraser = RegionEraser(deng, "test-secret")
    p = keys.prefix("city")

    out = await eraser.erase(Request("city", technician="city.a"), ADMIN)
    assert out["erased"]["fixes"] == 5 and out["erased"]["positions"] == 0
    assert out["erased"]["events"] == 5  # its gps entries
    assert not await redis.exists(p + "gps:city.a")
    # On shift, its current position stays (dispatch needs it); the history does not.
    assert await redis.geopos(p + "geo", "city.a") != [None]
    after = await dump(redis)
    assert all(holding(after, f"52.360{11 + i * 13}") == [] for i in range(4))
    assert holding(after, "4.91029") and await redis.exists(p + "gps:city.b")

    clock.advance(10)
    await deng.action("city.a", Action("off", ActionKind.OFFLINE, clock.now), ADMIN)
    out = await eraser.erase(Request("city", technician="city.a"), ADMIN)
    assert out["erased"]["fixes"] == 0 and out["erased"]["positions"] == 1
    # Offline: put back at its home base, as a new technician starts.
    assert (await deng.tech("city.a"))["position"] == {"lat": 52.37, "lon": 4.891, "t": None}
    home = (await redis.geopos(p + "geo", "city.a"))[0]
    assert home is not None and abs(home[1] - 52.37) < 1e-4
    assert holding(await dump(redis), "52.36063") == []  # the last fix, in the KPIs too
    again = await eraser.erase(Request("city", technician="city.a"), ADMIN)
    assert set(again["erased"].values()) == {0}
    # The next fix is taken as a first one.
    clock.advance(10)
    await deng.gps("city.a", Fix(clock.now, 52.37, 4.89), ADMIN)


async def test_the_scripts_run_as_scripts_too(deng: DispatchEngine, clock: Clock,
                                              redis: Redis) -> None:
    """Redis 6.2 has no functions: the erasure's scripts run with EVALSHA there."""
    jid = (await deng.create_job("city", _job("Anna Smit", f"tel {PHONE}"), ADMIN))["id"]
    eraser = RegionEraser(deng, "test-secret", mode="eval")
    out = await eraser.erase(Request("city", PHONE), ADMIN)
    assert out["erased"]["jobs"] == 1 and not eraser.store.scripts.uses_functions
    assert (await deng.job(jid))["customer"] is None
    assert holding(await dump(redis), "Anna Smit") == []


# -- over HTTP ----------------------------------------------------------------------------------

@pytest.fixture
async def srv(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
              ) -> AsyncIterator[Server]:
    async with running_server(redis_server.url, tmp_path) as s:
        yield s


async def _erase(s: Server, body: dict[str, Any], status: int = 200,
                 token: dict[str, str] | None = None, region: str = "city") -> dict[str, Any]:
    r = await s.client.post(f"/v1/regions/{region}/erase", json=body,
                            headers=token or s.auth("admin"))
    assert r.status_code == status, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_only_admins_and_bad_input_changes_nothing(srv: Server, redis: Redis) -> None:
    c, admin = srv.client, srv.auth("admin")
    for region, tz in (("city", "Europe/Amsterdam"), ("utc", "UTC")):
        r = await c.put(f"/v1/regions/{region}", headers=admin,
                        json={**msgspec.to_builtins(config()), "timezone": tz})
        assert r.status_code == 200, r.text
    r = await c.put("/v1/technicians/city.t1", headers=admin, json={
        "name": "Anna", "home": {"lat": 52.37, "lon": 4.89}})
    assert r.status_code == 200, r.text
    r = await c.post("/v1/regions/city/jobs", headers=admin, json={
        "location": {"lat": 52.371, "lon": 4.891}, "customer": "Anna Smit 06 12345678"})
    assert r.status_code == 201, r.text
    job = r.json()
    before = await dump(redis)
    for token in (srv.auth("dispatcher", region="city"), srv.auth("tech", tech="city.t1"),
                  srv.auth("customer", job=job["id"]), srv.auth("org", org="city.acme"),
                  srv.auth("supervisor", site="demo")):
        assert (await _erase(srv, {"phone": PHONE}, 403, token))["code"] == "forbidden"
    for body, status, code in (
            ({}, 400, "bad_request"), ({"phone": "12ab"}, 400, "bad_request"),
            ({"phone": "+31 6"}, 400, "bad_request"),
            ({"phone": PHONE, "name": "x"}, 400, "unknown_field"),
            ({"job": "city.j-000000000000"}, 404, "unknown_job"),
            ({"job": "other.j-000000000000", "phone": PHONE}, 404, "unknown_job"),
            ({"technician": "city.t9"}, 404, "unknown_technician"),
            ({"technician": "utc.t1", "phone": PHONE}, 404, "unknown_technician")):
        assert (await _erase(srv, body, status))["code"] == code, body
    assert (await _erase(srv, {"phone": PHONE}, 404, region="nowhere"))["code"] == (
        "unknown_region")
    # A region with no country (UTC): a national number cannot be read.
    refused = await _erase(srv, {"phone": "06 12345678"}, 400, region="utc")
    assert refused["details"]["reason"] == "needs_country_code"
    assert await dump(redis) == before

    out = await _erase(srv, {"phone": "0612345678", "rewrite_aof": False})
    assert out["erased"]["jobs"] == 1 and out["aof_rewrite"] == "skipped"
    assert holding(await dump(redis), "Anna Smit") == []
    r = await c.get(f"/v1/jobs/{job['id']}", headers=admin)
    assert r.json()["status"] in ("new", "offered", "unassignable")


async def test_a_region_s_country_reads_its_national_numbers(srv: Server,
                                                           redis: Redis) -> None:
    """A region whose time zone names no country (UTC) takes national numbers once it has a
    ``country``; a country libphonenumber does not know is refused and changes nothing."""
    c, admin = srv.client, srv.auth("admin")
    body = {**msgspec.to_builtins(config()), "timezone": "UTC"}
    r = await c.put("/v1/regions/city", headers=admin, json={**body, "country": "XX"})
    assert r.status_code == 400 and r.json()["details"]["field"] == "country", r.text
    r = await c.put("/v1/regions/city", headers=admin, json={**body, "country": "nl"})
    assert r.status_code == 400, r.text
    assert (await c.get("/v1/regions/city", headers=admin)).status_code == 404
    r = await c.put("/v1/regions/city", headers=admin, json={**body, "country": "NL"})
    assert r.status_code == 200, r.text
    assert (await c.get("/v1/regions/city", headers=admin)).json()["country"] == "NL"
    r = await c.post("/v1/regions/city/jobs", headers=admin, json={
        "location": {"lat": 52.371, "lon": 4.891}, "customer": "Anna Smit +31 6 12345678"})
    assert r.status_code == 201, r.text
    out = await _erase(srv, {"phone": "06 12345678"})
    assert out["erased"]["jobs"] == 1, out
    assert holding(await dump(redis), "Anna Smit") == []


async def test_live_pages_drop_the_name_and_a_resume_from_before_resyncs(
        srv: Server, redis: Redis) -> None:
    """Through a running hub: the organisation's dashboard, which shows its jobs' customer
    texts, loses the name at once (job_redacted), the customer's page keeps following its
    job, and a dashboard resuming from before the deleted entries gets a fresh snapshot."""
    import time

    from clients.client import Client, Position
    from dispatch.model import OrgSpec
    from tests.integration.test_dispatch_hub import ws_url

    def wall() -> int:
        return time.time_ns() // 1_000_000

    eng = clock_engine(redis, wall, NoEnqueuer())
    await eng.put_region("city", config(improve_s=0), ADMIN)
    await add_techs(eng, wall(), {"city.a": tech_spec(52.370, 4.891)})
    await eng.put_org("city.acme", OrgSpec("ACME"), ADMIN)
    r = await srv.client.post("/v1/regions/city/jobs", headers=srv.auth("admin"), json={
        "location": {"lat": 52.371, "lon": 4.895}, "org": "city.acme",
        "customer": "Anna Smit 06 12345678"})
    assert r.status_code == 201, r.text
    created = r.json()
    jid = created["id"]
    await recomputer(eng).run("city")
    org = srv.token("org", org="city.acme")
    async with Client(ws_url(srv), org) as dash, Client(ws_url(srv), created["token"]) as page:
        await dash.subscribe("org:city.acme")
        snap = await dash.next(5)
        assert snap["data"]["jobs"][0]["customer"] == "Anna Smit 06 12345678"
        before = Position(snap["epoch"], snap["offset"])
        await page.subscribe(f"job:{jid}")
        assert (await page.next(5))["data"]["status"] == "offered"
        out = await _erase(srv, {"phone": PHONE})
        assert out["erased"]["jobs"] == 1 and out["erased"]["open_kept"] == 1
        changed = await dash.next(5)
        while changed["type"] != "progress" and changed["data"].get("jobs") is None:
            changed = await dash.next(5)
        assert changed["data"]["jobs"][0]["customer"] is None
        assert (await page.next(5))["data"]["status"] == "offered"  # job_redacted: a status
        await eng.action("city.a", Action("acc", ActionKind.ACCEPT, wall(), jid), ADMIN)
        assert (await page.next(5))["data"]["status"] == "assigned"  # the feed goes on
    async with Client(ws_url(srv), org) as dash:
        await dash.subscribe("org:city.acme", since=before)
        msg = await dash.next(5)
        assert msg["op"] == "snapshot" and msg["resync"] is True, msg
        assert msg["data"]["jobs"][0]["customer"] is None
