"""A visit booked for a later day waits for that day: not planned against today's shifts (the
solver then called it ``time_window`` and the customer read "nobody can come"), planned by
the whole-region pass once its day comes. Real Redis, a settable clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from dispatch import keys
from dispatch.engine import DispatchEngine, NoEnqueuer
from dispatch.model import (
    BatchRequest,
    DispatchPolicy,
    OrgSpec,
    Point,
    RegionConfig,
    Shift,
    TechnicianSpec,
)
from dispatch.recompute import WHOLE
from tests.integration.conftest import Clock
from tests.integration.test_dispatch_support import ADMIN, add_techs, clock_engine, job, recomputer

TZ = ZoneInfo("Asia/Shanghai")


def local_ms(day: int, hh: int, mm: int = 0) -> int:
    return int(datetime(2026, 12, day, hh, mm, tzinfo=TZ).timestamp() * 1000)


def day_tech(lat: float, lon: float) -> TechnicianSpec:
    return TechnicianSpec(name="Wang Wei", home=Point(lat, lon), shift=Shift("07:30", "17:30"))


async def region(redis: Redis, clock: Clock, solve_s: float = 30) -> DispatchEngine:
    eng = clock_engine(redis, clock, NoEnqueuer())
    cfg = RegionConfig(name="Shanghai", timezone="Asia/Shanghai",
                       policy=DispatchPolicy(improve_s=0.2, solve_s=solve_s))
    await eng.put_region("sh", cfg, ADMIN)
    await add_techs(eng, clock.now, {"sh.t1": day_tech(31.230, 121.470),
                                     "sh.t2": day_tech(31.240, 121.480)})
    return eng


async def state(eng: DispatchEngine, jid: str) -> tuple[str, str | None]:
    j = await eng.job(jid)
    return j["status"], j.get("reason")


async def test_a_job_booked_for_tomorrow_waits_and_is_planned_on_its_day(
        redis: Redis) -> None:
    clock = Clock(local_ms(7, 9))  # Monday 09:00 in Shanghai
    eng = await region(redis, clock)
    rc = recomputer(eng)
    tomorrow = (await eng.create_job("sh", job(31.232, 121.472, window=(
        local_ms(8, 10), local_ms(8, 12))), ADMIN))["id"]
    today = (await eng.create_job("sh", job(31.235, 121.475, window=(
        local_ms(7, 10), local_ms(7, 12))), ADMIN))["id"]
    # Tomorrow at 17:20 a 30-minute job cannot end inside a shift that ends at 17:30.
    never = (await eng.create_job("sh", job(31.233, 121.473, window=(
        local_ms(8, 17, 20), local_ms(8, 17, 25))), ADMIN))["id"]
    reports = await rc.run("sh")
    assert (await state(eng, today))[0] == "offered"
    assert await state(eng, tomorrow) == ("new", None)
    assert await state(eng, never) == ("new", None)
    # It left the pending set (or every pass found work again at once) and is still open.
    p = keys.prefix("sh")
    assert not await redis.sismember(p + "pending", tomorrow)  # type: ignore[misc]
    assert await redis.sismember(p + "open", tomorrow)  # type: ignore[misc]
    assert len(reports) <= 3
    # A periodic whole-region pass the same day changes nothing.
    clock.advance(300)
    await redis.sadd(p + "dirty", WHOLE)  # type: ignore[misc]
    await rc.run("sh")
    assert await state(eng, tomorrow) == ("new", None)
    # Tuesday 07:35: the technicians' shifts now reach its window; the periodic pass plans
    # it. The one nobody can serve even on its day is unassignable, for its window.
    clock.now = local_ms(8, 7, 35)
    await redis.sadd(p + "dirty", WHOLE)  # type: ignore[misc]
    await rc.run("sh")
    assert (await state(eng, tomorrow))[0] == "offered"
    assert (await state(eng, never))[0] == "unassignable"


async def test_booked_in_the_evening_with_nobody_on_shift_waits(redis: Redis) -> None:
    clock = Clock(local_ms(7, 20))  # Monday 20:00: every shift is over
    eng = await region(redis, clock)
    rc = recomputer(eng)
    tomorrow = (await eng.create_job("sh", job(31.232, 121.472, window=(
        local_ms(8, 10), local_ms(8, 12))), ADMIN))["id"]
    now = (await eng.create_job("sh", job(31.233, 121.473), ADMIN))["id"]
    await rc.run("sh")
    assert await state(eng, tomorrow) == ("new", None)
    assert await state(eng, now) == ("unassignable", "no_technician")


async def test_an_organisations_batch_for_tomorrow_stays_booked(redis: Redis) -> None:
    """60 jobs (more than a local pass takes: the whole region is solved) in tomorrow's slots:
    none unassignable today; tomorrow at shift start they are planned."""
    clock = Clock(local_ms(7, 14))
    eng = await region(redis, clock, solve_s=2)
    await eng.put_org("sh.acme", OrgSpec("ACME"), ADMIN)
    rc = recomputer(eng, bulk=50)
    slots = [(local_ms(8, 9 + i % 8), local_ms(8, 10 + i % 8)) for i in range(60)]
    batch = await eng.create_batch("sh.acme", BatchRequest(
        [job(31.23 + 1e-4 * i, 121.47, window=w, duration_s=600)
         for i, w in enumerate(slots)]), ADMIN)
    reports = await rc.run("sh")
    assert reports[0].mode == "full"
    assert (await eng.org("sh.acme"))["counts"] == {"new": 60}
    assert not await redis.scard(keys.prefix("sh") + "pending")  # type: ignore[misc]
    clock.now = local_ms(8, 7, 30)
    await redis.sadd(keys.prefix("sh") + "dirty", WHOLE)  # type: ignore[misc]
    await rc.run("sh")
    counts = (await eng.org("sh.acme"))["counts"]
    assert counts.get("offered", 0) >= 30 and "new" not in counts, counts
    assert batch["jobs"]
