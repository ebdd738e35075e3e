"""The booking engine against a real Redis, with a settable clock: inventory, quotas,
holds, idempotency, reschedule, waitlist — every change with its event, every refusal
changing nothing."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from queueing import keys
from queueing.booking.engine import BookingEngine
from queueing.booking.schedule import local_date, parse_slot_id
from queueing.engine import Actor, Engine
from queueing.errors import (
    ChannelQuota,
    HoldExpired,
    IdempotencyMismatch,
    InvalidTransition,
    NotOffered,
    OfferExpired,
    Overlap,
    SlotClosed,
    SlotFull,
    TooManyBookings,
    UnknownSlot,
)
from queueing.model import Channel
from tests.integration.conftest import Clock
from tests.integration.test_booking_support import (
    KIOSK,
    TODAY,
    booking_engine,
    req,
    sid,
    snapshot,
    stream_types,
)


@pytest.fixture
async def bk(demo: Engine) -> BookingEngine:
    return await booking_engine(demo)


async def remaining(bk: BookingEngine, slot: str, channel: str | None = None) -> int:
    """What availability shows for ``slot`` (the same arithmetic every channel gets)."""
    parsed = parse_slot_id(slot)
    assert parsed is not None
    day = local_date(parsed[2], (await bk.schedule("demo")).tz)
    rows = await bk.availability("demo", parsed[1], day, channel)
    return next(r["remaining"] for r in rows if r["slot"] == slot)


async def test_availability_then_book(bk: BookingEngine, redis: Redis) -> None:
    rows = await bk.availability("demo", "internal", TODAY.replace(day=19))
    assert len(rows) == 12  # two resources, six half-hour slots each
    first = rows[0]
    assert set(first) == {"slot", "service", "resource", "start", "end", "capacity",
                          "remaining"}
    assert first["start"] == "2026-11-19T09:00:00+08:00" and first["capacity"] == 4
    assert first["remaining"] == 4
    b = (await bk.book("demo", req(first["slot"], "alice"), KIOSK)).booking
    assert b["status"] == "confirmed" and b["start"] == first["start"] and len(b["code"]) == 6
    assert b["qr"] == f"SBK1:{b['id']}:{b['code']}"
    assert await remaining(bk, first["slot"]) == 3
    assert (await bk.get(b["id"]))["status"] == "confirmed"
    assert (await stream_types(redis))[-1] == "booking_confirmed"


async def test_capacity_is_never_exceeded_and_refusals_change_nothing(bk: BookingEngine,
                                                                      redis: Redis) -> None:
    slot = sid("r1", 1, "09:00")  # tomorrow: the phone quota is already released
    for i in range(4):
        await bk.book("demo", req(slot, f"c{i}"), KIOSK)
    before = await snapshot(redis)
    with pytest.raises(SlotFull):
        await bk.book("demo", req(slot, "late"), KIOSK)
    with pytest.raises(SlotFull):
        await bk.book("demo", req(slot, "late", Channel.PHONE), KIOSK)
    with pytest.raises(UnknownSlot):
        await bk.book("demo", req(sid("r1", 1, "13:00"), "x"), KIOSK)
    with pytest.raises(SlotClosed):
        await bk.book("demo", req(sid("r1", 0, "09:00"), "x"), KIOSK)  # this morning
    with pytest.raises(SlotClosed):
        await bk.book("demo", req(sid("r1", 40, "09:00"), "x"), KIOSK)  # past the horizon
    assert await snapshot(redis) == before


async def test_channel_quota_holds_then_releases_on_time(bk: BookingEngine, redis: Redis,
                                                         clock: Clock) -> None:
    slot = sid("r1", 3, "10:00")  # quota (1 of 4 for phone/window) released a day before
    for i in range(3):
        await bk.book("demo", req(slot, f"app{i}"), KIOSK)
    assert await remaining(bk, slot, "app") == 0
    assert await remaining(bk, slot, "phone") == 1
    before = await snapshot(redis)
    with pytest.raises(ChannelQuota):
        await bk.book("demo", req(slot, "app3"), KIOSK)
    # Nor a waitlist for the held place: it would block the phone line it is held for.
    with pytest.raises(ChannelQuota):
        await bk.book("demo", req(slot, "app3", waitlist=True), KIOSK)
    assert await snapshot(redis) == before
    assert await remaining(bk, slot, "phone") == 1
    # A day before the slot the held place goes to every channel.
    clock.now = (await bk.schedule("demo")).slot(slot).start_ms - 86400_000 - 1000
    with pytest.raises(ChannelQuota):
        await bk.book("demo", req(slot, "app3"), KIOSK)
    clock.advance(1)
    assert await remaining(bk, slot, "app") == 1
    await bk.book("demo", req(slot, "app3"), KIOSK)
    with pytest.raises(SlotFull):
        await bk.book("demo", req(slot, "phone0", Channel.PHONE), KIOSK)


async def test_a_waitlist_blocks_no_one_from_places_it_cannot_take(
        bk: BookingEngine, redis: Redis, clock: Clock) -> None:
    """A full slot (3 app + 1 phone on the phone line's held place), an app user waiting.
    The phone booking cancels: its place stays held for phone and window, so the waitlisted
    app user is not offered it, and a new phone caller takes it (it was refused: the
    waitlist counted against everyone). At the quota's release, a place freed meanwhile
    goes to the waitlist by itself (a due entry), not to the next newcomer."""
    slot = sid("r1", 3, "10:00")  # capacity 4, 1 held for phone/window until a day before
    for i in range(3):
        await bk.book("demo", req(slot, f"app{i}"), KIOSK)
    ph = (await bk.book("demo", req(slot, "ph0", Channel.PHONE), KIOSK)).booking
    w = (await bk.book("demo", req(slot, "wapp", waitlist=True), KIOSK)).booking
    assert w["status"] == "waitlisted"
    await bk.cancel(ph["id"], KIOSK)
    assert (await bk.get(w["id"]))["status"] == "waitlisted"  # not its place to take
    assert await remaining(bk, slot, "phone") == 1 and await remaining(bk, slot, "app") == 0
    ph1 = (await bk.book("demo", req(slot, "ph1", Channel.PHONE), KIOSK)).booking
    assert ph1["status"] == "confirmed"
    # The phone caller cancels too; the quota is released a day before the slot.
    await bk.cancel(ph1["id"], KIOSK)
    release = (await bk.schedule("demo")).slot(slot).start_ms - 86400_000
    member = f"w|{w['id']}|{release}"
    assert member in await _due_of(redis, w["id"])
    clock.now = release
    assert await remaining(bk, slot, "app") == 0  # the waitlist comes first...
    with pytest.raises(SlotFull):
        await bk.book("demo", req(slot, "late"), KIOSK)
    assert (await bk.fire("demo", member))["fired"]  # ...and gets it at the release
    assert (await bk.get(w["id"]))["status"] == "offered"
    assert (await stream_types(redis))[-1] == "booking_offered"
    assert (await bk.confirm(w["id"], KIOSK))["status"] == "confirmed"


async def _due_of(redis: Redis, booking_id: str) -> list[str]:
    raw = await redis.hget(keys.prefix("demo") + "bk:b:" + booking_id, "due")
    return [e.split("@")[0] for e in (raw or b"").decode().split(",") if e]


async def test_phone_takes_its_reserved_place_first(bk: BookingEngine) -> None:
    slot = sid("r2", 3, "09:30")
    await bk.book("demo", req(slot, "p0", Channel.PHONE), KIOSK)
    # The phone booking used the reserved place: apps still have all three others.
    assert await remaining(bk, slot, "app") == 3
    await bk.book("demo", req(slot, "p1", Channel.PHONE), KIOSK)
    assert await remaining(bk, slot, "app") == 2
    assert await remaining(bk, slot, "window") == 2
    assert await remaining(bk, slot) == 2


async def test_one_person_no_overlap_and_at_most_max_open(bk: BookingEngine,
                                                          redis: Redis) -> None:
    first = (await bk.book("demo", req(sid("r1", 1, "09:00"), "bob"), KIOSK)).booking
    before = await snapshot(redis)
    with pytest.raises(Overlap) as refused:  # same time with another doctor
        await bk.book("demo", req(sid("r2", 1, "09:00"), "bob"), KIOSK)
    # Not the other booking's code: it checks the person in, and customer ids are guessable.
    assert first["code"] not in str(refused.value) and first["code"] not in repr(
        refused.value.to_dict())
    with pytest.raises(Overlap):  # lab at the same time, another channel
        await bk.book("demo", req(sid("lab1", 1, "09:00", "lab"), "bob", Channel.PHONE),
                      KIOSK)
    assert await snapshot(redis) == before
    await bk.book("demo", req(sid("r2", 1, "09:30"), "bob"), KIOSK)  # adjacent is fine
    await bk.book("demo", req(sid("r1", 2, "09:00"), "bob"), KIOSK)
    with pytest.raises(TooManyBookings):  # max_open_bookings = 3
        await bk.book("demo", req(sid("r1", 4, "09:00"), "bob"), KIOSK)


async def test_idempotent_retry_returns_the_first_booking(bk: BookingEngine,
                                                          redis: Redis) -> None:
    r = req(sid("r1", 1, "11:00"), "carol")
    first = await bk.book("demo", r, KIOSK, idempotency_key="k-1")
    again = await bk.book("demo", r, KIOSK, idempotency_key="k-1")
    assert again.replay and not first.replay
    assert again.booking["id"] == first.booking["id"]
    assert (await stream_types(redis)).count("booking_confirmed") == 1
    before = await snapshot(redis)
    with pytest.raises(IdempotencyMismatch):
        await bk.book("demo", req(sid("r1", 1, "11:30"), "carol"), KIOSK, idempotency_key="k-1")
    assert await snapshot(redis) == before


async def test_idempotency_keys_are_the_callers(bk: BookingEngine) -> None:
    """Another caller sending the same key and body is not handed the first booking (and its
    token): it books for itself, here refused as carol already holds that time."""
    r = req(sid("r1", 1, "11:00"), "carol")
    first = await bk.book("demo", r, KIOSK, idempotency_key="k-1")
    with pytest.raises(Overlap):
        await bk.book("demo", r, Actor("partner:other", "partner"), idempotency_key="k-1")
    other = await bk.book("demo", req(sid("r1", 1, "11:30"), "dora"),
                          Actor("partner:other", "partner"), idempotency_key="k-1")
    assert not other.replay and other.booking["id"] != first.booking["id"]
    again = await bk.book("demo", r, KIOSK, idempotency_key="k-1")
    assert again.replay and again.booking["id"] == first.booking["id"]


async def test_hold_expires_lazily_and_the_place_returns(bk: BookingEngine, redis: Redis,
                                                         clock: Clock) -> None:
    slot = sid("lab1", 1, "10:00", "lab")  # capacity 2
    held = (await bk.book("demo", req(slot, "dan", hold=True), KIOSK)).booking
    assert held["status"] == "held" and held["hold_until"]
    await bk.book("demo", req(slot, "eve"), KIOSK)
    with pytest.raises(SlotFull):
        await bk.book("demo", req(slot, "fay"), KIOSK)
    clock.advance(601)  # hold_ttl_s = 600; no job has run
    assert (await bk.get(held["id"]))["status"] == "expired"
    assert await remaining(bk, slot) == 1
    with pytest.raises(HoldExpired):
        await bk.confirm(held["id"], KIOSK)
    assert (await bk.book("demo", req(slot, "fay"), KIOSK)).booking["status"] == "confirmed"
    # The worker's job only records it (an event); it changes nothing the lazy rule did not.
    member = f"x|{held['id']}|1"
    assert (await bk.fire("demo", member))["fired"] is True
    assert (await stream_types(redis))[-1] == "booking_expired"
    assert (await bk.fire("demo", member))["fired"] is False
    # After the job, the answer is the same as before it (not invalid_transition).
    with pytest.raises(HoldExpired):
        await bk.confirm(held["id"], KIOSK)
    with pytest.raises(HoldExpired):
        await bk.reschedule(held["id"], sid("lab1", 1, "10:30", "lab"), KIOSK)


async def test_hold_then_confirm(bk: BookingEngine, clock: Clock) -> None:
    held = (await bk.book("demo", req(sid("r1", 1, "09:30"), "gus", hold=True), KIOSK)).booking
    clock.advance(300)
    done = await bk.confirm(held["id"], KIOSK)
    assert done["status"] == "confirmed"
    clock.advance(600)  # a confirmed place does not lapse
    assert (await bk.get(held["id"]))["status"] == "confirmed"
    assert (await bk.confirm(held["id"], KIOSK))["status"] == "confirmed"  # idempotent


async def test_reschedule_is_atomic(bk: BookingEngine, redis: Redis) -> None:
    a = (await bk.book("demo", req(sid("r1", 1, "09:00"), "hal"), KIOSK)).booking
    moved = await bk.reschedule(a["id"], sid("r2", 1, "10:00"), KIOSK)
    assert moved["slot"] == sid("r2", 1, "10:00") and moved["resource"] == "r2"
    assert await remaining(bk, sid("r1", 1, "09:00")) == 4
    assert await remaining(bk, sid("r2", 1, "10:00")) == 3
    assert (await stream_types(redis))[-1] == "booking_rescheduled"
    # Into a full slot: refused, and the old place is still held.
    full = sid("lab1", 1, "11:00", "lab")
    for c in ("i1", "i2"):
        await bk.book("demo", req(full, c), KIOSK)
    target = sid("r2", 1, "11:30")
    for c in ("j1", "j2", "j3", "j4"):
        await bk.book("demo", req(target, c), KIOSK)
    before = await snapshot(redis)
    with pytest.raises(SlotFull):
        await bk.reschedule(a["id"], target, KIOSK)
    assert await snapshot(redis) == before
    assert (await bk.get(a["id"]))["slot"] == sid("r2", 1, "10:00")
    assert await remaining(bk, sid("r2", 1, "10:00")) == 3


async def test_waitlist_gets_freed_places_in_order(bk: BookingEngine, redis: Redis,
                                                   clock: Clock) -> None:
    slot = sid("lab1", 2, "09:00", "lab")  # capacity 2
    a = (await bk.book("demo", req(slot, "k1"), KIOSK)).booking
    b = (await bk.book("demo", req(slot, "k2"), KIOSK)).booking
    w1 = (await bk.book("demo", req(slot, "w1", waitlist=True), KIOSK)).booking
    w2 = (await bk.book("demo", req(slot, "w2", waitlist=True), KIOSK)).booking
    assert (w1["status"], w1["waitlist_position"]) == ("waitlisted", 1)
    assert w2["waitlist_position"] == 2
    with pytest.raises(NotOffered):
        await bk.confirm(w1["id"], KIOSK)
    await bk.cancel(a["id"], KIOSK)
    assert (await stream_types(redis))[-2:] == ["booking_cancelled", "booking_offered"]
    got = await bk.get(w1["id"])
    assert got["status"] == "offered" and got["offer_until"]
    # A newcomer cannot take the place offered to the waitlist.
    with pytest.raises(SlotFull):
        await bk.book("demo", req(slot, "newcomer"), KIOSK)
    with pytest.raises(NotOffered):
        await bk.confirm(w2["id"], KIOSK)
    # w1 lets the offer lapse: it is lost (lazily), and the job offers the place to w2.
    clock.advance(901)
    with pytest.raises(OfferExpired):
        await bk.confirm(w1["id"], KIOSK)
    await bk.fire("demo", f"x|{w1['id']}|2")
    with pytest.raises(OfferExpired):  # the same answer after the job
        await bk.confirm(w1["id"], KIOSK)
    assert (await bk.get(w2["id"]))["status"] == "offered"
    assert (await bk.confirm(w2["id"], KIOSK))["status"] == "confirmed"
    # The lazy rule does not need that job: a lapsed hold is w3's turn at once.
    await bk.cancel(b["id"], KIOSK)  # offered to nobody: the waitlist is empty
    h = (await bk.book("demo", req(slot, "h", hold=True), KIOSK)).booking
    w3 = (await bk.book("demo", req(slot, "w3", waitlist=True), KIOSK)).booking
    assert w3["status"] == "waitlisted"
    clock.advance(601)
    assert (await bk.get(h["id"]))["status"] == "expired"
    assert (await bk.confirm(w3["id"], KIOSK))["status"] == "confirmed"


async def test_places_freed_at_once_are_offered_each_with_its_own_due_entry(
        bk: BookingEngine, redis: Redis, clock: Clock) -> None:
    slot = sid("lab1", 2, "09:00", "lab")  # capacity 2
    h = (await bk.book("demo", req(slot, "h", hold=True), KIOSK)).booking
    k = (await bk.book("demo", req(slot, "k"), KIOSK)).booking
    ws = [(await bk.book("demo", req(slot, f"w{i}", waitlist=True), KIOSK)).booking
          for i in range(3)]
    clock.advance(601)  # h's hold lapses (lazily: its place is free, nothing ran)
    await bk.cancel(k["id"], KIOSK)  # two places free in one call: two offers
    assert [(await bk.get(w["id"]))["status"] for w in ws] == ["offered", "offered",
                                                                "waitlisted"]
    # bk:due indexes every booking's next entry: each offer's lapse and w2's waitlist end;
    # h's lapse entry is still there (no job has fired it yet), k's entries are gone.
    index = {m.decode(): int(at) for m, at in await redis.zrange(
        keys.prefix("demo") + "bk:due", 0, -1, withscores=True)}
    offered = [await bk.raw(w["id"]) for w in ws[:2]]
    assert index == {f"x|{h['id']}|1": int((await bk.raw(h["id"]))["hold_until"]),
                     **{f"x|{o['id']}|2": int(o["offer_until"]) for o in offered},
                     f"x|{ws[2]['id']}|1": int((await bk.raw(ws[2]["id"]))["start_ms"])}


async def test_lua_and_the_pure_arithmetic_agree(demo: Engine, clock: Clock) -> None:
    """Random bookings, holds, cancellations and clock jumps across quota releases: before
    each attempt the pure ``quota.check_new`` on the counts Redis holds predicts exactly
    what the script does."""
    import contextlib
    import random

    from queueing.booking import quota
    from queueing.booking.model import (
        WEEKDAYS,
        BookingConfig,
        Quota,
        Resource,
        Session,
        Template,
    )
    from queueing.booking.schedule import slot_id
    from queueing.engine import Actor

    every: list = list(WEEKDAYS)  # type: ignore[type-arg]
    cfg = BookingConfig(
        resources=[Resource("r1", "R1", ["internal"])],
        templates=[Template("r1", "internal", every, [Session("00:00", "24:00", 8, 60)])],
        quotas=[Quota([Channel.PHONE], 0.25, 3 * 3600),
                Quota([Channel.WINDOW, Channel.KIOSK], 0.25, 3600)])
    bk = BookingEngine(demo)
    await bk.put_config("demo", cfg, Actor("admin", "test"))
    s = await bk.schedule("demo")
    base = (clock.now // 3600_000 + 2) * 3600_000
    slots = [s.slot(slot_id("r1", "internal", base + h * 3600_000)) for h in range(3)]
    rng = random.Random(11)
    booked: list[str] = []
    outcomes: dict[str | None, int] = {}
    for i in range(400):
        if rng.random() < 0.05:
            clock.advance(rng.uniform(60, 900))
        x = rng.choice(slots)
        if clock.now >= x.start_ms:
            continue
        if booked and rng.random() < 0.15:
            with contextlib.suppress(InvalidTransition):  # a lapsed hold or a past slot
                await bk.cancel(booked.pop(rng.randrange(len(booked))), KIOSK)
            continue
        channel = rng.choice(list(Channel))
        (c,) = await bk.counts("demo", [x], clock.now)
        predicted = quota.check_new(x, channel.value, c.taken, c.waitlist, clock.now)
        wl = rng.random() < 0.3
        try:
            b = await bk.book("demo", req(x.id, f"p{i}", channel, hold=rng.random() < 0.2,
                                          waitlist=wl), KIOSK)
            outcome = "waitlisted" if b.booking["status"] == "waitlisted" else None
            booked.append(b.booking["id"])
        except (SlotFull, ChannelQuota) as exc:
            outcome = exc.code
        expected = predicted.code if predicted else None
        if wl and expected == "slot_full":
            expected = "waitlisted"
        assert outcome == expected, (i, channel, c)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert outcomes.get(None) and outcomes.get("slot_full") and outcomes.get("channel_quota")
    assert outcomes.get("waitlisted")
