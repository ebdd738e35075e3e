"""A start-of-shift settle holds a recompute already queued or running (dispatch/settle.py
``HOLD_KEY``, set in the log-in's step by lua/action.lua): that pass used to take the
log-in's whole-region work at once, planning the first technician online alone. Real Redis;
a settable clock, then a real arq worker in wall-clock time."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from redis.asyncio import Redis

from dispatch import keys
from dispatch.model import Action, ActionKind, Point, Shift, TechnicianSpec
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Clock
from tests.integration.test_dispatch_future_booking import local_ms, region
from tests.integration.test_dispatch_shift_start import _spec
from tests.integration.test_dispatch_support import (
    ADMIN,
    arq_worker,
    config,
    eventually,
    job,
    recomputer,
    wall_engine,
)


async def test_a_log_in_during_a_running_pass_still_settles(redis: Redis) -> None:
    """A pass is running when the first of the morning shift logs in: the log-in's deferred
    pass was a no-op (same job id), and the running loop took its whole-region work at once,
    planning the first one online alone. Now the running loop stops at the settle and its
    work waits for the one pass at its end."""
    clock = Clock(local_ms(7, 7, 59))
    eng = await region(redis, clock)
    morning = {f"sh.m{i}": _spec(31.23 + 0.01 * i, 121.47) for i in range(3)}
    for tid, spec in morning.items():
        await eng.put_tech(tid, spec, ADMIN)
    jobs = [(await eng.create_job("sh", job(31.232 + 0.002 * i, 121.472, window=(
        local_ms(7, 9), local_ms(7, 12))), ADMIN))["id"] for i in range(6)]
    rc = recomputer(eng)
    first = rc.once
    passes: list[str] = []

    async def once_then_log_in(*args: Any, **kw: Any) -> Any:
        report = await first(*args, **kw)
        passes.append(report.mode)
        if len(passes) == 1:  # 08:00, while this pass runs: m0 logs in, m1 and m2 are due
            clock.now = local_ms(7, 8)
            await eng.action("sh.m0", Action("on-0", ActionKind.ONLINE, clock.now), ADMIN)
        return report

    rc.once = once_then_log_in  # type: ignore[method-assign]
    reports = await rc.run("sh")
    assert len(reports) == 1, reports  # the pass under way, nothing after it
    assert await rc.settling("sh") == 30.0 and await rc.has_work("sh")
    clock.advance(10)
    await eng.action("sh.m1", Action("on-1", ActionKind.ONLINE, clock.now), ADMIN)
    clock.advance(5)
    await eng.action("sh.m2", Action("on-2", ActionKind.ONLINE, clock.now), ADMIN)
    assert await rc.run("sh") == []  # still settling (a sweep's job, say)
    clock.advance(15)
    assert await rc.settling("sh") == 0
    reports = await rc.run("sh")
    # One pass with everyone who logged in, and the morning shift got the morning's work.
    assert reports[0].mode == "full" and reports[0].techs == 5, reports[0]
    holders = {(await eng.job(j))["technician"] for j in jobs}
    assert holders & set(morning), holders


async def test_a_settle_holds_a_recompute_already_queued_with_a_real_worker(
        redis: Redis, redis_server: EmbeddedRedis) -> None:
    """Through arq, wall clock: a job created a moment before the first log-in of a shift
    start has its recompute queued; the log-in's deferred one is then a no-op (same job id),
    and the queued one planned the first technician online alone, giving it every job. Now
    that job finds the settle on, runs again at its end (arq Retry), and the morning shift
    shares the work."""
    settle_s = 3.0
    eng = wall_engine(redis)
    await eng.put_region("city", config(improve_s=0.2, online_settle_s=settle_s), ADMIN)
    tz = ZoneInfo("Europe/Amsterdam")
    now = datetime.now(tz)
    start = f"{now.hour:02d}:{now.minute:02d}"
    end = f"{(now.hour + 8) % 24:02d}:{now.minute:02d}"
    morning = [f"city.m{i}" for i in range(3)]
    for i, tid in enumerate(morning):
        await eng.put_tech(tid, TechnicianSpec(name="M", skills=["x"], shift=Shift(start, end),
                                               home=Point(52.36 + 0.01 * i, 4.89)), ADMIN)
    async with arq_worker(redis_server.url):
        jobs = [(await eng.create_job("city", job(52.36 + 0.004 * k, 4.89, skills=("x",)),
                                      ADMIN))["id"] for k in range(6)]
        t0 = eng.clock()
        await eng.action("city.m0", Action("on-m0", ActionKind.ONLINE, t0), ADMIN)
        await asyncio.sleep(1.0)
        for tid in morning[1:]:
            await eng.action(tid, Action(f"on-{tid}", ActionKind.ONLINE, eng.clock()), ADMIN)

        async def all_offered() -> bool:
            return all([(await eng.job(j))["status"] == "offered" for j in jobs])

        await eventually(all_offered, 15)
    offers = [(int(eid.decode().split("-")[0]), msgspec.json.decode(f[b"d"])["tech"])
              for eid, f in await redis.xrange(keys.events("city")) if f[b"t"] == b"offered"]
    assert offers and min(ms for ms, _ in offers) >= t0 + settle_s * 1000 - 100, (t0, offers)
    assert len({tech for _, tech in offers}) >= 2, offers
