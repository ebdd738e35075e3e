"""Review fixes of the appointments review (reminders under a suspension, the day close
and early check-ins, the notification number, lifting a suspension)."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from queueing.booking.engine import BookingEngine
from queueing.booking.fresh import stale
from queueing.booking.notify import Notification
from queueing.booking.tasks import Services, fire_due
from queueing.engine import Actor, Engine
from tests.integration.conftest import Clock
from tests.integration.test_booking_flow import FlakyNotifier
from tests.integration.test_booking_support import (
    KIOSK,
    booking_engine,
    req,
    sid,
    stream_types,
)

AGENT = Actor("agent:demo:1", "counter")


@pytest.fixture
async def bk(demo: Engine) -> BookingEngine:
    return await booking_engine(demo)


async def start_of(bk: BookingEngine, slot: str) -> int:
    return (await bk.schedule("demo")).slot(slot).start_ms


async def test_no_reminder_while_an_unanswered_suspension_covers_the_booking(
        bk: BookingEngine, redis: Redis, clock: Clock) -> None:
    s9 = sid("r1", 1, "09:00")
    start = await start_of(bk, s9)
    a = (await bk.book("demo", req(s9, "a", notify="+8613800000001"), KIOSK)).booking
    b = (await bk.book("demo", req(s9, "b", notify="+8613800000002"), KIOSK)).booking
    clock.now = start - 3 * 3600_000
    await bk.suspend("demo", "r1", start, start + 3600_000, "doctor called away", AGENT)
    # b answers by moving to another doctor at the same time: its reminder comes.
    moved = await bk.reschedule(b["id"], sid("r2", 1, "09:00"), KIOSK)
    assert moved["suspension"]["answered"] is True
    notifier = FlakyNotifier(failing="")
    svc = Services(redis, bk, notifier)
    clock.now = start - 7200_000  # the 2-hour reminders are due (the 1-day ones were missed)
    await fire_due(svc, "demo")
    assert sorted({n.to for n in notifier.sent}) == ["+8613800000002"]
    assert [e for e in await stream_types(redis) if e == "booking_reminder"] == [
        "booking_reminder"] * len(notifier.sent)
    # A reminder tried again after the suspension came is dropped as no longer true.
    raw = await bk.raw(a["id"])
    n = Notification(id="x", kind="reminder", site="demo", to="+8613800000001",
                     booking=a["id"], text={}, at="", data={"slot": raw["slot"]})
    rec: dict[str, Any] = {k: str(v) for k, v in raw.items()}
    assert stale(n, rec, clock.now) == "suspended"


async def test_an_early_check_in_for_after_the_day_close_survives_the_close(
        demo: Engine, clock: Clock) -> None:
    """day_close 09:30: a patient booked for 10:00 checks in at 09:05 (an hour early is
    allowed); the close at 09:30 leaves their ticket in line (the appointment belongs to
    the new day), and closes the 09:00 patient's as before."""
    from queueing.dayclose import close_due
    from queueing.demo import demo_site
    from tests.integration.conftest import ADMIN
    cfg = demo_site()
    cfg.policy.day_close = "09:30"
    await demo.put_site("demo", cfg, ADMIN)
    bk = await booking_engine(demo)
    ten = (await bk.book("demo", req(sid("r1", 1, "10:00"), "ann"), KIOSK)).booking
    nine = (await bk.book("demo", req(sid("r2", 1, "09:00"), "bo"), KIOSK)).booking
    start = await start_of(bk, ten["slot"])
    clock.now = start - 55 * 60_000  # 09:05
    early = await bk.check_in("demo", ten["code"], "kiosk", KIOSK)
    old = await bk.check_in("demo", nine["code"], "kiosk", KIOSK)
    clock.now = start - 30 * 60_000  # 09:30: the day closes
    r = await close_due(demo, "demo", clock.now, Actor("day_close", "worker"))
    assert r is not None
    assert [c["id"] for c in r["closed"]] == [old.ticket["id"]]
    assert [c["id"] for c in r["carried"]] == [early.ticket["id"]]
    assert (await demo.ticket(early.ticket["id"]))["status"] == "waiting"
    assert (await demo.ticket(old.ticket["id"]))["status"] == "cancelled"
    # At 09:50 it takes its appointment's place as any early check-in does.
    again = await bk.check_in("demo", ten["code"], "kiosk", KIOSK)
    assert again.replay and again.ticket["status"] == "waiting"
