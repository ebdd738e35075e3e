"""Quiet hours (the booking policy's ``quiet_hours``): reminders, waiting-list offers and
texts that can wait are not sent at night; an offer's time to answer starts when it can be
texted. Real Redis, a settable clock (the demo clinic, Asia/Shanghai)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis

from queueing import keys
from queueing.booking import quiet
from queueing.booking.alerts import Thresholds
from queueing.booking.consumer import Notifications, SiteWatcher
from queueing.booking.engine import BookingEngine
from queueing.booking.model import BookingConfig, BookingPolicy
from queueing.booking.notify import Notification
from queueing.booking.tasks import Services, fire_due
from queueing.engine import Actor, Engine
from queueing.errors import BadRequest
from tests.integration.conftest import Clock
from tests.integration.test_booking_support import (
    KIOSK,
    TZ,
    booking_engine,
    req,
    schedule,
    sid,
    stream_types,
)

ADMIN = Actor("admin", "test")
AGENT = Actor("agent:demo:1", "counter")
NIGHT = ["21:00", "08:00"]


def at(day: int, hhmm: str) -> int:
    """ms of 2026-11-(18 + day) hh:mm, Shanghai."""
    h, m = map(int, hhmm.split(":"))
    return int(datetime(2026, 11, 18 + day, h, m, tzinfo=TZ).timestamp() * 1000)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def send(self, n: Notification) -> None:
        self.sent.append(n)

    async def aclose(self) -> None:
        return None


async def booked(bk: BookingEngine, resource: str, hhmm: str, who: str,
                 day: int = 1) -> dict[str, Any]:
    """A booking with a number to text, ``day`` days after the clock's first day."""
    number = f"+861380000{sum(map(ord, who)) % 10000:04d}"
    return (await bk.book("demo", req(sid(resource, day, hhmm), who, notify=number),
                          KIOSK)).booking


async def full_lab(bk: BookingEngine, hhmm: str, *waiting: str) -> tuple[str, list[Any]]:
    """The lab's slot at ``hhmm`` tomorrow full (2 places), ``waiting`` on its waitlist;
    returns the id of one booked there and the waitlisted bookings."""
    slot = sid("lab1", 1, hhmm, "lab")
    a = (await bk.book("demo", req(slot, "a"), KIOSK)).booking
    await bk.book("demo", req(slot, "b"), KIOSK)
    w = [(await bk.book("demo", req(slot, x, waitlist=True, notify="+8613800000009"),
                        KIOSK)).booking for x in waiting]
    assert all(x["status"] == "waitlisted" for x in w)
    return a["id"], w


def test_quiet_end_wraps_midnight_and_none_outside() -> None:
    assert quiet.quiet_end(at(0, "23:00"), TZ, NIGHT) == at(1, "08:00")
    assert quiet.quiet_end(at(1, "02:30"), TZ, NIGHT) == at(1, "08:00")
    assert quiet.quiet_end(at(1, "08:00"), TZ, NIGHT) is None
    assert quiet.quiet_end(at(0, "20:59"), TZ, NIGHT) is None
    assert quiet.quiet_end(at(0, "21:00"), TZ, NIGHT) == at(1, "08:00")
    assert quiet.quiet_end(at(0, "13:00"), TZ, ["12:00", "14:00"]) == at(0, "14:00")
    assert quiet.quiet_end(at(0, "23:00"), TZ, None) is None


async def test_quiet_hours_are_checked_and_off_unless_set(demo: Engine) -> None:
    bk = BookingEngine(demo)
    with pytest.raises(BadRequest):
        await bk.put_config("demo", schedule(quiet_hours=["08:00", "08:00"]), ADMIN)
    assert BookingPolicy().quiet_hours is None
    await bk.put_config("demo", schedule(quiet_hours=NIGHT), ADMIN)
    assert (await bk.schedule("demo")).policy.quiet_hours == NIGHT


