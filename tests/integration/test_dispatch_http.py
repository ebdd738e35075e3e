"""Dispatch HTTP routes on a real server: scopes of each role, errors as data."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from redis.asyncio import Redis

from dispatch.engine import NoEnqueuer
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server, running_server
from tests.integration.test_dispatch_support import clock_engine, config, recomputer


def now() -> int:
    return time.time_ns() // 1_000_000


@pytest.fixture
async def srv(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
              ) -> AsyncIterator[Server]:
    async with running_server(redis_server.url, tmp_path) as s:
        yield s


async def test_region_technicians_jobs_and_scopes(srv: Server, redis: Redis) -> None:
    c, admin = srv.client, srv.auth("admin")
    body = msgspec.json.encode(config())
    r = await c.put("/v1/regions/city", content=body, headers=admin)
    assert r.status_code == 200 and r.json()["technicians"] == 0
    disp = srv.auth("dispatcher", region="city")
    other = srv.auth("dispatcher", region="elsewhere")
    assert (await c.put("/v1/regions/city", content=body, headers=disp)).status_code == 403
    tech = {"name": "Anna de Vries", "skills": ["gas"], "home": {"lat": 52.37, "lon": 4.89},
            "shift": {"start": "00:00", "end": "24:00"}}
    r = await c.put("/v1/technicians/city.t1", json=tech, headers=disp)
    assert r.status_code == 200 and r.json()["status"] == "offline"
    assert (await c.put("/v1/technicians/city.t2", json=tech, headers=other)).status_code == 403
    r = await c.put("/v1/technicians/city.t2", json={**tech, "zones": ["nowhere"]},
                    headers=disp)
    assert r.status_code == 400 and r.json()["code"] == "bad_request"
    r = await c.put("/v1/technicians/city.t3", json={**tech, "colour": "red"}, headers=disp)
    assert r.status_code == 400
    r = await c.get("/v1/regions/nowhere", headers=admin)
    assert r.status_code == 404 and r.json()["code"] == "unknown_region"
    # The device token: its own technician only.
    tok = (await c.post("/v1/technicians/city.t1/token", headers=disp)).json()["token"]
    dev = {"Authorization": f"Bearer {tok}"}
    assert (await c.get("/v1/technicians/city.t1", headers=dev)).status_code == 200
    assert (await c.get("/v1/regions/city", headers=dev)).status_code == 403
    r = await c.post("/v1/technicians/city.t1/actions", headers=dev, json={"actions": [
        {"aid": "on", "k": "online", "t": now()}, {"aid": "on", "k": "online", "t": now()},
        {"aid": "br", "k": "resume", "t": now()}]})
    res = r.json()["results"]
    assert [x["ok"] for x in res] == [True, True, False]
    assert res[1]["replay"] is True and res[2]["code"] == "invalid_transition"
    r = await c.post("/v1/technicians/city.t1/gps", headers=dev, json={"fixes": [
        {"t": now(), "la": 52.37, "lo": 4.89}, {"t": now() - 60_000, "la": 52.37, "lo": 4.89},
        {"t": now() + 1000, "la": 52.47, "lo": 4.89}]})
    out = r.json()  # applied oldest first: the 11 km jump in 1 s is refused
    assert out["accepted"] == 2
    assert [(x["index"], x["code"]) for x in out["rejected"]] == [(2, "gps_too_fast")]
    r = await c.post("/v1/technicians/city.t1/gps", headers=dev, json={"fixes": [
        {"t": now() - 120_000, "la": 52.37, "lo": 4.89}]})
    assert r.json()["rejected"][0]["code"] == "gps_out_of_order"
    track = (await c.get("/v1/technicians/city.t1/track", headers=disp)).json()["fixes"]
    assert len(track) == 2 and track[-1]["lat"] == 52.37
    # A job: its customer token sees it and may cancel it; another customer may not.
    r = await c.post("/v1/regions/city/jobs", headers=disp, json={
        "location": {"lat": 52.371, "lon": 4.891}, "skills": ["gas"]})
    assert r.status_code == 201, r.text
    job = r.json()
    cust = {"Authorization": f"Bearer {job['token']}"}
    assert job["topic"] == f"job:{job['id']}" and job["status"] == "new"
    assert (await c.get(f"/v1/jobs/{job['id']}", headers=cust)).status_code == 200
    stranger = srv.auth("customer", job="city.j-000000000000")
    assert (await c.get(f"/v1/jobs/{job['id']}", headers=stranger)).status_code == 403
    r = await c.post("/v1/regions/city/jobs", headers=disp, json={"address": "Dam 1"})
    assert r.status_code == 400 and "location" in r.json()["message"]
    await recomputer(clock_engine(redis, now, NoEnqueuer())).run("city")
    plan = (await c.get("/v1/regions/city/plan", headers=disp)).json()
    assert plan["routes"]["city.t1"][0]["j"] == job["id"]
    r = await c.post(f"/v1/jobs/{job['id']}/cancel", headers=cust, json={"reason": "moved"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = await c.post(f"/v1/jobs/{job['id']}/cancel", headers=cust)
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    kpis = (await c.get("/v1/regions/city/kpis", headers=disp)).json()
    assert kpis["jobs_created"] == 1 and kpis["jobs_cancelled"] == 1


async def test_organisation_scope(srv: Server) -> None:
    c, admin = srv.client, srv.auth("admin")
    await c.put("/v1/regions/city", content=msgspec.json.encode(config()), headers=admin)
    assert (await c.put("/v1/orgs/city.acme", json={"name": "ACME"}, headers=admin)
            ).status_code == 200
    await c.put("/v1/orgs/city.other", json={"name": "Other"}, headers=admin)
    org = {"Authorization": "Bearer " + (await c.post("/v1/orgs/city.acme/token",
                                                      headers=admin)).json()["token"]}
    r = await c.post("/v1/orgs/city.acme/batches", headers=org, json={
        "name": "Tower A", "jobs": [{"location": {"lat": 52.37, "lon": 4.89}}] * 3})
    assert r.status_code == 201 and r.json()["size"] == 3
    assert (await c.post("/v1/orgs/city.other/batches", headers=org, json={
        "jobs": [{"location": {"lat": 52.37, "lon": 4.89}}]})).status_code == 403
    # An organisation orders jobs for itself only.
    r = await c.post("/v1/regions/city/jobs", headers=org, json={
        "location": {"lat": 52.37, "lon": 4.89}, "org": "city.other"})
    assert r.status_code == 403
    r = await c.post("/v1/regions/city/jobs", headers=org, json={
        "location": {"lat": 52.37, "lon": 4.89}})
    assert r.status_code == 201 and r.json()["org"] == "city.acme"
    info = (await c.get("/v1/orgs/city.acme", headers=org)).json()
    assert info["counts"] == {"new": 4} and info["batches"][0]["counts"] == {"new": 3}
    assert (await c.get("/v1/orgs/city.other", headers=org)).status_code == 403
    k = (await c.get("/v1/orgs/city.acme/kpis", headers=org)).json()
    assert k["org"] == "city.acme" and k["jobs_created"] == 4
    r = await c.post("/v1/orgs/city.nope/batches", headers=admin, json={
        "jobs": [{"location": {"lat": 52.37, "lon": 4.89}}]})
    assert r.status_code == 404 and r.json()["code"] == "unknown_org"
