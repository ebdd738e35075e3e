"""Check-in, no-show, suspension and the due side effects, with a settable clock."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from queueing import keys
from queueing.booking.engine import BookingEngine
from queueing.booking.jobs import FUNCTION, Jobs, job_id
from queueing.booking.notify import Notification, NotifyFailed
from queueing.booking.tasks import RETRY_S, Services, fire_due
from queueing.engine import Actor, Engine
from queueing.errors import (
    BadRequest,
    InvalidTransition,
    ResourceSuspended,
    TooEarly,
    TooLate,
    UnknownBooking,
)
from tests.integration.conftest import Clock
from tests.integration.test_booking_support import (
    KIOSK,
    booking_engine,
    req,
    sid,
    snapshot,
    stream_types,
)

AGENT = Actor("agent:demo:1", "counter")


@pytest.fixture
async def bk(demo: Engine) -> BookingEngine:
    return await booking_engine(demo)


async def indexed(redis: Redis) -> dict[str, int]:
    """bk:due: each booking's next due entry, by due time (ms)."""
    rows = await redis.zrange(keys.prefix("demo") + "bk:due", 0, -1, withscores=True)
    return {m.decode(): int(score) for m, score in rows}


async def start_of(bk: BookingEngine, slot: str) -> int:
    return (await bk.schedule("demo")).slot(slot).start_ms


async def test_check_in_issues_an_appointment_ticket_atomically(demo: Engine, redis: Redis,
                                                                 clock: Clock) -> None:
    # The appointment's place from the whole early check-in hour (the default is 10 min:
    # test_early_check_in_waits_as_a_walk_in).
    bk = await booking_engine(demo, appointment_early_s=3600)
    ten = (await bk.book("demo", req(sid("r1", 1, "10:00"), "ann"), KIOSK)).booking
    nine = (await bk.book("demo", req(sid("r2", 1, "09:00"), "ben"), KIOSK)).booking
    clock.now = await start_of(bk, nine["slot"]) - 1800_000  # 08:30
    before = await snapshot(redis)
    with pytest.raises(TooEarly):  # the 10:00 booking may check in from 09:00
        await bk.check_in("demo", ten["code"], "kiosk", KIOSK)
    assert await snapshot(redis) == before
    clock.advance(1800)  # 09:00: the 10:00 booking checks in first, by its QR payload
    n = await redis.xlen(keys.events("demo"))
    t10 = await bk.check_in("demo", ten["qr"], "app", KIOSK)
    # One step: the ticket's issued event and the booking's checked_in, back to back.
    assert (await stream_types(redis))[n:] == ["issued", "booking_checked_in"]
    assert t10.ticket["priority"] == "appointment" and t10.ticket["position"] == 1
    assert t10.ticket["appointment_at"] == "2026-11-19T10:00:00+08:00"
    assert t10.booking["status"] == "checked_in" and t10.booking["ticket"] == t10.ticket["id"]
    t9 = await bk.check_in("demo", nine["code"], "kiosk", KIOSK)
    assert t9.ticket["position"] == 1  # ordered by appointment time, not arrival
    assert (await demo.ticket(t10.ticket["id"]))["position"] == 2
    walk = (await demo.issue("demo", _walk_in(), KIOSK)).ticket
    assert walk["position"] == 3
    again = await bk.check_in("demo", ten["code"], "kiosk", KIOSK)
    assert again.replay and again.ticket["id"] == t10.ticket["id"]
    with pytest.raises(BadRequest):
        await bk.check_in("demo", "not a code!", "kiosk", KIOSK)
    with pytest.raises(UnknownBooking):
        await bk.check_in("demo", "ZZZZZZ", "kiosk", KIOSK)
    with pytest.raises(UnknownBooking):  # a QR payload whose code does not match
        await bk.check_in("demo", f"SBK1:{ten['id']}:ZZZZZZ", "kiosk", KIOSK)


