"""A cold region's first offers do not wait for the full solve (dispatch/recompute.py).

A region with nothing planned and a large batch (a restart, the day's first jobs, a batch into
an empty region) was solved from scratch for ``solve_s`` before any offer went out, an urgent
job's too. Now the pass publishes a quick construction within its budget (offers go out), and
the full solve follows as the improvement: published only where its gain beats its churn
cost, never moving an offer the construction made. On a real Redis, the pass in a thread as
in the worker.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from dispatch import keys, recompute
from dispatch.engine import DispatchEngine, NoEnqueuer
from dispatch.recompute import Recomputer
from tests.integration.conftest import Clock
from tests.integration.test_dispatch_erase import deng
from tests.integration.test_dispatch_support import (
    ADMIN,
    add_techs,
    config,
    eventually,
    job,
    recorder,
    tech_spec,
)
from tests.integration.test_livebench_smoke import livebench

__all__ = ["deng", "recorder"]  # the fixtures, imported for pytest

P = keys.prefix("city")
SOLVE_S = 8.0


async def _status(eng: DispatchEngine, jid: str) -> tuple[str, str]:
    j = await eng.job(jid)
    return j["status"], j.get("tech") or ""


async def _cold_region(deng: DispatchEngine, clock: Clock) -> list[str]:
    """Three technicians and 60 jobs (more than ``bulk``, 50) in a region with nothing
    planned: the cold case. The jobs' ids."""
    await deng.put_region("city", config(solve_s=SOLVE_S, improve_s=0.0), ADMIN)
    await add_techs(deng, clock.now, {f"city.t{i}": tech_spec(52.36 + 0.005 * i, 4.88)
                                      for i in range(3)})
    return [(await deng.create_job("city", job(52.35 + (i % 10) * 0.003,
                                               4.86 + (i // 10) * 0.004, duration_s=600),
                                   ADMIN))["id"] for i in range(60)]


async def test_a_cold_regions_urgent_job_is_offered_well_before_the_full_solve(
        deng: DispatchEngine, clock: Clock, redis: Redis, recorder: NoEnqueuer) -> None:
    batch = await _cold_region(deng, clock)
    urgent = (await deng.create_job("city", job(52.371, 4.892, priority=90), ADMIN))["id"]
    clock.advance(1)
    rc = Recomputer(deng, insert_budget_s=0.5, cold_s=1.0)
    t0 = time.perf_counter()
    loop = asyncio.create_task(rc.run("city", "test"))
    try:
        async def offered() -> bool:
            return (await _status(deng, urgent))[0] == "offered"
        await eventually(offered, timeout_s=2 * SOLVE_S, every_s=0.02)
        waited = time.perf_counter() - t0
        # Before: the offer came after the full solve (solve_s, 8 s); now the construction's.
        assert waited < SOLVE_S / 2, waited
        first_tech = (await _status(deng, urgent))[1]
        early = {j: await _status(deng, j) for j in batch}
        assert sum(s == "offered" for s, _ in early.values()) >= 20, early
        reports = await asyncio.wait_for(loop, 6 * SOLVE_S)
    finally:
        if not loop.done():
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)
    assert reports[0].cold and reports[0].offers >= 21, reports[0]
    # The full solve ran after the offers went out, over the whole region, and moved no
    # offer (an open offer is never moved: planning.pin).
    assert any("improve" in r.ms for r in reports), reports
    assert not rc.owed
    kinds = [f[b"t"] for _, f in await redis.xrange(keys.events("city"))]
    assert b"offer_withdrawn" not in kinds
    assert await _status(deng, urgent) == ("offered", first_tech)
    for j, (status, tech) in early.items():
        if status == "offered":
            assert await _status(deng, j) == ("offered", tech), j
    left = {(await _status(deng, j))[0] for j in batch}
    assert "new" not in left, left


async def test_the_simulator_still_solves_a_cold_region_in_one_go(
        deng: DispatchEngine, clock: Clock, redis: Redis) -> None:
    """``threads=False`` (no budget): the full solve at once, as before; nothing owed."""
    await deng.put_region("city", config(solve_s=0.5, improve_s=0.0), ADMIN)
    await add_techs(deng, clock.now, {"city.a": tech_spec(52.370, 4.891),
                                      "city.b": tech_spec(52.372, 4.900)})
    for i in range(55):
        await deng.create_job("city", job(52.36 + (i % 10) * 0.002, 4.88 + (i // 10) * 0.003,
                                          duration_s=300), ADMIN)
    clock.advance(1)
    rc = Recomputer(deng, threads=False)
    reports = await rc.run("city", "test")
    assert not reports[0].cold and reports[0].offers > 0
    assert not rc.owed
    assert not await redis.scard(P + "pending")  # type: ignore[misc]


def test_the_cold_bench(tmp_path: Path) -> None:
    """``python -m dispatch.livebench cold``, tiny: correctness only, never speed."""
    r = livebench(tmp_path, "cold", "--techs", "2", "--jobs", "60", "--cold-s", "0.5",
                  "--solve-s", "2", "--urgent-after-s", "0.1", "--max-s", "120")
    assert sum(r["statuses"].values()) == 61 and "new" not in r["statuses"], r
    assert r["urgent_offered_s"] is not None and r["batch_all_decided_s"] is not None, r
    assert r["planned_km"] > 0 and r["withdrawn"] == {}, r


async def test_the_full_solve_never_drops_an_offer_of_the_construction(
        deng: DispatchEngine, clock: Clock, redis: Redis) -> None:
    """More jobs than the day can take: the full solve sees the construction's offers beside
    the jobs it left out, and took some offers back to plan others in their place (withdrawn,
    ``unassignable``). Like accepted work, an open offer is kept."""
    await deng.put_region("city", config(solve_s=4.0, improve_s=0.0), ADMIN)
    await add_techs(deng, clock.now, {f"city.t{i}": tech_spec(52.36 + 0.01 * i, 4.88)
                                      for i in range(2)})
    slot0 = (clock.now // 3600_000 + 1) * 3600_000
    batch = [(await deng.create_job("city", job(
        52.34 + (i % 9) * 0.006, 4.84 + (i // 9) * 0.01, duration_s=900,
        window=(slot0 + (i % 4) * 3600_000, slot0 + (i % 4 + 1) * 3600_000)), ADMIN))["id"]
        for i in range(72)]
    clock.advance(1)
    rc = Recomputer(deng, insert_budget_s=0.5, cold_s=1.0)
    reports = await rc.run("city", "test")
    assert reports[0].cold and any("improve" in r.ms for r in reports), reports
    statuses = {(await _status(deng, j))[0] for j in batch}
    assert statuses == {"offered", "unassignable"}, statuses
    withdrawn = [f for _, f in await redis.xrange(keys.events("city"))
                 if f[b"t"] == b"offer_withdrawn"]
    assert not withdrawn, withdrawn


async def test_an_urgent_job_during_the_construction_goes_first_then_the_full_solve(
        deng: DispatchEngine, clock: Clock, redis: Redis) -> None:
    """Work that arrives while the construction runs: the full solve waits for it. The next
    pass (here an urgent job's) is local (it sees only nearby routes), so it asks for a
    whole-region pass, and that one runs the owed solve."""
    await deng.put_region("city", config(solve_s=2.0, improve_s=0.0), ADMIN)
    await add_techs(deng, clock.now, {f"city.t{i}": tech_spec(52.36 + 0.005 * i, 4.88)
                                      for i in range(3)})
    for i in range(55):
        await deng.create_job("city", job(52.35 + (i % 10) * 0.003, 4.86 + (i // 10) * 0.004,
                                          duration_s=600), ADMIN)
    clock.advance(1)
    rc = Recomputer(deng, insert_budget_s=0.5, cold_s=0.5)
    token = await rc.acquire("city")
    try:
        work = await rc.take("city")
        assert work is not None
        # A technician's trigger (GPS drift, say) after the pass took its work: waiting when
        # the construction is published, so the full solve does not run yet.
        await redis.sadd(P + "dirty", "city.t0")  # type: ignore[misc]
        first = await rc.once("city", token, "test", work)
        assert first.cold and first.offers >= 50 and "improve" not in first.ms, first
        assert set(rc.owed) == {"city"}
        urgent = (await deng.create_job("city", job(52.371, 4.892, priority=90), ADMIN))["id"]
        work = await rc.take("city")
        assert work is not None and not work.whole and work.pending == {urgent}
        second = await rc.once("city", token, "test", work)
        assert second.mode == "local" and "improve" not in second.ms, second
        assert (await _status(deng, urgent))[0] == "offered"
        assert await redis.sismember(P + "dirty", "*")  # type: ignore[misc]
        work = await rc.take("city")
        assert work is not None and work.whole
        third = await rc.once("city", token, "test", work)
        assert third.mode == "full" and "improve" in third.ms, third
        assert not rc.owed
    finally:
        await rc.lock("city", "release", token)


async def test_work_during_the_owed_full_solve_waits_for_one_chunk_of_it(
        deng: DispatchEngine, clock: Clock, redis: Redis, monkeypatch: Any) -> None:
    """The owed full solve runs in chunks (``OWED_CHUNK_S``), each warm-started from the last:
    a job that comes while it runs is offered after the chunk under way, not after the whole
    solve (it held the region's lock for ``solve_s``: with the bench's 30 s, an urgent job
    8 s behind a cold batch was offered 17 s later). The rest stays owed and runs after."""
    monkeypatch.setattr(recompute, "OWED_CHUNK_S", 1.0)
    batch = await _cold_region(deng, clock)
    clock.advance(1)
    rc = Recomputer(deng, insert_budget_s=0.5, cold_s=0.5)
    loop = asyncio.create_task(rc.run("city", "test"))
    try:
        async def solving() -> bool:
            return bool(rc.owed) and (await _status(deng, batch[0]))[0] != "new"
        await eventually(solving, timeout_s=SOLVE_S, every_s=0.02)
        await asyncio.sleep(0.3)  # inside the first chunk
        urgent = (await deng.create_job("city", job(52.371, 4.892, priority=90), ADMIN))["id"]
        t0 = time.perf_counter()

        async def offered() -> bool:
            return (await _status(deng, urgent))[0] == "offered"
        await eventually(offered, timeout_s=2 * SOLVE_S, every_s=0.02)
        waited = time.perf_counter() - t0
        assert waited < SOLVE_S / 2, waited  # before: the rest of the solve (about 8 s)
        assert rc.owed, "the rest of the full solve is still owed"
        reports = await asyncio.wait_for(loop, 6 * SOLVE_S)
    finally:
        if not loop.done():
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)
    assert not rc.owed
    assert sum(r.ms.get("improve", 0) for r in reports) > 0.7 * SOLVE_S * 1000 * 2 / 3, reports
