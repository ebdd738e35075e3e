"""The dispatch engine, store scripts and recomputes on a real Redis, in a settable clock."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis

from dispatch import gps as gpsrules
from dispatch import keys
from dispatch.engine import DispatchEngine, NoEnqueuer
from dispatch.errors import (
    ActionMismatch,
    FixFromFuture,
    FixOutOfOrder,
    FixRejected,
    FixTooFast,
    InvalidTransition,
    OfferClosed,
    StaleToken,
)
from dispatch.model import Action, ActionKind
from dispatch.recompute import WHOLE, Work
from tests.integration.conftest import Clock
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
async def deng(redis: Redis, clock: Clock, recorder: NoEnqueuer) -> DispatchEngine:
    eng = clock_engine(redis, clock, recorder)
    await eng.put_region("city", config(), ADMIN)
    return eng


async def events(redis: Redis, region: str = "city") -> list[tuple[str, dict[str, Any]]]:
    rows = await redis.xrange(keys.events(region))
    return [(f[b"t"].decode(), msgspec.json.decode(f[b"d"])) for _, f in rows]


async def status(eng: DispatchEngine, jid: str) -> tuple[str, str | None]:
    j = await eng.job(jid)
    return j["status"], j["technician"]


def act(aid: str, kind: ActionKind, t: int, j: str = "", r: str = "") -> Action:
    return Action(aid, kind, t, j, r)


async def test_job_goes_to_a_skilled_technician_only(deng: DispatchEngine, clock: Clock) -> None:
    # The unskilled technician is 100 m away; the skilled one is 5 km away.
    await add_techs(deng, clock.now, {
        "city.near": tech_spec(52.370, 4.8915),
        "city.far": tech_spec(52.400, 4.950, skills=("gas",)),
    })
    rc = recomputer(deng)
    jid = (await deng.create_job("city", job(52.370, 4.890, skills=("gas",)), ADMIN))["id"]
    await rc.run("city")
    assert await status(deng, jid) == ("offered", "city.far")
    # The skilled one declines: nobody else has the skill, so the job is unassignable, and
    # says why: everyone who could do it declined (not "skills": one technician has them).
    await deng.action("city.far", act("d1", ActionKind.DECLINE, clock.now, jid, "too far"), ADMIN)
    for _ in range(3):
        await rc.run("city")
    st, tech = await status(deng, jid)
    assert (st, tech) == ("unassignable", None)
    assert (await deng.job(jid))["reason"] == "declined"
    # A skill nobody on shift has is a matter of skills.
    other = (await deng.create_job("city", job(52.370, 4.890, skills=("roof",)), ADMIN))["id"]
    for _ in range(2):
        await rc.run("city")
    assert (await deng.job(other))["reason"] == "skills"
    offered_to = {d["tech"] for t, d in await events(deng.redis) if t == "offered"
                  and d["job"]["id"] == jid}
    assert offered_to == {"city.far"}


async def test_job_outside_every_zone_is_unassignable(deng: DispatchEngine, clock: Clock) -> None:
    await add_techs(deng, clock.now, {"city.t1": tech_spec(52.37, 4.89)})
    jid = (await deng.create_job("city", job(52.60, 4.89), ADMIN))["id"]
    await recomputer(deng).run("city")
    j = await deng.job(jid)
    assert (j["status"], j["reason"], j["technician"]) == ("unassignable", "outside_zones", None)
    (_, data), = [(t, d) for t, d in await events(deng.redis) if t == "job_unassignable"]
    assert data["reason"] == "outside_zones"


@pytest.mark.parametrize("corners, says", [
    ([(4.80, 52.30), (4.85, 52.35), (4.90, 52.40)], "encloses no area"),  # on one line
    ([(4.80, 52.30), (4.90, 52.30), (5.00, 52.30)], "encloses no area"),  # exactly
    ([(4.80, 52.30), (4.90, 52.45), (4.80, 52.45), (4.90, 52.30)], "crosses itself"),
])
async def test_a_zone_that_is_no_area_says_which_and_why(deng: DispatchEngine,
                                                         corners: list[tuple[float, float]],
                                                         says: str) -> None:
    """A reviewer's three collinear corners were refused as "it crosses itself"."""
    from dispatch.errors import BadRequest
    from dispatch.model import Zone
    from tests.integration.test_dispatch_support import WEST
    cfg = msgspec.structs.replace(config(), zones=[WEST, Zone("north", corners)])
    with pytest.raises(BadRequest) as err:
        await deng.put_region("city", cfg, ADMIN)
    assert says in str(err.value) and err.value.details["field"] == "zones[1].polygon"
    assert (await deng.config("city")).zones == config().zones  # unchanged


