"""A visit booked for a later day, the rest: a job an older pass judged ``unassignable``
(``time_window``) against today's shifts is re-evaluated by the periodic pass (it waited for a
Retry), and its dispatch response counts from the pass that plans it on its day, not from
its booking. Real Redis, a settable clock."""

from __future__ import annotations

import msgspec
from redis.asyncio import Redis

from dispatch import keys
from dispatch.model import Action, ActionKind
from dispatch.recompute import WHOLE
from tests.integration.conftest import Clock
from tests.integration.test_dispatch_future_booking import local_ms, region, state
from tests.integration.test_dispatch_support import ADMIN, job, recomputer


async def _whole_pass(redis: Redis, rc: object) -> None:
    await redis.sadd(keys.prefix("sh") + "dirty", WHOLE)  # type: ignore[misc]
    await rc.run("sh")  # type: ignore[attr-defined]


async def test_an_old_time_window_verdict_for_a_later_day_is_re_evaluated(
        redis: Redis) -> None:
    clock = Clock(local_ms(7, 9))  # Monday 09:00 in Shanghai
    eng = await region(redis, clock)
    rc = recomputer(eng)
    jid = (await eng.create_job("sh", job(31.232, 121.472, window=(
        local_ms(8, 10), local_ms(8, 12))), ADMIN))["id"]
    # As a pass before the booked-ahead fix left it: unassignable for its window, not pending.
    p = keys.prefix("sh")
    await redis.hset(p + "job:" + jid, mapping={"status": "unassignable",  # type: ignore[misc]
                                                "reason": "time_window"})
    await redis.srem(p + "pending", jid)  # type: ignore[misc]
    clock.advance(300)
    await _whole_pass(redis, rc)  # the periodic pass (also the worker's first, at start)
    assert await state(eng, jid) == ("new", None)
    assert not await redis.sismember(p + "pending", jid)  # type: ignore[misc]
    rows = await redis.xrange(keys.events("sh"))
    why = [msgspec.json.decode(f[b"d"]) for _, f in rows if f[b"t"] == b"job_reevaluated"]
    assert len(why) == 1 and why[0]["reason"] == "booked_ahead"
    assert why[0]["was"] == "time_window" and why[0]["from"] == "unassignable"
    # Again the same day: nothing more to say.
    clock.advance(300)
    await _whole_pass(redis, rc)
    rows = await redis.xrange(keys.events("sh"))
    assert sum(1 for _, f in rows if f[b"t"] == b"job_reevaluated") == 1
    # Its day: planned like any other.
    clock.now = local_ms(8, 7, 35)
    await _whole_pass(redis, rc)
    assert (await state(eng, jid))[0] == "offered"


async def test_a_booked_ahead_job_responds_from_its_day_not_its_booking(
        redis: Redis) -> None:
    clock = Clock(local_ms(7, 9))
    eng = await region(redis, clock)
    rc = recomputer(eng)
    ahead = (await eng.create_job("sh", job(31.232, 121.472, window=(
        local_ms(8, 10), local_ms(8, 12))), ADMIN))["id"]
    await rc.run("sh")
    assert await state(eng, ahead) == ("new", None)
    clock.now = local_ms(8, 7, 35)
    await _whole_pass(redis, rc)
    j = await eng.job(ahead)
    assert j["status"] == "offered"
    clock.advance(30)
    await eng.action(j["technician"], Action("acc-1", ActionKind.ACCEPT, clock.now, ahead),
                     ADMIN)
    k = (await eng.kpis("sh")).summary(clock.now)
    # 30 s from its offer on Tuesday, not 22 h 35 min from Monday's booking.
    assert k["accepted"] == 1 and k["dispatch_response_mean_s"] == 30.0, k