async def test_early_check_in_waits_as_a_walk_in(bk: BookingEngine, demo: Engine,
                                                  clock: Clock) -> None:
    """A 10:00 booking checked in at 09:05 does not go ahead of a walk-in waiting since
    09:04 (its class would outrank any time); from 09:50 it takes its appointment's place."""
    ten = (await bk.book("demo", req(sid("r1", 1, "10:00"), "ann"), KIOSK)).booking
    ten2 = (await bk.book("demo", req(sid("r2", 1, "10:00"), "bo"), KIOSK)).booking
    start = await start_of(bk, ten["slot"])
    clock.now = start - 56 * 60_000  # 09:04
    walk = (await demo.issue("demo", _walk_in(), KIOSK)).ticket
    clock.advance(60)  # 09:05
    early = await bk.check_in("demo", ten["code"], "kiosk", KIOSK)
    # A walk-in from its check-in: behind the walk-in, its estimate counts them.
    assert early.ticket["priority"] == "walk_in" and early.ticket["position"] == 2
    assert early.ticket["appointment_at"] == "2026-11-19T10:00:00+08:00"  # still says booked
    assert early.booking["late"] is False
    assert (await demo.ticket(walk["id"]))["position"] == 1
    clock.now = start - 600_000  # 09:50: within appointment_early_s, its appointment's place
    on_time = await bk.check_in("demo", ten2["code"], "kiosk", KIOSK)
    assert on_time.ticket["priority"] == "appointment" and on_time.ticket["position"] == 1


def _walk_in() -> Any:
    from queueing.model import Channel, TicketRequest
    return TicketRequest(service="internal", channel=Channel.KIOSK)


async def test_late_arrival_within_grace_then_walk_in_then_too_late(demo: Engine,
                                                                    redis: Redis,
                                                                    clock: Clock) -> None:
    bk = await booking_engine(demo, grace_s=600)
    a = (await bk.book("demo", req(sid("r1", 1, "09:00"), "a"), KIOSK)).booking
    b = (await bk.book("demo", req(sid("r1", 1, "09:30"), "b"), KIOSK)).booking
    c = (await bk.book("demo", req(sid("r1", 2, "09:00"), "c"), KIOSK)).booking
    clock.now = await start_of(bk, a["slot"]) + 599_000
    ta = await bk.check_in("demo", a["code"], "kiosk", KIOSK)
    assert ta.ticket["priority"] == "appointment" and not ta.booking["late"]
    clock.now = await start_of(bk, b["slot"]) + 601_000  # past grace: a walk-in
    assert (await bk.get(b["id"]))["status"] == "no_show"
    tb = await bk.check_in("demo", b["code"], "kiosk", KIOSK)
    assert tb.ticket["priority"] == "walk_in" and tb.booking["late"] is True
    assert "appointment_at" not in tb.ticket
    # The next day it is too late, and nothing changes.
    clock.now = await start_of(bk, c["slot"]) + 86400_000
    before = await snapshot(redis)
    with pytest.raises(TooLate):
        await bk.check_in("demo", c["code"], "kiosk", KIOSK)
    assert await snapshot(redis) == before


async def test_no_show_is_lazy_and_frees_nothing(bk: BookingEngine, redis: Redis,
                                                 clock: Clock) -> None:
    slot = sid("lab1", 1, "09:00", "lab")
    a = (await bk.book("demo", req(slot, "a"), KIOSK)).booking
    start = await start_of(bk, slot)
    clock.now = start + 900_000 - 1
    assert (await bk.get(a["id"]))["status"] == "confirmed"
    clock.advance(0.001)
    assert (await bk.get(a["id"]))["status"] == "no_show"
    taken = await redis.zcount(keys.prefix("demo") + f"bk:sl:{slot}:g", "(0", "+inf")
    fired = await bk.fire("demo", f"n|{a['id']}|1")
    assert fired["fired"] and (await stream_types(redis))[-1] == "booking_no_show"
    # The place is still counted: a no-show frees nothing retroactively.
    assert await redis.zcount(keys.prefix("demo") + f"bk:sl:{slot}:g", "(0", "+inf") == taken
    with pytest.raises(InvalidTransition):
        await bk.cancel(a["id"], KIOSK)