async def test_zone_of_technician_is_respected(deng: DispatchEngine, clock: Clock) -> None:
    await add_techs(deng, clock.now, {
        "city.w": tech_spec(52.37, 4.899, zones=("west",)),
        "city.e": tech_spec(52.37, 4.95, zones=("east",)),
    })
    jid = (await deng.create_job("city", job(52.37, 4.901), ADMIN))["id"]  # east, by 70 m
    await recomputer(deng).run("city")
    assert await status(deng, jid) == ("offered", "city.e")


async def test_en_route_job_is_never_moved(deng: DispatchEngine, clock: Clock,
                                           redis: Redis) -> None:
    await deng.put_region("city", config(reassignment_penalty_m=0, max_moved_ratio=1.0,
                                         burst_ratio=1.0, max_changes_per_hour=100), ADMIN)
    await add_techs(deng, clock.now, {
        "city.a": tech_spec(52.37, 4.89), "city.b": tech_spec(52.38, 4.93),
    })
    rc = recomputer(deng)
    jid = (await deng.create_job("city", job(52.372, 4.892), ADMIN))["id"]
    await rc.run("city")
    assert await status(deng, jid) == ("offered", "city.a")
    await deng.action("city.a", act("a1", ActionKind.ACCEPT, clock.now, jid), ADMIN)
    await deng.action("city.a", act("a2", ActionKind.DEPART, clock.now, jid), ADMIN)
    # Technician a drives away (to the far side of b): any optimiser would now prefer b.
    rng = random.Random(1)
    for k in range(8):
        clock.advance(60)
        await deng.gps("city.a", gpsrules.Fix(clock.now, 52.38 + 0.002 * k, 4.95), ADMIN)
        await deng.create_job("city", job(52.37 + rng.uniform(-0.02, 0.02),
                                          4.9 + rng.uniform(-0.03, 0.03)), ADMIN)
        await redis.sadd(keys.prefix("city") + "dirty", WHOLE)
        await rc.run("city")
        assert await status(deng, jid) == ("en_route", "city.a")
        route = (await deng.tech("city.a"))["route"]
        assert route[0]["j"] == jid
    # Even a plan that tries to move it (a buggy or stale solver) cannot.
    token = await rc.acquire("city")
    await rc.publish("city", token, config(), {
        "reason": "evil", "moved": 1, "planned": 1, "routes": {"city.b": [[jid, 0, 0, 0]]},
        "unassigned": {}, "offers": {}, "pos": {}, "hist": {}})
    await rc.lock("city", "release", token)
    assert await status(deng, jid) == ("en_route", "city.a")
    assert jid not in [s.get("j") for s in (await deng.tech("city.b"))["route"]]
    moved = [d for t, d in await events(redis) if t in ("offered", "offer_withdrawn")
             and d["job"]["id"] == jid]
    assert [d["tech"] for d in moved] == ["city.a"]


async def test_stale_workers_plan_is_refused(deng: DispatchEngine, clock: Clock,
                                             redis: Redis) -> None:
    await add_techs(deng, clock.now, {"city.a": tech_spec(52.37, 4.89),
                                      "city.b": tech_spec(52.38, 4.93)})
    jid = (await deng.create_job("city", job(52.372, 4.892), ADMIN))["id"]
    slow, fast = recomputer(deng, lock_ttl_ms=1000), recomputer(deng)
    old = await slow.acquire("city")
    work = await slow.take("city")
    assert work is not None and jid in work.pending
    # The slow worker computes; its lock expires meanwhile and another worker takes over.
    clock.advance(2)
    await redis.delete(keys.prefix("city") + "lock")  # what PX expiry does in real time
    new = await fast.acquire("city")
    assert new > old
    fresh = await fast.once("city", new, "event", Work(frozenset(), frozenset({jid})))
    assert not fresh.stale and fresh.offers == 1
    before = await deng.job(jid)
    # The stale worker now publishes its (older) plan, giving the job to b: refused.
    with pytest.raises(StaleToken):
        await slow.publish("city", old, config(), {
            "reason": "stale", "moved": 0, "planned": 0,
            "routes": {"city.b": [[jid, 0, 0, 0]]}, "unassigned": {}, "offers": {},
            "pos": {}, "hist": {}})
    assert await deng.job(jid) == before
    report = await slow.once("city", old, "event", Work(frozenset({WHOLE}), frozenset()))
    assert report.stale
    await fast.lock("city", "release", new)


