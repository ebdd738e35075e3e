"""An urgent job without a window goes to a technician free now, not to the end of a busy
route next door: its service level is ``urgent_within_s`` (1 h), not the routine 4 h that let
cheapest insertion queue it behind 2 h of accepted work. Real Redis, a settable clock."""

from __future__ import annotations

from redis.asyncio import Redis

from dispatch.engine import DispatchEngine, NoEnqueuer
from dispatch.model import Action, ActionKind
from tests.integration.conftest import Clock
from tests.integration.test_dispatch_support import (
    ADMIN,
    add_techs,
    clock_engine,
    config,
    job,
    recomputer,
    tech_spec,
)

B_HOME = (52.370, 4.880)  # in the west zone, with three visits around it
A_HOME = (52.4130, 4.880)  # 4.8 km north of B, nothing to do


async def busy_b(eng: DispatchEngine, clock: Clock) -> list[str]:
    """B with three accepted visits in tight windows, back to back for ~2 h."""
    await add_techs(eng, clock.now, {"city.b": tech_spec(*B_HOME)})
    rc = recomputer(eng)
    ids = []
    for i, opens_min in enumerate((5, 45, 85)):
        w = (clock.now + opens_min * 60_000, clock.now + (opens_min + 15) * 60_000)
        jid = (await eng.create_job("city", job(52.371 + i * 0.001, 4.881, window=w),
                                    ADMIN))["id"]
        await rc.run("city")
        await eng.action("city.b", Action(f"acc-{i}", ActionKind.ACCEPT, clock.now, jid), ADMIN)
        ids.append(jid)
    return ids


async def test_an_urgent_job_goes_to_the_idle_technician(redis: Redis, clock: Clock) -> None:
    eng = clock_engine(redis, clock, NoEnqueuer())
    await eng.put_region("city", config(), ADMIN)
    visits = await busy_b(eng, clock)
    await add_techs(eng, clock.now, {"city.a": tech_spec(*A_HOME)})
    rc = recomputer(eng)
    urgent = (await eng.create_job("city", job(52.3702, 4.8802, priority=95), ADMIN))["id"]
    await rc.run("city")
    j = await eng.job(urgent)
    assert j["status"] == "offered"
    assert j["technician"] == "city.a"
    assert j["eta_ms"] - clock.now < 30 * 60_000
    # B keeps its accepted visits.
    for jid in visits:
        assert (await eng.job(jid))["technician"] == "city.b"


async def test_a_routine_job_still_goes_where_it_adds_least_driving(
        redis: Redis, clock: Clock) -> None:
    eng = clock_engine(redis, clock, NoEnqueuer())
    await eng.put_region("city", config(), ADMIN)
    await busy_b(eng, clock)
    await add_techs(eng, clock.now, {"city.a": tech_spec(*A_HOME)})
    rc = recomputer(eng)
    routine = (await eng.create_job("city", job(52.3702, 4.8802, priority=10), ADMIN))["id"]
    await rc.run("city")
    assert (await eng.job(routine))["technician"] == "city.b"