async def test_due_side_effects_become_arq_jobs_and_follow_changes(demo: Engine,
                                                                   redis: Redis) -> None:
    jobs = Jobs(redis)
    bk = BookingEngine(demo, jobs)
    await booking_engine(demo)  # the schedule
    a = (await bk.book("demo", req(sid("r1", 3, "10:00"), "ivy"), KIOSK)).booking
    start = await start_of(bk, a["slot"])
    r1, r2 = f"r|{a['id']}|86400|{start}", f"r|{a['id']}|7200|{start}"
    # A job runs at each reminder's time (one per site and time, shared by the bookings
    # due then); the no-show is the sweep's.
    assert await jobs.scheduled("demo", start - 86400_000) == start - 86400_000
    assert await jobs.scheduled("demo", start - 7200_000) == start - 7200_000
    assert await jobs.scheduled("demo", start + 900_000) is None
    raw = await redis.get(b"arq:job:" + job_id("demo", start - 7200_000).encode())
    assert raw is not None and FUNCTION.encode() in raw
    # The booking lists every entry; bk:due indexes its next one only (scores are due_ms
    # plus a tie-breaker below 1 ms, prelude.lua bk_tie).
    assert (await bk.raw(a["id"]))["due"] == (f"{r1}@{start - 86400_000},"
                                               f"{r2}@{start - 7200_000},"
                                               f"n|{a['id']}|1@{start + 900_000}")
    assert await indexed(redis) == {r1: start - 86400_000}
    # Another booking of the slot shares the jobs: nothing more is written.
    await bk.book("demo", req(sid("r1", 3, "10:00"), "jay"), KIOSK)
    await jobs.flush()
    assert await redis.zcard("arq:queue") == 2
    # Rescheduling moves the reminders (jobs at the new times); cancelling removes them
    # from the booking and the index. The old times' jobs stay and will find nothing due.
    moved = await bk.reschedule(a["id"], sid("r1", 4, "11:00"), KIOSK)
    new_start = await start_of(bk, moved["slot"])
    assert await jobs.scheduled("demo", new_start - 7200_000) == new_start - 7200_000
    assert (await indexed(redis))[f"r|{a['id']}|86400|{new_start}"] == new_start - 86400_000
    assert r1 not in await indexed(redis)
    await bk.cancel(a["id"], KIOSK)
    assert (await bk.raw(a["id"]))["due"] == ""
    assert not [m for m in await indexed(redis) if a["id"] in m]


async def test_reminder_fires_once_at_its_time(bk: BookingEngine, redis: Redis,
                                               clock: Clock) -> None:
    a = (await bk.book("demo", req(sid("r1", 3, "10:00"), "joe"), KIOSK)).booking
    start = await start_of(bk, a["slot"])
    member = f"r|{a['id']}|7200|{start}"
    clock.now = start - 7200_000 - 1
    assert "at" in await bk.fire("demo", member)  # not yet
    clock.advance(0.001)
    first = f"r|{a['id']}|86400|{start}"  # missed (no worker ran): the sweep's next
    assert await bk.due("demo") == [first]
    peek = await bk.fire("demo", member, "peek")  # its own arq job fires it on time
    assert peek["valid"] and peek["booking"]["id"] == a["id"]
    assert (await bk.fire("demo", member))["fired"] is True
    assert (await bk.fire("demo", member))["fired"] is False
    assert (await stream_types(redis)).count("booking_reminder") == 1
    # Firing an entry indexes the booking's next: the sweep walks the chain.
    assert await bk.due("demo") == [first]
    assert (await bk.fire("demo", first))["fired"] is True
    assert await bk.due("demo") == [] and await indexed(redis) == {
        f"n|{a['id']}|1": start + 900_000}
    clock.now = start + 900_000
    assert await bk.due("demo") == [f"n|{a['id']}|1"]
    assert (await bk.fire("demo", f"n|{a['id']}|1"))["fired"] is True
    assert await bk.due("demo") == [] and await indexed(redis) == {}
    assert (await stream_types(redis)).count("booking_reminder") == 2


