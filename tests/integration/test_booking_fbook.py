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


async def watching(demo: Engine, redis: Redis, clock: Clock, gateway: FlakyNotifier
                   ) -> Any:
    """The worker's notifications, live on the demo site's stream (stop them after)."""
    import asyncio

    from queueing.booking.alerts import Thresholds
    from queueing.booking.consumer import Notifications
    notes = Notifications(redis, redis, demo, gateway, Thresholds(3, 300), clock=clock,
                          refresh_s=0.05)
    notes.start()
    for _ in range(500):
        if await redis.exists("sb:{site:demo}:nt:cursor"):
            break
        await asyncio.sleep(0.02)
    return notes


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


async def test_a_suspension_lifted_frees_the_slots_and_the_appointments_stand(
        bk: BookingEngine, redis: Redis, clock: Clock) -> None:
    from queueing.errors import UnknownSuspension
    s9 = sid("r1", 1, "09:00")
    start = await start_of(bk, s9)
    a = (await bk.book("demo", req(s9, "a", notify="+8613800000001"), KIOSK)).booking
    b = (await bk.book("demo", req(s9, "b", notify="+8613800000002"), KIOSK)).booking
    clock.now = start - 3 * 3600_000
    sus = await bk.suspend("demo", "r1", start, start + 3600_000, "doctor called away", AGENT)
    await bk.reschedule(b["id"], sid("r2", 1, "09:00"), KIOSK)  # b answered: moved
    assert [x["remaining"] for x in await bk.availability(
        "demo", "internal", start_date(start), resource="r1")][:1] == [0]
    n = len(await stream_types(redis))
    lifted = await bk.lift("demo", sus["id"], Actor("admin", "test"))
    assert [x["id"] for x in lifted["restored"]] == [a["id"]] and lifted["lifted_at"]
    assert (await stream_types(redis))[n:] == ["booking_unsuspended", "resource_unsuspended"]
    got = await bk.get(a["id"])
    assert got["status"] == "confirmed" and "suspension" not in got
    assert (await bk.get(b["id"]))["resource"] == "r2"  # b keeps its answer
    # The slot takes bookings again; a's 2-hour reminder comes after all.
    assert [x["remaining"] for x in await bk.availability(
        "demo", "internal", start_date(start), resource="r1")][:1] == [3]  # 4 - a
    await bk.book("demo", req(s9, "c"), KIOSK)
    notifier = FlakyNotifier(failing="")
    clock.now = start - 7200_000
    await fire_due(Services(redis, bk, notifier), "demo")
    assert {n.to for n in notifier.sent} == {"+8613800000001", "+8613800000002"}
    view = await bk.suspension("demo", sus["id"])
    assert view["lifted_at"] and view["unanswered"] == []
    assert {x["booking"]: x["answer"] for x in view["affected"]} == {
        a["id"]: "lifted", b["id"]: "rescheduled"}
    again = await bk.lift("demo", sus["id"], Actor("admin", "test"))
    assert again["already"] and again["restored"] == []
    with pytest.raises(UnknownSuspension):
        await bk.lift("demo", "r1-nope", Actor("admin", "test"))


def start_date(ms: int) -> Any:
    from datetime import datetime

    from tests.integration.test_booking_support import TZ
    return datetime.fromtimestamp(ms / 1000, TZ).date()


async def test_those_a_lifted_suspension_reached_are_told_it_stands(
        bk: BookingEngine, demo: Engine, redis: Redis, clock: Clock) -> None:
    import asyncio

    s9 = sid("r1", 1, "09:00")
    start = await start_of(bk, s9)
    a = (await bk.book("demo", req(s9, "a", notify="+8613800000001"), KIOSK)).booking
    b = (await bk.book("demo", req(s9, "b", notify="+8613800000002"), KIOSK)).booking
    gateway = FlakyNotifier(failing="")
    notes = await watching(demo, redis, clock, gateway)
    try:
        sus = await bk.suspend("demo", "r1", start, start + 3600_000, "called away", AGENT)
        await bk.cancel(b["id"], KIOSK)  # b answered: cancelled
        await bk.lift("demo", sus["id"], Actor("admin", "test"))
        for _ in range(500):
            if any(n.kind == "unsuspended" for n in gateway.sent):
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        told = [n for n in gateway.sent if n.kind == "unsuspended"]
        assert [(n.to, n.booking) for n in told] == [("+8613800000001", a["id"])]
        assert "stands after all" in told[0].text["en"]
    finally:
        await notes.stop()


def test_texts_say_times_readably_in_each_language() -> None:
    from datetime import datetime

    from queueing.booking.consumer import local_text
    from queueing.booking.texts import render
    from tests.integration.test_booking_support import TZ
    ms = int(datetime(2026, 12, 8, 2, 30, tzinfo=TZ).timestamp() * 1000)
    text = render("reminder", ["zh", "en"], time=local_text(ms, TZ), code="ABC234",
                  service="Lab")
    assert text["en"] == "Reminder: Lab, Tue 8 Dec 02:30. Code ABC234."
    assert "12月8日（周二）02:30" in text["zh"]