async def test_a_reminder_due_at_night_waits_for_the_morning(demo: Engine, redis: Redis,
                                                             clock: Clock) -> None:
    # Reminders 10 h and 2 h before a 09:00 appointment: 23:00 and 07:00, both quiet. One
    # text goes, at 08:00: the nearer one (the 23:00 one would say the same at the same time).
    bk = await booking_engine(demo, quiet_hours=NIGHT, reminders_s=[36000, 7200])
    a = await booked(bk, "r1", "09:00", "ann")
    notifier = Recorder()
    svc = Services(redis, bk, notifier)
    clock.now = at(0, "23:00")
    await fire_due(svc, "demo")
    clock.now = at(1, "07:00")
    await fire_due(svc, "demo")
    assert notifier.sent == [] and "booking_reminder" not in await stream_types(redis)
    assert await bk.due("demo") == []
    clock.now = at(1, "07:59")
    assert await bk.due("demo") == []
    clock.now = at(1, "08:00")
    assert await fire_due(svc, "demo") == 1
    assert [(n.kind, n.booking, n.data["before_s"]) for n in notifier.sent] == [
        ("reminder", a["id"], 7200)]
    assert (await stream_types(redis)).count("booking_reminder") == 1
    assert await fire_due(svc, "demo") == 0
    assert (await bk.get(a["id"]))["status"] == "confirmed"


async def test_a_reminder_that_would_come_after_the_start_is_not_sent(
        demo: Engine, redis: Redis, clock: Clock) -> None:
    # Quiet until 09:30: a 09:00 appointment's 07:00 reminder would come too late.
    bk = await booking_engine(demo, quiet_hours=["21:00", "09:30"], reminders_s=[7200])
    await booked(bk, "r1", "09:00", "ann")
    late = await booked(bk, "r1", "11:30", "ben")
    notifier = Recorder()
    clock.now = at(1, "07:00")
    svc = Services(redis, bk, notifier)
    await fire_due(svc, "demo")
    assert notifier.sent == [] and await bk.due("demo") == []
    clock.now = at(1, "09:30")  # the 11:30 one's reminder (09:30) goes at its time
    await fire_due(svc, "demo")
    assert [n.booking for n in notifier.sent] == [late["id"]]
    assert (await stream_types(redis)).count("booking_reminder") == 1


async def test_a_place_freed_at_night_is_offered_from_the_morning(demo: Engine, redis: Redis,
                                                                  clock: Clock) -> None:
    bk = await booking_engine(demo, quiet_hours=NIGHT, offer_ttl_s=900)
    a, [w] = await full_lab(bk, "10:00", "w")
    clock.now = at(0, "23:00")
    await bk.cancel(a, KIOSK)
    got = await bk.get(w["id"])
    # The 15 minutes to answer count from 08:00, when the text can go.
    assert got["status"] == "offered" and got["offer_until"] == "2026-11-19T08:15:00+08:00"
    clock.now = at(1, "08:10")
    assert (await bk.confirm(w["id"], KIOSK))["status"] == "confirmed"


async def test_a_lapsed_night_offer_passes_on_with_a_full_window(demo: Engine, redis: Redis,
                                                                 clock: Clock) -> None:
    bk = await booking_engine(demo, quiet_hours=NIGHT, offer_ttl_s=900)
    a, [w1, w2] = await full_lab(bk, "11:00", "w1", "w2")
    clock.now = at(0, "20:50")  # not quiet: 15 minutes, to 21:05
    await bk.cancel(a, KIOSK)
    assert (await bk.get(w1["id"]))["offer_until"] == "2026-11-18T21:05:00+08:00"
    clock.now = at(0, "21:06")  # lapsed in quiet hours: the next one's window is the morning's
    fired = await fire_due(Services(redis, bk, Recorder()), "demo")
    assert fired >= 1
    assert (await bk.get(w1["id"]))["status"] == "expired"
    got = await bk.get(w2["id"])
    assert got["status"] == "offered" and got["offer_until"] == "2026-11-19T08:15:00+08:00"


async def test_a_slot_starting_before_quiet_hours_end_is_offered_to_nobody(
        demo: Engine, redis: Redis, clock: Clock) -> None:
    bk = await booking_engine(demo, quiet_hours=["21:00", "10:30"])
    a, [w] = await full_lab(bk, "10:00", "w")
    clock.now = at(0, "23:00")
    await bk.cancel(a, KIOSK)
    assert (await bk.get(w["id"]))["status"] == "waitlisted"  # no text could reach them
    assert "booking_offered" not in await stream_types(redis)
    # The place is theirs if they look: a waitlisted person confirms a free place.
    clock.now = at(1, "06:00")
    assert (await bk.confirm(w["id"], KIOSK))["status"] == "confirmed"