async def test_decline_and_timeout_move_to_the_next_candidate(deng: DispatchEngine,
                                                              clock: Clock) -> None:
    await add_techs(deng, clock.now, {
        "city.a": tech_spec(52.370, 4.891), "city.b": tech_spec(52.375, 4.895),
        "city.c": tech_spec(52.390, 4.940),
    })
    rc = recomputer(deng)
    jid = (await deng.create_job("city", job(52.370, 4.890), ADMIN))["id"]
    await rc.run("city")
    assert await status(deng, jid) == ("offered", "city.a")
    await deng.action("city.a", act("x", ActionKind.DECLINE, clock.now, jid, "busy"), ADMIN)
    await rc.run("city")
    assert await status(deng, jid) == ("offered", "city.b")
    # b says nothing: past the deadline the next pass expires it (lazily) and moves on.
    clock.advance(61)
    await rc.run("city")  # nothing queued: the offer timer would normally fire here
    await deng.expire_offer("city", jid, 2)
    await rc.run("city")
    assert await status(deng, jid) == ("offered", "city.c")
    # A late accept from b is refused; c's accept stands.
    with pytest.raises(OfferClosed):
        await deng.action("city.b", act("y", ActionKind.ACCEPT, clock.now, jid), ADMIN)
    await deng.action("city.c", act("z", ActionKind.ACCEPT, clock.now, jid), ADMIN)
    assert await status(deng, jid) == ("assigned", "city.c")
    trail = [(t, d.get("tech"), d.get("reason")) for t, d in await events(deng.redis)
             if isinstance(d.get("job"), dict) and d["job"]["id"] == jid and t != "job_created"]
    assert trail == [("offered", "city.a", "new_job"), ("offer_declined", "city.a", "busy"),
                     ("offered", "city.b", "next_candidate"),
                     ("offer_expired", "city.b", "timeout"),
                     ("offered", "city.c", "next_candidate"),
                     ("offer_accepted", "city.c", None)]
    rec = await deng.job_record(jid)
    assert rec["excluded"] == "city.a,city.b"


async def test_answer_after_deadline_expires_the_offer(deng: DispatchEngine,
                                                       clock: Clock) -> None:
    await add_techs(deng, clock.now, {"city.a": tech_spec(52.370, 4.891)})
    jid = (await deng.create_job("city", job(52.370, 4.890), ADMIN))["id"]
    await recomputer(deng).run("city")
    clock.advance(61)
    with pytest.raises(OfferClosed):
        await deng.action("city.a", act("late", ActionKind.ACCEPT, clock.now, jid), ADMIN)
    assert await status(deng, jid) == ("new", None)
    # An answer made offline before the deadline and delivered late still counts.
    await recomputer(deng).run("city")  # nobody left: unassignable
    assert (await deng.job(jid))["status"] == "unassignable"


