"""An outstanding offer stays with the technician it was made to until answered or expired.

A reviewer's start of day (23 devices going online at once) had offers withdrawn ~250 ms
after they were made: each technician going online starts a whole-region pass, whose
improvement moved a job offered a moment ago to the technician that had just come online
(offer_withdrawn ``reassigned``, then a new offer) — a wristband buzzed for an offer that
was gone before it could be read."""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
import pytest
from redis.asyncio import Redis

from dispatch import keys, planning
from dispatch.engine import DispatchEngine, NoEnqueuer
from dispatch.model import Action, ActionKind
from dispatch.solver import Problem, Task, Unassigned, Vehicle, build_plan
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


async def events(redis: Redis) -> list[tuple[str, dict[str, Any]]]:
    rows = await redis.xrange(keys.events("city"))
    return [(f[b"t"].decode(), msgspec.json.decode(f[b"d"])) for _, f in rows]


@pytest.fixture
async def eng(redis: Redis, clock: Clock) -> DispatchEngine:
    e = clock_engine(redis, clock, NoEnqueuer())
    # No move allowance: the improvement is free to move whatever beats its churn cost.
    await e.put_region("city", config(max_moved_ratio=None), ADMIN)
    return e


async def test_offer_is_not_moved_to_a_technician_who_just_came_online(
        eng: DispatchEngine, redis: Redis, clock: Clock) -> None:
    # The job is offered to t1, 6 km away; then t2 comes online 15 m from it. The whole-region
    # pass (and its improvement) must leave the offer with t1 while t1 decides.
    await add_techs(eng, clock.now, {"city.t1": tech_spec(52.420, 4.950)})
    jid = (await eng.create_job("city", job(52.370, 4.890), ADMIN))["id"]
    rc = recomputer(eng)
    await rc.run("city")
    assert (await eng.job(jid))["technician"] == "city.t1"
    clock.advance(0.3)
    await add_techs(eng, clock.now, {"city.t2": tech_spec(52.3701, 4.8901)})
    reports = await rc.run("city")
    assert any(r.mode == "full" for r in reports)
    j = await eng.job(jid)
    assert (j["status"], j["technician"]) == ("offered", "city.t1"), reports
    assert not [d for k, d in await events(redis) if k == "offer_withdrawn"]
    # Once t1 has answered, the job goes where it is cheapest: t2.
    clock.advance(5)
    await eng.action("city.t1", Action("d1", ActionKind.DECLINE, clock.now, jid, "busy"),
                     ADMIN)
    await rc.run("city")
    j = await eng.job(jid)
    assert (j["status"], j["technician"]) == ("offered", "city.t2")


async def test_accepted_job_still_moves_when_the_gain_beats_the_penalty(
        eng: DispatchEngine, redis: Redis, clock: Clock) -> None:
    # The pin is for offers only: an accepted job is priced by the usual stability rules.
    await add_techs(eng, clock.now, {"city.t1": tech_spec(52.420, 4.950)})
    jid = (await eng.create_job("city", job(52.370, 4.890), ADMIN))["id"]
    rc = recomputer(eng)
    await rc.run("city")
    await eng.action("city.t1", Action("a1", ActionKind.ACCEPT, clock.now, jid), ADMIN)
    await rc.run("city")
    clock.advance(0.3)
    await add_techs(eng, clock.now, {"city.t2": tech_spec(52.3701, 4.8901)})
    await rc.run("city")
    j = await eng.job(jid)
    assert (j["status"], j["technician"]) == ("offered", "city.t2")


def test_room_is_not_made_by_moving_an_outstanding_offer() -> None:
    # v1 carries x (an hour's work); the urgent job u next to v1 would be over an hour late
    # behind it. make_room takes x out for u — unless x is an offer v1 is reading.
    d = np.array([[0, 600, 60, 5000],
                  [600, 0, 600, 60],
                  [60, 600, 0, 5000],
                  [5000, 60, 5000, 0]], dtype=np.int64)
    x = Task("x", 1, 3600, ((0, 20_000),))
    u = Task("u", 2, 600, ((0, 700),))
    p = Problem((Vehicle("v1", 0, 0), Vehicle("v2", 3, 3)), (x, u), d)
    plan = build_plan(p, {"v1": ["x"], "v2": []}, {"u": Unassigned.SOLVER})
    made = planning.make_room(p, plan, u, 700, 4000)
    assert made is not None and made[1].assignment["u"] == "v1"
    assert planning.make_room(p, plan, u, 700, 4000, pinned=frozenset({"x"})) is None
