"""A large batch no longer holds a region's recompute for minutes (dispatch/recompute.py,
``insert_budget_s``): a pass inserts pending jobs, most urgent first, for its time budget
(at least one), publishes, and leaves the rest pending (``new``, in the ``pending`` set, not
judged) for the next pass. Before, one pass inserted every pending job before publishing:
a 150-job batch followed by an urgent job meant the urgent job's offer came after 107 s.
On a real Redis; the pass runs in a thread as in the worker."""

from __future__ import annotations

from redis.asyncio import Redis

from dispatch import keys
from dispatch.engine import DispatchEngine, NoEnqueuer
from dispatch.recompute import Recomputer, Report
from tests.integration.conftest import Clock
from tests.integration.test_dispatch_erase import deng
from tests.integration.test_dispatch_support import (
    ADMIN,
    add_techs,
    job,
    recorder,
    tech_spec,
)

__all__ = ["deng", "recorder"]  # the fixtures, imported for pytest

P = keys.prefix("city")


async def _one_pass(rc: Recomputer) -> Report:
    token = await rc.acquire("city")
    try:
        work = await rc.take("city")
        assert work is not None
        return await rc.once("city", token, "test", work)
    finally:
        await rc.lock("city", "release", token)


async def _statuses(eng: DispatchEngine, ids: list[str]) -> dict[str, str]:
    return {j: (await eng.job(j))["status"] for j in ids}


async def test_a_batch_is_inserted_over_several_passes_urgent_work_first(
        deng: DispatchEngine, clock: Clock, redis: Redis, recorder: NoEnqueuer) -> None:
    await add_techs(deng, clock.now, {"city.a": tech_spec(52.370, 4.891),
                                      "city.b": tech_spec(52.372, 4.900)})
    batch = [(await deng.create_job("city", job(52.36 + i * 0.001, 4.88 + i * 0.001,
                                                duration_s=600), ADMIN))["id"]
             for i in range(30)]
    clock.advance(1)
    rc = Recomputer(deng, insert_budget_s=0.0)  # a budget of 0: one job per pass

    first = await _one_pass(rc)
    assert (first.inserted, first.deferred, first.unassigned) == (1, 29, 0)
    st = await _statuses(deng, batch)
    assert list(st.values()).count("offered") == 1
    # The rest wait untouched for the next pass: new, pending, not judged unassignable.
    assert list(st.values()).count("new") == 29
    pending = {m.decode() for m in await redis.smembers(P + "pending")}  # type: ignore[misc]
    assert pending == {j for j, s in st.items() if s == "new"}
    assert await rc.has_work("city")

    # An urgent job that arrives meanwhile is in the very next pass, ahead of the batch.
    urgent = (await deng.create_job("city", job(52.371, 4.892, priority=90), ADMIN))["id"]
    clock.advance(1)
    second = await _one_pass(rc)
    assert (second.inserted, second.deferred) == (1, 29)
    assert (await deng.job(urgent))["status"] == "offered"

    # The loop drains the rest; every job is decided and nothing is left pending.
    reports = await rc.run("city")
    assert sum(r.inserted for r in reports) + sum(r.unassigned for r in reports) >= 28
    assert not await redis.scard(P + "pending")  # type: ignore[misc]
    left = await _statuses(deng, batch)
    assert "new" not in left.values(), left
    assert set(left.values()) <= {"offered", "unassignable"}


async def test_without_a_budget_one_pass_inserts_the_whole_batch(
        deng: DispatchEngine, clock: Clock, redis: Redis) -> None:
    """The simulator's way (``threads=False``): its results must not depend on the machine's
    speed."""
    await add_techs(deng, clock.now, {"city.a": tech_spec(52.370, 4.891)})
    for i in range(12):
        await deng.create_job("city", job(52.36 + i * 0.001, 4.88, duration_s=600), ADMIN)
    clock.advance(1)
    report = await _one_pass(Recomputer(deng, threads=False, insert_budget_s=0.0))
    assert (report.inserted + report.unassigned, report.deferred) == (12, 0)
    assert not await redis.scard(P + "pending")  # type: ignore[misc]