async def test_suspension_reaches_everyone_and_an_alternative_is_accepted(
        bk: BookingEngine, demo: Engine, redis: Redis, clock: Clock) -> None:
    s9 = sid("r1", 1, "09:00")
    start = await start_of(bk, s9)
    w = (await bk.book("demo", req(s9, "w"), KIOSK)).booking
    a = (await bk.book("demo", req(sid("r1", 1, "09:30"), "a"), KIOSK)).booking
    outside = (await bk.book("demo", req(sid("r1", 1, "11:30"), "o"), KIOSK)).booking
    clock.now = start - 600_000  # 08:50
    b = (await bk.book("demo", req(sid("r1", 1, "10:00"), "b", hold=True), KIOSK)).booking
    ticket = await bk.check_in("demo", w["code"], "kiosk", KIOSK)  # a waiting ticket
    n = await redis.xlen(keys.events("demo"))
    result = await bk.suspend("demo", "r1", start, start + 2 * 3600_000 + 1800_000,
                              "called to an emergency", AGENT)
    assert {x["id"] for x in result["affected"]} == {a["id"], b["id"], w["id"]}
    kinds = (await stream_types(redis))[n:]
    assert kinds.count("booking_suspended") == 3 and kinds[-1] == "resource_suspended"
    # Nothing was cancelled; each knows why and what else it can have.
    got = await bk.get(a["id"])
    assert got["status"] == "confirmed"
    assert got["suspension"]["reason"] == "called to an emergency"
    alts = got["suspension"]["alternatives"]
    assert alts[0]["slot"] == sid("r2", 1, "09:30")  # same time, another doctor first
    assert all(x["resource"] != "r1" or x["start"] >= "2026-11-19T11:30" for x in alts)
    assert (await bk.get(outside["id"])).get("suspension") is None
    before = await snapshot(redis)
    with pytest.raises(ResourceSuspended):
        await bk.book("demo", req(sid("r1", 1, "10:30"), "new"), KIOSK)
    assert await snapshot(redis) == before
    view = await bk.suspension("demo", result["id"])
    assert sorted(view["unanswered"]) == sorted([a["id"], b["id"], w["id"]])
    # One call accepts an alternative; the person keeps the place in line (the original
    # time stays the queue-order reference) and the operator sees the answer.
    # …then the nearest times.
    assert [x["slot"] for x in alts[1:]] == [sid("r2", 1, "09:00"), sid("r2", 1, "10:00")]
    moved = await bk.reschedule(a["id"], alts[2]["slot"], KIOSK)
    assert moved["start"] == "2026-11-19T10:00:00+08:00"
    assert moved["queue_order_at"] == "2026-11-19T09:30:00+08:00"
    assert moved["suspension"]["answered"] is True
    await bk.cancel(b["id"], KIOSK)
    tw = await bk.reschedule(w["id"], sid("r2", 1, "09:00"), KIOSK)
    assert tw["status"] == "checked_in"
    assert (await demo.ticket(ticket.ticket["id"]))["status"] == "waiting"  # kept its place
    view = await bk.suspension("demo", result["id"])
    assert view["unanswered"] == []
    answers = {x["booking"]: x["answer"] for x in view["affected"]}
    assert answers == {a["id"]: "rescheduled", b["id"]: "cancelled", w["id"]: "rescheduled"}
    # A checked-in booking moves only to answer a suspension.
    with pytest.raises(InvalidTransition):
        await bk.reschedule(w["id"], sid("r2", 1, "11:30"), KIOSK)


async def test_a_suspended_booking_still_lapses_and_is_still_marked_no_show(
        bk: BookingEngine, clock: Clock) -> None:
    s9 = sid("r1", 1, "09:00")
    start = await start_of(bk, s9)
    kept = (await bk.book("demo", req(s9, "k"), KIOSK)).booking
    clock.now = start - 3600_000
    held = (await bk.book("demo", req(sid("r1", 1, "09:30"), "h", hold=True), KIOSK)).booking
    await bk.suspend("demo", "r1", start, start + 3600_000, "training", AGENT)
    # The suspension versioned both bookings (v 2); their due entries follow.
    assert [m.split("|")[0] for m in (await bk.raw(held["id"]))["due"].split(",")] == ["x"]
    clock.advance(601)  # the hold lapses (and kept's 2-hour reminder is due)
    reminder = f"r|{kept['id']}|7200|{start}"
    assert sorted(await bk.due("demo")) == sorted([f"x|{held['id']}|2", reminder])
    assert (await bk.fire("demo", f"x|{held['id']}|2"))["fired"] is True
    assert (await bk.get(held["id"]))["status"] == "expired"
    # Told it cannot take place and not answered: no reminder (dropped, not fired).
    assert (await bk.fire("demo", reminder))["fired"] is False
    clock.now = start + 900_000  # nobody came and nobody answered: a no-show, recorded
    assert await bk.due("demo") == [f"n|{kept['id']}|2"]
    assert (await bk.fire("demo", f"n|{kept['id']}|2"))["fired"] is True
    assert (await bk.get(kept["id"]))["status"] == "no_show"


