"""Races a dispatch review found between a running recompute and what people do meanwhile:
a technician accepting a job the pass's improvement would drop, and a dispatcher retrying a
job the pass read as declined. Real Redis; the pass is paused right after it built its
problem, and the person acts then."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis

from dispatch import keys, planning
from dispatch.engine import NoEnqueuer
from dispatch.model import Action, ActionKind
from dispatch.recompute import Recomputer
from tests.integration.conftest import Clock
from tests.integration.test_dispatch_support import (
    ADMIN,
    add_techs,
    clock_engine,
    config,
    job,
    tech_spec,
)


class Paused(Recomputer):
    """Runs ``hook`` once the ``at``-th problem of a run has been built."""

    hook: Any = None
    at = 1
    builds = 0

    async def _call(self, fn: Any, *args: Any) -> Any:
        out = fn(*args)
        if fn is planning.build:
            self.builds += 1
            if self.hook is not None and self.builds == self.at:
                hook, self.hook = self.hook, None
                await hook()
        return out


@pytest.mark.filterwarnings("ignore::pyvrp.PenaltyManager.PenaltyBoundWarning")
@pytest.mark.parametrize("at", [1, 2])
async def test_a_job_accepted_during_a_pass_is_not_dropped(redis: Redis, clock: Clock,
                                                           at: int) -> None:
    """A technician at its job limit accepts its two offers while the pass runs; the
    improvement, which read them as offers, would drop them for two closer new jobs."""
    eng = clock_engine(redis, clock, NoEnqueuer())
    await eng.put_region("city", config(improve_s=1), ADMIN)
    spec = msgspec.structs.replace(tech_spec(52.37, 4.85), max_jobs=2)
    await add_techs(eng, clock(), {"city.t1": spec})
    rc = Paused(eng, threads=False)
    far = [(await eng.create_job("city", job(52.37, 4.99 - i * 0.005), ADMIN))["id"]
           for i in range(2)]
    await rc.run("city")
    assert [(await eng.job(j))["status"] for j in far] == ["offered", "offered"]
    for i in range(2):
        await eng.create_job("city", job(52.3705 + i * 0.0005, 4.851), ADMIN)

    async def accept() -> None:
        for i, jid in enumerate(far):
            await eng.action("city.t1", Action(f"acc-{i}", ActionKind.ACCEPT, clock(), jid),
                             ADMIN)

    rc.builds, rc.at, rc.hook = 0, at, accept
    await rc.run("city")
    for jid in far:
        j = await eng.job(jid)
        assert (j["status"], j["technician"]) == ("assigned", "city.t1"), j


async def test_a_retry_during_a_pass_is_not_undone(redis: Redis, clock: Clock) -> None:
    eng = clock_engine(redis, clock, NoEnqueuer())
    await eng.put_region("city", config(improve_s=0), ADMIN)
    await add_techs(eng, clock(), {"city.t1": tech_spec(52.37, 4.89, skills=("hvac",))})
    rc = Paused(eng, threads=False)
    jid = (await eng.create_job("city", job(52.371, 4.891, skills=("hvac",)), ADMIN))["id"]
    await rc.run("city")
    await eng.action("city.t1", Action("dec", ActionKind.DECLINE, clock(), jid), ADMIN)
    await rc.run("city")
    assert (await eng.job(jid))["status"] == "unassignable"
    await redis.sadd(keys.prefix("city") + "dirty", "*")  # the periodic sweep, say

    async def retry() -> None:
        assert (await eng.retry_job(jid, ADMIN))["status"] == "new"

    rc.builds, rc.hook = 0, retry
    await rc.run("city")
    # Not set back to "declined" by the pass that read it before the retry; offered again.
    j = await eng.job(jid)
    assert j["status"] != "unassignable", j
    if j["status"] == "new":
        assert await rc.has_work("city")
        await rc.run("city")
        j = await eng.job(jid)
    assert (j["status"], j["technician"]) == ("offered", "city.t1"), j
