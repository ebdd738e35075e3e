"""A suspension's alternatives are free when they are shown: a time taken since the
suspension came (by another person it reached, or a newcomer) is no longer listed, and
accepting it anyway is refused with a stable code, nothing changed. Real Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from redis.asyncio import Redis

from queueing.booking.engine import BookingEngine
from queueing.engine import Actor, Engine
from queueing.errors import SlotFull
from tests.integration.conftest import Clock
from tests.integration.test_booking_support import (
    KIOSK,
    TODAY,
    booking_engine,
    req,
    sid,
    snapshot,
)

AGENT = Actor("agent:demo:1", "counter")


async def _free(bk: BookingEngine, slot: str) -> int:
    day = await bk.availability("demo", "internal", TODAY + timedelta(days=1),
                                channel="app")
    return next(x["remaining"] for x in day if x["slot"] == slot)


async def test_alternatives_shown_are_free_now_and_a_taken_one_is_refused(
        demo: Engine, redis: Redis, clock: Clock) -> None:
    bk = await booking_engine(demo, alternatives=3)
    s930 = sid("r1", 1, "09:30")
    ann = (await bk.book("demo", req(s930, "ann"), KIOSK)).booking
    ben = (await bk.book("demo", req(s930, "ben"), KIOSK)).booking
    start = (await bk.schedule("demo")).slot(s930).start_ms
    await bk.suspend("demo", "r1", start, start + 1800_000, "ill", AGENT)
    first = (await bk.get(ann["id"]))["suspension"]["alternatives"]
    best = first[0]["slot"]
    assert best == sid("r2", 1, "09:30") and first[0]["remaining"] == 4  # quota released
    # Ben takes one place of it, newcomers the rest.
    await bk.reschedule(ben["id"], best, KIOSK)
    for i in range(3):
        await bk.book("demo", req(best, f"new{i}"), KIOSK)
    assert await _free(bk, best) == 0
    shown = (await bk.get(ann["id"]))["suspension"]["alternatives"]
    assert best not in [x["slot"] for x in shown]
    assert len(shown) == 3 and all(x["remaining"] >= 1 for x in shown)
    for x in shown:  # each as the availability says for the booking's channel now
        assert await _free(bk, x["slot"]) == x["remaining"]
    # Accepting the taken time anyway (a page still showing it): 409, nothing changed.
    before = await snapshot(redis)
    with pytest.raises(SlotFull) as err:
        await bk.reschedule(ann["id"], best, KIOSK)
    assert err.value.code == "slot_full"
    assert await snapshot(redis) == before
    got = await bk.get(ann["id"])
    assert got["slot"] == s930 and got["status"] == "confirmed"
    assert got["suspension"]["answered"] is False
    # One still free is taken in one step.
    moved = await bk.reschedule(ann["id"], shown[0]["slot"], KIOSK)
    assert moved["slot"] == shown[0]["slot"] and moved["suspension"]["answered"] is True