async def test_checking_in_a_suspended_booking_says_so(bk: BookingEngine,
                                                       clock: Clock) -> None:
    # The doctor was called away and the person did not answer: they arrive anyway. They
    # are in line for the service (another doctor may see them), and the answer carries the
    # suspension with its reason, for the kiosk to say.
    s9 = sid("r1", 1, "09:00")
    start = await start_of(bk, s9)
    b = (await bk.book("demo", req(s9, "k"), KIOSK)).booking
    await bk.suspend("demo", "r1", start, start + 3600_000, "doctor called away", AGENT)
    clock.now = start - 60_000
    got = await bk.check_in("demo", b["code"], "kiosk", KIOSK)
    assert got.ticket["status"] == "waiting"
    assert got.booking["status"] == "checked_in"
    susp = got.booking["suspension"]
    assert susp["reason"] == "doctor called away" and susp["answered"] is False
    assert susp["alternatives"]


async def test_suspension_input_is_checked(bk: BookingEngine, redis: Redis,
                                           clock: Clock) -> None:
    before = await snapshot(redis)
    with pytest.raises(BadRequest):
        await bk.suspend("demo", "r1", clock.now + 1000, clock.now, "x", AGENT)
    with pytest.raises(BadRequest):
        await bk.suspend("demo", "r1", clock.now - 7200_000, clock.now - 3600_000, "x", AGENT)
    from queueing.errors import UnknownResource
    with pytest.raises(UnknownResource):
        await bk.suspend("demo", "ghost", clock.now, clock.now + 1000, "x", AGENT)
    assert await snapshot(redis) == before


class FlakyNotifier:
    """Records what it is asked to send; fails for one recipient."""

    def __init__(self, failing: str) -> None:
        self.failing = failing
        self.sent: list[Notification] = []

    async def send(self, n: Notification) -> None:
        if n.to == self.failing:
            raise NotifyFailed("gateway says no")
        self.sent.append(n)

    async def aclose(self) -> None:
        return None


async def test_one_job_fires_every_reminder_due_at_its_time(bk: BookingEngine, redis: Redis,
                                                            clock: Clock) -> None:
    slot = sid("r1", 3, "10:00")
    people = [(await bk.book("demo", req(slot, f"p{i}", notify=f"+861380000000{i}"), KIOSK)).booking
              for i in range(3)]
    held = (await bk.book("demo", req(sid("r2", 3, "10:00"), "h", hold=True), KIOSK)).booking
    start = await start_of(bk, slot)
    notifier = FlakyNotifier(failing="+8613800000001")
    svc = Services(redis, bk, notifier)
    clock.now = start - 7200_000  # both reminders due (the 1-day one was missed)
    # Four reminders sent, the lapsed hold fired; the one the gateway refused is deferred
    # (behind everything due now: a dead gateway holds up nobody else).
    assert await fire_due(svc, "demo") == 5
    sent = sorted((n.to, n.data["before_s"]) for n in notifier.sent)
    assert sent == [("+8613800000000", 7200), ("+8613800000000", 86400),
                    ("+8613800000002", 7200), ("+8613800000002", 86400)]
    assert (await bk.get(held["id"]))["status"] == "expired"
    assert await bk.due("demo") == []
    clock.advance(RETRY_S)
    assert await bk.due("demo") == [f"r|{people[1]['id']}|86400|{start}"]
    notifier.failing = ""  # the gateway is back: the next run sends the rest
    assert await fire_due(svc, "demo") == 2
    assert len(notifier.sent) == 6
    assert (await stream_types(redis)).count("booking_reminder") == 6
    assert await fire_due(svc, "demo") == 0  # nothing left before the no-shows
