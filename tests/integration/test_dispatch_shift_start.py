"""A shift start: the first technician online does not get the night's work alone. Its
log-in's pass is deferred (policy.online_settle_s) while others due now are offline, so the
burst is one pass over everyone who logged in meanwhile. Real Redis, a settable clock."""

from __future__ import annotations

from redis.asyncio import Redis

from dispatch.engine import NoEnqueuer
from dispatch.model import Action, ActionKind, Point, Shift, TechnicianSpec
from tests.integration.conftest import Clock
from tests.integration.test_dispatch_future_booking import local_ms, region
from tests.integration.test_dispatch_support import ADMIN, job, recomputer


def _spec(lat: float, lon: float) -> TechnicianSpec:
    return TechnicianSpec(name="T", home=Point(lat, lon), shift=Shift("08:00", "17:00"))


async def test_the_log_ins_of_a_shift_start_go_into_one_pass(redis: Redis) -> None:
    clock = Clock(local_ms(7, 7))  # 07:00 in Shanghai: t1 and t2 (07:30) already online
    eng = await region(redis, clock)
    enq = eng.enqueuer
    assert isinstance(enq, NoEnqueuer)
    morning = {f"sh.m{i}": _spec(31.23 + 0.01 * i, 121.47) for i in range(3)}
    for tid, spec in morning.items():
        await eng.put_tech(tid, spec, ADMIN)
    jobs = [(await eng.create_job("sh", job(31.232 + 0.002 * i, 121.472, window=(
        local_ms(7, 9), local_ms(7, 12))), ADMIN))["id"] for i in range(6)]
    enq.recomputes.clear()
    clock.now = local_ms(7, 8)  # 08:00: the morning shift logs in
    await eng.action("sh.m0", Action("on-0", ActionKind.ONLINE, clock.now), ADMIN)
    assert enq.recomputes == [] and enq.deferred == [("sh", "action_online", 30.0)]
    clock.advance(5)
    await eng.action("sh.m1", Action("on-1", ActionKind.ONLINE, clock.now), ADMIN)
    clock.advance(5)
    # The last one due: nobody else is waited for (arq: a no-op while the deferred pass is
    # queued; it takes all the work then).
    await eng.action("sh.m2", Action("on-2", ActionKind.ONLINE, clock.now), ADMIN)
    assert enq.recomputes == [("sh", "action_online")]
    assert len(enq.deferred) == 2
    clock.advance(20)
    reports = await recomputer(eng).run("sh")
    # The one pass plans with everyone who logged in (the first one online alone before).
    assert reports[0].mode == "full" and reports[0].techs == 5, reports[0]
    assert [(await eng.job(j))["status"] for j in jobs] == ["offered"] * len(jobs)
    # Mid-morning: a log-in is planned at once.
    await eng.put_tech("sh.late", _spec(31.25, 121.48), ADMIN)
    enq.deferred.clear()
    enq.recomputes.clear()
    clock.now = local_ms(7, 10, 30)
    await eng.action("sh.late", Action("on-l", ActionKind.ONLINE, clock.now), ADMIN)
    assert enq.recomputes == [("sh", "action_online")] and enq.deferred == []
