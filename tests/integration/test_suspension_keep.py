"""Suspension records are kept as long as the site's list shows them (31 days past their
end) and then expire; records made before the list's index are indexed (and given that
lifetime) when a server loads the site's schedule; the staff day list shows a suspended
booking's alternatives as its person's page does: free now. Real Redis, settable clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from redis.asyncio import Redis

from queueing import keys
from queueing.booking.engine import BookingEngine
from queueing.engine import Actor, Engine
from tests.integration.conftest import Clock
from tests.integration.test_booking_support import KIOSK, TODAY, booking_engine, req, sid

AGENT = Actor("agent:demo:1", "counter")
P = keys.prefix("demo") + "bk:"
KEEP_MS = 31 * 86400_000
PARTS = ("", ":all", ":pending", ":answers")


async def _suspend_930(bk: BookingEngine,
                       *people: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    s930 = sid("r1", 1, "09:30")
    booked = [(await bk.book("demo", req(s930, who), KIOSK)).booking for who in people]
    start = (await bk.schedule("demo")).slot(s930).start_ms
    susp = await bk.suspend("demo", "r1", start, start + 1800_000, "ill", AGENT)
    return susp, booked


async def _ttls(redis: Redis, sp: str) -> list[int]:
    return [await redis.pttl(f"{P}sp:{sp}{x}") for x in PARTS]


async def test_a_suspension_s_keys_expire_when_the_list_drops_it(
        demo: Engine, redis: Redis, clock: Clock) -> None:
    bk = await booking_engine(demo)
    susp, (ann, _ben) = await _suspend_930(bk, "ann", "ben")
    await bk.cancel(ann["id"], KIOSK)  # an answer: the :answers hash is made now
    until_ms = int(await redis.hget(f"{P}sp:{susp['id']}", "until_ms") or 0)  # type: ignore[misc]
    want = until_ms + KEEP_MS - clock.now
    for ttl in await _ttls(redis, susp["id"]):
        assert want - 5000 <= ttl <= want  # on the engine's clock, as booking keys
    assert await redis.zscore(f"{P}spu", susp["id"]) == until_ms
    assert not await redis.exists(f"{P}sps")  # the index by creation is no longer written
    # Lifted, the answer it records ('lifted' for ben) keeps the same lifetime.
    await redis.delete(f"{P}sp:{susp['id']}:answers")
    await bk.lift("demo", susp["id"], AGENT)
    assert await redis.hget(f"{P}sp:{susp['id']}:answers", _ben["id"]) == b"lifted"  # type: ignore[misc]
    ttl = await redis.pttl(f"{P}sp:{susp['id']}:answers")
    assert want - 5000 <= ttl <= want


async def _as_before_the_index(redis: Redis, sp: str, created_ms: int) -> None:
    """What a suspension made before 2026-12-07 left: indexed by creation only, for ever."""
    for x in PARTS:
        await redis.persist(f"{P}sp:{sp}{x}")
    await redis.zrem(f"{P}spu", sp)
    await redis.zadd(f"{P}sps", {sp: created_ms})


async def test_suspensions_made_before_the_index_are_indexed_once(
        demo: Engine, redis: Redis, clock: Clock) -> None:
    bk = await booking_engine(demo)
    lifted, _ = await _suspend_930(bk, "ann")
    await bk.lift("demo", lifted["id"], AGENT)
    standing, _ = await _suspend_930(bk, "cat")
    await _as_before_the_index(redis, lifted["id"], clock.now)
    await _as_before_the_index(redis, standing["id"], clock.now)
    # One over for longer than the list keeps any: its keys go.
    gone = "r2-00000000"
    await redis.hset(f"{P}sp:{gone}", mapping={  # type: ignore[misc]
        "id": gone, "resource": "r2", "from_ms": clock.now - 90 * 86400_000,
        "until_ms": clock.now - 89 * 86400_000, "reason": "old", "created_ms": 0})
    await redis.sadd(f"{P}sp:{gone}:all", "demo.aaaaaaaaaaaa")  # type: ignore[misc]
    await redis.zadd(f"{P}sps", {gone: clock.now - 91 * 86400_000})

    # A server (another process) loading the site's schedule moves them.
    again = BookingEngine(demo)
    got = await again.suspensions("demo", lifted=True)
    listed = {x["id"]: x for x in got["suspensions"]}
    assert sorted(listed) == sorted([lifted["id"], standing["id"]])
    assert listed[lifted["id"]]["standing"] is False  # lifted: not listed before the fix
    assert listed[standing["id"]]["standing"] is True
    for sp in (lifted["id"], standing["id"]):
        assert await redis.zscore(f"{P}spu", sp) is not None
        assert all(ttl > 0 for ttl in await _ttls(redis, sp) if ttl != -2)
    assert not await redis.exists(f"{P}sp:{gone}", f"{P}sp:{gone}:all", f"{P}sps")
    # Once moved, the next process finds nothing to do.
    assert (await again.store.run("spmigrate", "demo", clock.now, "", "", 200))["left"] == 0


async def test_the_day_list_shows_alternatives_free_now(demo: Engine, redis: Redis) -> None:
    bk = await booking_engine(demo, alternatives=3)
    susp, (ann, ben) = await _suspend_930(bk, "ann", "ben")
    best = (await bk.get(ann["id"]))["suspension"]["alternatives"][0]["slot"]
    # Ben takes one place of the best time, newcomers the rest: it is full now.
    await bk.reschedule(ben["id"], best, KIOSK)
    for i in range(3):
        await bk.book("demo", req(best, f"new{i}"), KIOSK)
    day = await bk.day_list("demo", TODAY + timedelta(days=1), notify=True)
    row = next(x for x in day["bookings"] if x["id"] == ann["id"])
    mine = (await bk.get(ann["id"]))["suspension"]
    assert best not in [x["slot"] for x in row["suspension"]["alternatives"]]
    assert row["suspension"] == mine  # the reason, the period and the same times
    assert mine["reason"] == "ill" and mine["from"] == susp["from"]
    # Ben answered: his row says so, and lists what was stored (nothing to choose now).
    moved = next(x for x in day["bookings"] if x["id"] == ben["id"])
    assert moved["suspension"]["answered"] is True and moved["suspension"]["reason"] == "ill"
