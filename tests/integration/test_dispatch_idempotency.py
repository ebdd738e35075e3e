"""Idempotency-Key on dispatch's creating calls: a partner's back end that timed out on
creating a job, or an enterprise on ordering a batch, retries without a second technician
being sent (found by the protocol conformance review: the header was ignored). Also: a
region as read is a region that can be put back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from redis.asyncio import Redis

from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server, running_server
from tests.integration.test_dispatch_support import config

WHERE = {"location": {"lat": 52.37, "lon": 4.89}}


@pytest.fixture
async def srv(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
              ) -> AsyncIterator[Server]:
    async with running_server(redis_server.url, tmp_path) as s:
        r = await s.client.put("/v1/regions/city", content=msgspec.json.encode(config()),
                               headers=s.auth("admin"))
        assert r.status_code == 200
        yield s


async def _open_jobs(s: Server) -> int:
    r = await s.client.get("/v1/regions/city/jobs", headers=s.auth("admin"))
    return len(r.json()["jobs"])


async def test_a_retried_job_is_one_job(srv: Server) -> None:
    c = srv.client
    disp = srv.auth("dispatcher", region="city", subject="partner-backend")
    first = await c.post("/v1/regions/city/jobs", json={**WHERE, "customer": "Mrs Li"},
                         headers={**disp, "Idempotency-Key": "order-77"})
    again = await c.post("/v1/regions/city/jobs", json={**WHERE, "customer": "Mrs Li"},
                         headers={**disp, "Idempotency-Key": "order-77"})
    assert first.status_code == again.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again.json()["token"]
    assert await _open_jobs(srv) == 1
    # The same key with another body: refused, nothing made.
    other = await c.post("/v1/regions/city/jobs", json={**WHERE, "customer": "Mr Wu"},
                         headers={**disp, "Idempotency-Key": "order-77"})
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_mismatch")
    # Another caller's same key is another key; no key, no deduplication.
    mine = srv.auth("dispatcher", region="city", subject="desk-2")
    r = await c.post("/v1/regions/city/jobs", json={**WHERE, "customer": "Mrs Li"},
                     headers={**mine, "Idempotency-Key": "order-77"})
    assert r.status_code == 201 and r.json()["id"] != first.json()["id"]
    for _ in range(2):
        assert (await c.post("/v1/regions/city/jobs", json=WHERE, headers=disp)
                ).status_code == 201
    assert await _open_jobs(srv) == 4
    bad = await c.post("/v1/regions/city/jobs", json=WHERE,
                       headers={**disp, "Idempotency-Key": "x" * 201})
    assert (bad.status_code, bad.json()["code"]) == (400, "bad_request")
    assert await _open_jobs(srv) == 4


async def test_a_failed_create_frees_its_key(srv: Server) -> None:
    c, disp = srv.client, srv.auth("dispatcher", region="city")
    key = {"Idempotency-Key": "k-1"}
    r = await c.post("/v1/regions/city/jobs", json={**WHERE, "org": "city.nope"},
                     headers={**disp, **key})
    assert r.status_code == 404  # unknown org: nothing made
    await c.put("/v1/orgs/city.nope", json={"name": "Nope"}, headers=srv.auth("admin"))
    r = await c.post("/v1/regions/city/jobs", json={**WHERE, "org": "city.nope"},
                     headers={**disp, **key})
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers


async def test_two_at_once_make_one(srv: Server) -> None:
    c, disp = srv.client, srv.auth("dispatcher", region="city")
    rs = await asyncio.gather(*[c.post("/v1/regions/city/jobs", json=WHERE,
                                       headers={**disp, "Idempotency-Key": "burst"})
                                for _ in range(5)])
    made = {r.json()["id"] for r in rs if r.status_code == 201}
    assert len(made) == 1
    # The others replayed it or were told to retry in a second (the first still running).
    assert all(r.status_code == 201 or (r.status_code == 409 and r.json()["temporary"])
               for r in rs)
    assert await _open_jobs(srv) == 1


async def test_a_retried_batch_is_one_batch(srv: Server) -> None:
    c, admin = srv.client, srv.auth("admin")
    await c.put("/v1/orgs/city.acme", json={"name": "ACME"}, headers=admin)
    org = {"Authorization": "Bearer " + (await c.post("/v1/orgs/city.acme/token",
                                                      headers=admin)).json()["token"]}
    body = {"name": "Tower A", "jobs": [WHERE] * 3}
    first = await c.post("/v1/orgs/city.acme/batches", json=body,
                         headers={**org, "Idempotency-Key": "tower-a"})
    again = await c.post("/v1/orgs/city.acme/batches", json=body,
                         headers={**org, "Idempotency-Key": "tower-a"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    info = (await c.get("/v1/orgs/city.acme", headers=org)).json()
    assert info["counts"] == {"new": 3} and len(info["batches"]) == 1


async def test_a_region_read_can_be_put_back(srv: Server) -> None:
    """GET adds the id, counts and the plan's state; PUT takes the document as read."""
    c, admin = srv.client, srv.auth("admin")
    doc = (await c.get("/v1/regions/city", headers=admin)).json()
    assert {"id", "technicians", "open_jobs", "plan"} <= set(doc)
    doc["name"] = "City centre"
    r = await c.put("/v1/regions/city", json=doc, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "City centre"
    doc["id"] = "town"
    r = await c.put("/v1/regions/city", json=doc, headers=admin)
    assert (r.status_code, r.json()["code"]) == (400, "bad_request")


async def test_a_job_stored_is_answered_even_if_its_recompute_is_not_queued(
        redis: Redis) -> None:
    """The job was stored, then queueing its recompute failed: the caller got 503 and its
    key was freed, so the retry made a second job (review). Now the job is answered; the
    worker's sweep recomputes pending jobs anyway."""
    import time as _time

    from dispatch.engine import NoEnqueuer
    from dispatch.model import JobRequest
    from queueing.engine import Actor
    from tests.integration.test_dispatch_support import clock_engine

    class Broken(NoEnqueuer):
        broken = False

        async def recompute(self, region: str, reason: str) -> None:
            if self.broken:
                raise ConnectionError("the queue's Redis is restarting")

    enq = Broken()
    eng = clock_engine(redis, lambda: _time.time_ns() // 1_000_000, enq)
    await eng.put_region("city", config(), Actor("admin", "test"))  # type: ignore[arg-type]
    enq.broken = True
    job = await eng.create_job("city", msgspec.convert(WHERE, JobRequest),
                               Actor("dispatcher", "test"))  # type: ignore[arg-type]
    assert job["status"] == "new"
    assert await redis.sismember("sb:{region:city}:pending", job["id"])  # type: ignore[misc]


async def test_keys_are_per_organisation_not_per_free_text_subject(srv: Server) -> None:
    """Two organisations whose tokens happen to share a subject do not share keys (one was
    told 422, and so that the other had used the key: review)."""
    c, admin = srv.client, srv.auth("admin")
    for org in ("city.acme", "city.beta"):
        await c.put(f"/v1/orgs/{org}", json={"name": org}, headers=admin)
    made = []
    for org, n in (("city.acme", 2), ("city.beta", 1)):
        r = await c.post(f"/v1/orgs/{org}/batches", json={"jobs": [WHERE] * n},
                         headers={**srv.auth("org", org=org, subject="facilities"),
                                  "Idempotency-Key": "monday"})
        assert r.status_code == 201 and "idempotent-replayed" not in r.headers, r.text
        assert r.headers["cache-control"] == "no-store"
        made.append(r.json()["id"])
    assert made[0] != made[1]
