"""Region policy ``fairness_m_per_job``: read from the region document over HTTP (validated),
and used by the recompute's insertion — a second job near a technician who already has one
goes to an alike idle technician a little farther away when the setting prices the load
above the detour, and to the nearer one without it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from redis.asyncio import Redis

from dispatch.engine import DispatchEngine, NoEnqueuer
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Clock, Server, running_server
from tests.integration.test_dispatch_support import (
    ADMIN,
    add_techs,
    clock_engine,
    config,
    job,
    recomputer,
    recorder,
    tech_spec,
)

__all__ = ["recorder"]  # the fixture, imported for pytest


@pytest.fixture
async def srv(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
              ) -> AsyncIterator[Server]:
    async with running_server(redis_server.url, tmp_path) as s:
        yield s


async def test_the_setting_is_read_from_the_region_document_and_validated(srv: Server) -> None:
    c, admin = srv.client, srv.auth("admin")
    doc = msgspec.to_builtins(config(fairness_m_per_job=2000))
    r = await c.put("/v1/regions/city", content=msgspec.json.encode(doc), headers=admin)
    assert r.status_code == 200, r.text
    got = await c.get("/v1/regions/city", headers=admin)
    assert got.json()["policy"]["fairness_m_per_job"] == 2000
    for bad in ("2 km", -1, 1.5):
        doc["policy"]["fairness_m_per_job"] = bad
        r = await c.put("/v1/regions/city", content=msgspec.json.encode(doc), headers=admin)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["details"]["field"] == "policy.fairness_m_per_job"
    # Refused documents left the region as it was.
    got = await c.get("/v1/regions/city", headers=admin)
    assert got.json()["policy"]["fairness_m_per_job"] == 2000


@pytest.mark.parametrize(("fairness_m", "second_to"), [(0, "city.near"), (5000, "city.other")])
async def test_a_second_job_goes_to_the_idle_alike_technician_when_load_is_priced(
        redis: Redis, clock: Clock, recorder: NoEnqueuer, fairness_m: int,
        second_to: str) -> None:
    eng: DispatchEngine = clock_engine(redis, clock, recorder)
    # No improvement step: the test looks at the insertion's choice alone.
    await eng.put_region("city", config(fairness_m_per_job=fairness_m, improve_s=0), ADMIN)
    # Both electricians of the west; "other" is ~1.4 km (≈1.8 km by road) east of "near".
    await add_techs(eng, clock.now, {
        "city.near": tech_spec(52.370, 4.850, skills=("electric",)),
        "city.other": tech_spec(52.370, 4.870, skills=("electric",)),
    })
    rc = recomputer(eng)
    first = (await eng.create_job("city", job(52.370, 4.851, ("electric",)), ADMIN))["id"]
    await rc.run("city")
    assert (await eng.job(first))["technician"] == "city.near"
    # Next door to the first: ~0.3 km more for "near", ~3.5 km for "other" (there and home).
    second = (await eng.create_job("city", job(52.371, 4.851, ("electric",)), ADMIN))["id"]
    await rc.run("city")
    assert (await eng.job(second))["technician"] == second_to