async def _watcher(demo: Engine, redis: Redis, clock: Clock,
                   notifier: Recorder) -> tuple[Notifications, SiteWatcher]:
    owner = Notifications(redis, redis, demo, notifier, Thresholds(3, 300), clock=clock)
    w = SiteWatcher(owner, "demo")
    await w._load()
    return owner, w


async def _events(redis: Redis, kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [(eid.decode(), msgspec.json.decode(f[b"d"]))
            for eid, f in await redis.xrange(keys.events("demo")) if f[b"t"].decode() == kind]


async def test_a_night_offer_text_goes_when_quiet_hours_end(demo: Engine, redis: Redis,
                                                            clock: Clock) -> None:
    bk = await booking_engine(demo, quiet_hours=NIGHT)
    a, [w] = await full_lab(bk, "10:00", "w")
    clock.now = at(0, "23:00")
    await bk.cancel(a, KIOSK)
    notifier = Recorder()
    owner, watcher = await _watcher(demo, redis, clock, notifier)
    [(eid, data)] = await _events(redis, "booking_offered")
    await watcher._events("booking_offered", data, eid)
    assert notifier.sent == []
    [(_, due)] = await redis.zrange(keys.NOTIFY_RETRY, 0, -1, withscores=True)
    assert int(due) == at(1, "08:00")
    clock.now = at(1, "08:00")
    owner._start_retrier()
    try:
        for _ in range(200):
            if notifier.sent:
                break
            await asyncio.sleep(0.02)
    finally:
        await owner.stop()
    [n] = notifier.sent
    assert n.kind == "offer" and n.booking == w["id"]
    assert n.valid_until == "2026-11-19T08:15:00+08:00"


async def test_a_suspension_text_waits_unless_the_appointment_is_early(
        demo: Engine, redis: Redis, clock: Clock) -> None:
    bk = await booking_engine(demo, quiet_hours=NIGHT)
    early = await booked(bk, "r1", "09:00", "e")
    later = await booked(bk, "r1", "11:30", "l", day=2)
    clock.now = at(0, "23:00")
    await bk.suspend("demo", "r1", at(1, "09:00"), at(2, "12:00"), "ill", AGENT)
    notifier = Recorder()
    owner, watcher = await _watcher(demo, redis, clock, notifier)
    try:
        for eid, data in await _events(redis, "booking_suspended"):
            await watcher._events("booking_suspended", data, eid)
    finally:
        await owner.stop()
    # 09:00 tomorrow is within 3 hours of 08:00: at once, with its alternatives.
    assert [(n.kind, n.booking) for n in notifier.sent] == [("suspended", early["id"])]
    assert notifier.sent[0].data["alternatives"]
    [(raw, due)] = await redis.zrange(keys.NOTIFY_RETRY, 0, -1, withscores=True)
    assert int(due) == at(1, "08:00") and later["id"].encode() in raw
    assert b"Free now" not in raw  # the morning's text lists no alternatives taken by then


def test_cfg_round_trip() -> None:
    cfg = schedule(quiet_hours=NIGHT)
    assert msgspec.json.decode(msgspec.json.encode(cfg), type=BookingConfig).policy.quiet_hours \
        == NIGHT


async def test_a_reminder_to_a_number_that_texted_stop_is_not_sent(
        demo: Engine, redis: Redis, clock: Clock) -> None:
    """The reminder job (tasks.fire, not the consumer's try_send) honours the opt-out: the
    reminder is removed unsent, counted ``stale:reminder:opted_out``, and no event says it
    went; another number's reminder goes (queueing/optout.py)."""
    from queueing import optout
    from queueing.booking import delivery
    bk = await booking_engine(demo, reminders_s=[7200])
    await booked(bk, "r1", "09:00", "ann")
    ben = await booked(bk, "r1", "09:30", "ben")
    number = f"+861380000{sum(map(ord, 'ann')) % 10000:04d}"  # as booked() gives it
    await optout.stop(redis, "demo", number, at(0, "12:00"))
    notifier = Recorder()
    svc = Services(redis, bk, notifier)
    clock.now = at(1, "07:30")
    await fire_due(svc, "demo")
    assert [n.booking for n in notifier.sent] == [ben["id"]]
    assert (await stream_types(redis)).count("booking_reminder") == 1
    assert await bk.due("demo") == []  # not retried
    counts = (await delivery.read(redis)).counts
    assert counts[("stale", "reminder", "opted_out")] == 1
