"""A reviewer's real Monday: a batch's jobs had no customer tracking link, only an admin
could make one (and it died after a day, before tomorrow's visit), a batch's wrong job was
not named, and ``POST /v1/tokens`` minted tokens for technicians and jobs that do not
exist. Real server, real Redis."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import msgspec
import pytest
from redis.asyncio import Redis

from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server, running_server
from tests.integration.test_dispatch_support import config

HOUR_MS = 3_600_000
HERE = {"lat": 52.37, "lon": 4.89}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def claims(token: str) -> dict[str, Any]:
    out: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return out


def lasts_s(token: str) -> float:
    c = claims(token)
    return float(c["exp"]) - time.time()


@pytest.fixture
async def srv(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
              ) -> AsyncIterator[Server]:
    async with running_server(redis_server.url, tmp_path) as s:
        await put_city(s)
        yield s


async def put_city(s: Server) -> None:
    """Region city, organisations city.acme and city.other."""
    c, admin = s.client, s.auth("admin")
    await c.put("/v1/regions/city", content=msgspec.json.encode(config()), headers=admin)
    await c.put("/v1/orgs/city.acme", json={"name": "ACME"}, headers=admin)
    await c.put("/v1/orgs/city.other", json={"name": "Other"}, headers=admin)


def tomorrow() -> dict[str, int]:
    start = now_ms() + 30 * HOUR_MS
    return {"start_ms": start, "end_ms": start + HOUR_MS}


async def test_every_batch_job_has_its_tracking_link(srv: Server) -> None:
    c = srv.client
    org = srv.auth("org", org="city.acme")
    jobs = [{"location": HERE, "window": tomorrow()}] * 199 + [{"location": HERE}]
    r = await c.post("/v1/orgs/city.acme/batches", headers=org, json={"jobs": jobs})
    assert r.status_code == 201, r.text
    out = r.json()
    assert len(out["jobs"]) == 200 and list(out["trackers"]) == out["jobs"]
    # Links are short: the whole answer for 200 jobs stays well under 100 KB.
    assert len(r.content) < 100_000, len(r.content)
    first, last = out["jobs"][0], out["jobs"][-1]
    link = out["trackers"][first]
    assert link.startswith(f"/track/{first}?token=")
    token = link.split("token=")[1]
    assert claims(token)["role"] == "customer" and claims(token)["job"] == first
    # Lasts past tomorrow's window (31 h) plus the usual day, as a single job's link.
    assert 31 * 3600 + 86400 - 60 < lasts_s(token) <= 31 * 3600 + 86400
    # A job without a window: the usual day.
    assert 86400 - 60 < lasts_s(out["trackers"][last].split("token=")[1]) <= 86400
    # The link opens the job for its customer, and only that job.
    cust = {"Authorization": f"Bearer {token}"}
    assert (await c.get(f"/v1/jobs/{first}", headers=cust)).status_code == 200
    assert (await c.get(f"/v1/jobs/{last}", headers=cust)).status_code == 403
    assert (await c.get(link)).status_code == 200


async def test_a_customer_link_minted_later_lasts_until_the_visit(srv: Server) -> None:
    c = srv.client
    disp = srv.auth("dispatcher", region="city")
    r = await c.post("/v1/regions/city/jobs", headers=disp, json={
        "location": HERE, "window": tomorrow(), "org": "city.acme"})
    jid = r.json()["id"]
    want = 31 * 3600 + 86400
    # The job's dispatcher and its organisation may (they created it and read its token).
    for who in (disp, srv.auth("org", org="city.acme"), srv.auth("admin")):
        r = await c.post(f"/v1/jobs/{jid}/token", headers=who)
        assert r.status_code == 201, r.text
        out = r.json()
        assert out["tracker"] == f"/track/{jid}?token={out['token']}"
        assert want - 60 < lasts_s(out["token"]) <= want
    # Nobody else: another region's dispatcher, another organisation, a customer.
    for who in (srv.auth("dispatcher", region="town"), srv.auth("org", org="city.other"),
                srv.auth("customer", job=jid), srv.auth("tech", tech="city.t1")):
        assert (await c.post(f"/v1/jobs/{jid}/token", headers=who)).status_code == 403
    r = await c.post("/v1/jobs/city.j-000000000000/token", headers=disp)
    assert r.status_code == 404 and r.json()["code"] == "unknown_job"
    r = await c.post("/v1/jobs/city.j-000000000000/token",
                     headers=srv.auth("dispatcher", region="town"))
    assert r.status_code == 403  # whether a job exists is not another region's to learn
    # An admin's POST /v1/tokens: the same lifetime by default (it was a day).
    r = await c.post("/v1/tokens", headers=srv.auth("admin"), json={
        "role": "customer", "job": jid, "subject": "acme-reception"})
    assert r.status_code == 201, r.text
    assert want - 60 < r.json()["ttl_s"] <= want
    assert r.json()["link"] == f"/track/{jid}?token={r.json()['token']}"


@pytest.mark.parametrize("bad, field", [
    ({"location": HERE, "window": {"start_ms": 2, "end_ms": 1}}, "jobs[3].window"),
    ({"location": HERE, "window": {"start_ms": 1, "end_ms": 2}}, "jobs[3].window"),
    ({}, "jobs[3].location"),
])
async def test_a_batch_names_its_wrong_job(srv: Server, bad: dict[str, Any],
                                           field: str) -> None:
    jobs = [{"location": HERE}] * 3 + [bad] + [{"location": HERE}]
    r = await srv.client.post("/v1/orgs/city.acme/batches", json={"jobs": jobs},
                              headers=srv.auth("org", org="city.acme"))
    assert r.status_code == 400 and r.json()["details"]["field"] == field, r.text
    assert r.json()["message"].startswith("job 3: ")


@pytest.mark.parametrize("body, status, code", [
    ({"role": "tech", "tech": "city.t99"}, 404, "unknown_technician"),
    ({"role": "tech", "tech": "t01"}, 404, "unknown_technician"),
    ({"role": "customer", "job": "city.j-000000000000"}, 404, "unknown_job"),
    ({"role": "org", "org": "city.nope"}, 404, "unknown_org"),
    ({"role": "dispatcher", "region": "nope"}, 404, "unknown_region"),
    ({"role": "dispatcher", "region": "city"}, 201, None),
    ({"role": "org", "org": "city.acme"}, 201, None),
])
async def test_tokens_for_what_does_not_exist_are_refused(
        srv: Server, body: dict[str, str], status: int, code: str | None) -> None:
    r = await srv.client.post("/v1/tokens", headers=srv.auth("admin"),
                              json={**body, "subject": "someone"})
    assert r.status_code == status, r.text
    if code:
        assert r.json()["code"] == code


async def test_a_technicians_token_over_http_needs_the_technician(srv: Server) -> None:
    c = srv.client
    tech = {"name": "Anna", "home": HERE, "shift": {"start": "00:00", "end": "24:00"}}
    assert (await c.put("/v1/technicians/city.t1", json=tech,
                        headers=srv.auth("admin"))).status_code == 200
    r = await c.post("/v1/tokens", headers=srv.auth("admin"), json={
        "role": "tech", "tech": "city.t1", "subject": "band-7"})
    assert r.status_code == 201 and r.json()["link"].startswith("/tech/city.t1?token=")