async def test_offline_replay_applies_each_action_once(deng: DispatchEngine, clock: Clock,
                                                       redis: Redis) -> None:
    await add_techs(deng, clock.now, {"city.a": tech_spec(52.370, 4.891)})
    jid = (await deng.create_job("city", job(52.370, 4.890), ADMIN))["id"]
    await recomputer(deng).run("city")
    t0 = clock.now
    # Offline, the device did four things; it sends them, loses the connection before the
    # acks, and sends them all again on reconnect (and once more, out of habit).
    buffered = [act("w1-1", ActionKind.ACCEPT, t0 + 1000, jid),
                act("w1-2", ActionKind.DEPART, t0 + 2000, jid),
                act("w1-3", ActionKind.ARRIVE, t0 + 600_000, jid),
                act("w1-4", ActionKind.COMPLETE, t0 + 2_400_000, jid)]
    clock.advance(3000)
    results = []
    for _ in range(3):
        for a in buffered:
            results.append(await deng.action("city.a", a, ADMIN))
    assert [r["replay"] for r in results] == [False] * 4 + [True] * 8
    assert (await deng.job(jid))["status"] == "done"
    counts = Counter(t for t, _ in await events(redis))
    assert counts["offer_accepted"] == counts["job_departed"] == 1
    assert counts["job_arrived"] == counts["job_done"] == 1
    done = await deng.job(jid)
    assert done["accepted_ms"] == t0 + 1000 and done["arrived_ms"] == t0 + 600_000
    # The same id for another action is refused, not silently ignored.
    with pytest.raises(ActionMismatch):
        await deng.action("city.a", act("w1-2", ActionKind.FAIL, t0, jid), ADMIN)
    # A new action that does not fit the state is refused by the transition table.
    with pytest.raises(InvalidTransition):
        await deng.action("city.a", act("w1-5", ActionKind.DEPART, t0, jid), ADMIN)


async def test_gps_rules_and_lua_agree(deng: DispatchEngine, clock: Clock) -> None:
    await add_techs(deng, clock.now, {"city.a": tech_spec(52.37, 4.89)})
    with pytest.raises(FixFromFuture):
        await deng.gps("city.a", gpsrules.Fix(clock.now + 60_000, 52.37, 4.89), ADMIN)
    await deng.gps("city.a", gpsrules.Fix(clock.now, 52.37, 4.89), ADMIN)
    with pytest.raises(FixOutOfOrder):
        await deng.gps("city.a", gpsrules.Fix(clock.now - 1, 52.37, 4.89), ADMIN)
    with pytest.raises(FixTooFast):  # 1.1 km in 10 s = 400 km/h
        await deng.gps("city.a", gpsrules.Fix(clock.now + 10_000, 52.38, 4.89), ADMIN)
    # Random sequences (jitter, jumps, repeats, late and early fixes): Lua decides exactly
    # as the pure reference.
    rng = random.Random(7)
    last: gpsrules.Fix | None = gpsrules.Fix(clock.now, 52.37, 4.89)
    pol = config().policy
    t = clock.now
    for _ in range(300):
        t += rng.choice([-5000, 0, 200, 1000, 1000, 3000, 30_000])
        clock.now = max(clock.now, t - rng.choice([0, 0, 20_000]))
        step = rng.choice([0.00001, 0.0003, 0.002, 0.02])
        base = last or gpsrules.Fix(t, 52.37, 4.89)
        fix = gpsrules.Fix(t, base.lat + rng.uniform(-step, step),
                           base.lon + rng.uniform(-step, step),
                           accuracy=rng.choice([None, 5.0, 40.0, 250.0]))
        want = gpsrules.check(fix, last, clock.now, pol.max_future_s, pol.max_speed_kmh)
        try:
            await deng.gps("city.a", fix, ADMIN)
            got = None
        except FixRejected as exc:
            got = exc.code
        assert got == want, (fix, last)
        if got is None:
            last = fix