async def test_a_move_to_another_doctor_at_the_same_time_names_the_doctor(
        bk: BookingEngine, demo: Engine, redis: Redis, clock: Clock) -> None:
    import asyncio

    a = (await bk.book("demo", req(sid("r1", 1, "10:00"), "a", notify="+8613800000001"),
                       KIOSK)).booking
    gateway = FlakyNotifier(failing="")
    notes = await watching(demo, redis, clock, gateway)
    try:
        await bk.reschedule(a["id"], sid("r2", 1, "10:00"), Actor("agent:demo:1", "staff"))
        for _ in range(500):
            if gateway.sent:
                break
            await asyncio.sleep(0.02)
        n = gateway.sent[0]
        assert n.kind == "rebooked"
        assert n.text["en"].startswith(
            "Your appointment (Internal medicine) has moved to Thu 19 Nov 10:00 with Dr Two "
            "(it was Thu 19 Nov 10:00 with Dr One).")
        assert "Dr Two" in n.text["zh"] and "11月19日（周四）10:00" in n.text["zh"]
    finally:
        await notes.stop()


async def test_the_suspension_text_names_two_alternatives_and_quotes_the_reason(
        bk: BookingEngine, demo: Engine, redis: Redis, clock: Clock) -> None:
    import asyncio

    s9 = sid("r1", 1, "10:00")
    start = await start_of(bk, s9)
    await bk.book("demo", req(s9, "a", notify="+8613800000001"), KIOSK)
    gateway = FlakyNotifier(failing="")
    notes = await watching(demo, redis, clock, gateway)
    try:
        await bk.suspend("demo", "r1", start, start + 1800_000, "医生临时出诊", AGENT)
        for _ in range(500):
            if gateway.sent:
                break
            await asyncio.sleep(0.02)
        n = gateway.sent[0]
        assert n.kind == "suspended" and len(n.data["alternatives"]) == 3
        # Numbered, as the SMS desk takes "1" for the first; no desk here: no "Reply 1".
        assert n.text["en"].startswith(
            'Your appointment at Thu 19 Nov 10:00 cannot take place ("医生临时出诊"). '
            "Choose another time. Free now: 1) Thu 19 Nov 10:00 with Dr Two; 2) ")
        assert n.text["en"].count(" with ") == 2 and "Reply" not in n.text["en"]
        assert "（原因：“医生临时出诊”）" in n.text["zh"]
        assert "可选：1) 11月19日（周四）10:00，Dr Two；2) " in n.text["zh"]
    finally:
        await notes.stop()


async def test_the_suspension_text_asks_for_a_number_where_the_sms_desk_answers(
        bk: BookingEngine, demo: Engine, redis: Redis, clock: Clock) -> None:
    import asyncio

    from queueing import sms_desk
    s9 = sid("r1", 1, "10:00")
    start = await start_of(bk, s9)
    await bk.book("demo", req(s9, "a", notify="+8613800000001"), KIOSK)
    await bk.book("demo", req(s9, "b", notify="https://push.example/endpoint/1"), KIOSK)
    await sms_desk.mark(redis, "demo")  # the site's SMS desk received a text
    gateway = FlakyNotifier(failing="")
    notes = await watching(demo, redis, clock, gateway)
    try:
        await bk.suspend("demo", "r1", start, start + 1800_000, "called away", AGENT)
        for _ in range(500):
            if len(gateway.sent) >= 2:
                break
            await asyncio.sleep(0.02)
        by_to = {n.to: n for n in gateway.sent}
        phone = by_to["+8613800000001"].text
        assert phone["en"].startswith(
            'Your appointment at Thu 19 Nov 10:00 cannot take place ("called away"). '
            "Free now: 1) Thu 19 Nov 10:00 with Dr Two; 2) ")
        assert phone["en"].split(". ")[-1].startswith("Reply 1 or 2 to take a time, or CANCEL.")
        assert "Choose another time" not in phone["en"]
        assert "回复 1 或 2 选择该时间，或回复“取消”。" in phone["zh"]
        # A push address cannot text back: no "Reply 1".
        push = by_to["https://push.example/endpoint/1"].text
        assert "Choose another time. Free now: 1) " in push["en"] and "Reply" not in push["en"]
    finally:
        await notes.stop()


async def test_a_caller_put_on_the_waiting_list_is_told_so_by_text(
        bk: BookingEngine, demo: Engine, redis: Redis, clock: Clock) -> None:
    import asyncio

    from queueing.model import Channel
    lab = sid("lab1", 3, "10:00", "lab")
    for who in ("x", "y"):
        await bk.book("demo", req(lab, who), KIOSK)
    gateway = FlakyNotifier(failing="")
    notes = await watching(demo, redis, clock, gateway)
    try:
        app = await bk.book("demo", req(lab, "app", waitlist=True, notify="+8613800000002"),
                            KIOSK)
        w = await bk.book("demo", req(lab, "caller", Channel.PHONE, waitlist=True,
                                      notify="+8613800000001"), AGENT)
        assert w.booking["status"] == app.booking["status"] == "waitlisted"
        for _ in range(500):
            if gateway.sent:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        assert [(n.kind, n.to) for n in gateway.sent] == [("waitlisted", "+8613800000001")]
        assert "waiting list" in gateway.sent[0].text["en"]
        assert "not booked yet" in gateway.sent[0].text["en"]
        assert "尚未预约成功" in gateway.sent[0].text["zh"]
    finally:
        await notes.stop()