async def test_geofence_arrival_with_noisy_gps(deng: DispatchEngine, clock: Clock,
                                               redis: Redis) -> None:
    await add_techs(deng, clock.now, {"city.a": tech_spec(52.36, 4.87)})
    jid = (await deng.create_job("city", job(52.370, 4.890), ADMIN))["id"]
    await recomputer(deng).run("city")
    await deng.action("city.a", act("a", ActionKind.ACCEPT, clock.now, jid), ADMIN)
    await deng.action("city.a", act("d", ActionKind.DEPART, clock.now, jid), ADMIN)
    rng = random.Random(3)
    target = (52.370, 4.890)
    m = 1 / 111_000  # degrees per metre (latitude)
    rejected = 0

    async def fix(true_m: float, noise_m: float = 25.0) -> Any:
        """A fix 1 s after the last, ``true_m`` west of the job plus GPS noise."""
        nonlocal rejected
        import math
        clock.advance(1)
        dx = -true_m + rng.gauss(0, noise_m)
        dy = rng.gauss(0, noise_m)
        lat = target[0] + dy * m
        lon = target[1] + dx * m / math.cos(math.radians(target[0]))
        try:
            return await deng.gps("city.a", gpsrules.Fix(clock.now, lat, lon, accuracy=40.0),
                                  ADMIN)
        except FixRejected:
            rejected += 1
            return None

    def arrived(res: Any) -> bool:
        return res is not None and res.arrived is not None

    # Approach at ~10 m/s from 600 m, then hover around the enter radius (80 m): noise takes
    # the fixes in and out of it; no arrival before 30 s within the exit radius (160 m).
    for d in range(600, 100, -10):
        assert not arrived(await fix(d))
    arrivals = []
    for k in range(120):
        d = 90.0 if k < 60 else 10.0
        if arrived(await fix(d, noise_m=35.0 if k < 60 else 20.0)):
            arrivals.append(k)
    assert len(arrivals) == 1 and arrivals[0] >= 30
    assert (await deng.job(jid))["status"] == "on_site"
    # On site, drift of a few tens of metres with outliers never makes a leave.
    for k in range(180):
        await fix(120.0 if k % 45 == 0 else 10.0, noise_m=30.0)
    kinds = Counter(t for t, _ in await events(redis))
    assert kinds["job_arrived"] == 1 and kinds["left_site"] == 0
    (data,) = [d for t, d in await events(redis) if t == "job_arrived"]
    assert data["via"] == "geofence"
    assert rejected < 20  # a few noisy jumps are refused as too fast, no more
    # Leaving for real (beyond 160 m for longer than the dwell) is recorded once.
    for d in range(10, 500, 8):
        await fix(d, noise_m=10.0)
    for _ in range(40):
        await fix(500, noise_m=10.0)
    assert Counter(t for t, _ in await events(redis))["left_site"] == 1


async def test_cancel_frees_the_technician(deng: DispatchEngine, clock: Clock) -> None:
    await add_techs(deng, clock.now, {"city.a": tech_spec(52.370, 4.891)})
    jid = (await deng.create_job("city", job(52.370, 4.890), ADMIN))["id"]
    await recomputer(deng).run("city")
    await deng.action("city.a", act("a", ActionKind.ACCEPT, clock.now, jid), ADMIN)
    await deng.action("city.a", act("d", ActionKind.DEPART, clock.now, jid), ADMIN)
    cancelled = await deng.cancel_job(jid, "customer not home", ADMIN)
    assert cancelled["status"] == "cancelled"
    t = await deng.tech("city.a")
    assert t["status"] == "available" and t["active_job"] is None and t["route"] == []
    with pytest.raises(InvalidTransition):
        await deng.cancel_job(jid, "again", ADMIN)


async def test_batch_counts_and_kpis(deng: DispatchEngine, clock: Clock) -> None:
    from dispatch.model import BatchRequest, OrgSpec
    await add_techs(deng, clock.now, {"city.a": tech_spec(52.370, 4.891),
                                      "city.b": tech_spec(52.380, 4.92)})
    await deng.put_org("city.acme", OrgSpec("ACME Offices"), ADMIN)
    start = clock.now + 3600_000
    b = await deng.create_batch("city.acme", BatchRequest(
        [job(52.37 + 0.001 * i, 4.89 + 0.002 * i, window=(start, start + 4 * 3600_000))
         for i in range(6)], "Tower A"), ADMIN)
    await recomputer(deng).run("city")
    org = await deng.org("city.acme")
    assert org["counts"] == {"offered": 6}
    assert org["batches"][0]["counts"] == {"offered": 6} and org["batches"][0]["size"] == 6
    first = b["jobs"][0]
    tech = (await deng.job(first))["technician"]
    clock.advance(30)
    await deng.action(tech, act("k1", ActionKind.ACCEPT, clock.now, first), ADMIN)
    k = (await deng.kpis("city")).summary(clock.now)
    assert k["jobs_created"] == 6 and k["accepted"] == 1
    assert k["dispatch_response_mean_s"] == pytest.approx(30.0, abs=0.01)
    assert (await deng.kpis("city")).summary(clock.now, org="city.acme")["accepted"] == 1
    assert (await deng.org("city.acme"))["counts"] == {"offered": 5, "assigned": 1}
