"""Booking rules: lazy statuses, arrival, codes, reminders, alternatives."""

from __future__ import annotations

import pytest

from queueing.booking import rules
from queueing.booking.model import BookingPolicy
from queueing.booking.rules import Alternative, Arrival
from queueing.booking.schedule import Slot
from queueing.errors import InvalidTransition, SlotClosed

H = 3600_000
P = BookingPolicy(early_check_in_s=3600, grace_s=900, late_walk_in=True)


def test_effective_status_needs_no_job() -> None:
    held = {"status": "held", "hold_until": 100, "start_ms": 10 * H}
    assert rules.effective_status(held, 99, 900) == "held"
    assert rules.effective_status(held, 100, 900) == "expired"
    conf = {"status": "confirmed", "start_ms": 10 * H}
    assert rules.effective_status(conf, 10 * H + 899_999, 900) == "confirmed"
    assert rules.effective_status(conf, 10 * H + 900_000, 900) == "no_show"
    wl = {"status": "waitlisted", "start_ms": 10 * H}
    assert rules.effective_status(wl, 10 * H, 900) == "expired"
    off = {"status": "offered", "offer_until": 5, "start_ms": 10 * H}
    assert rules.effective_status(off, 5, 900) == "expired"


def test_transitions_have_names() -> None:
    rules.check(rules.Op.CANCEL, rules.B.HELD)
    with pytest.raises(InvalidTransition):
        rules.check(rules.Op.CANCEL, rules.B.CHECKED_IN)
    with pytest.raises(InvalidTransition):
        rules.check(rules.Op.CHECK_IN, rules.B.CANCELLED)
    assert rules.sources(rules.Op.CHECK_IN) == ["checked_in", "confirmed", "no_show"]


@pytest.mark.parametrize("now, same_day, policy, expect", [
    (10 * H - H - 1, True, P, Arrival.TOO_EARLY),
    (10 * H - H, True, P, Arrival.ON_TIME),
    (10 * H + 899_999, True, P, Arrival.ON_TIME),
    (10 * H + 900_000, True, P, Arrival.WALK_IN),
    (10 * H + 900_000, False, P, Arrival.TOO_LATE),
    (10 * H + 900_000, True, BookingPolicy(late_walk_in=False), Arrival.TOO_LATE),
])
def test_arrival(now: int, same_day: bool, policy: BookingPolicy, expect: Arrival) -> None:
    assert rules.arrival(10 * H, now, same_day, policy) == expect


def test_booking_window() -> None:
    s = Slot("r.s.x", "r", "s", 10 * H, 11 * H, 1)
    rules.check_bookable(s, 10 * H - 1, P)
    with pytest.raises(SlotClosed):
        rules.check_bookable(s, 10 * H, P)
    with pytest.raises(SlotClosed):
        rules.check_bookable(s, 10 * H - 2 * H, BookingPolicy(book_until_s=3 * 3600))
    with pytest.raises(SlotClosed):
        rules.check_bookable(s, 10 * H - 31 * 24 * H, P)


def test_codes_and_qr_payloads() -> None:
    code = rules.new_code()
    assert len(code) == 6 and not set(code) & set("01IO")
    assert rules.parse_code(code.lower()) == (None, code)
    bid = "demo.0123456789ab"
    assert rules.parse_code(rules.qr_payload(bid, code)) == (bid, code)
    assert rules.parse_code("SBK1:demo.0123456789ab:000000") is None
    assert rules.parse_code("hello") is None


def test_reminders_in_the_future_only() -> None:
    assert rules.reminders(100 * H, [86400, 7200], 99 * H) == []
    assert rules.reminders(100 * H, [86400, 7200], 90 * H) == [(7200, 98 * H)]
    assert rules.reminders(100 * H, [7200, 86400], 0) == [(86400, 76 * H), (7200, 98 * H)]


def slot(res: str, start_h: float, svc: str = "s") -> Slot:
    return Slot(f"{res}.{svc}.{start_h}", res, svc, int(start_h * H), int((start_h + 0.5) * H), 4)


def test_alternatives_nearest_first_other_resources_first() -> None:
    cands = [Alternative(slot("r1", 9), 2), Alternative(slot("r2", 9), 1),
             Alternative(slot("r2", 10), 3), Alternative(slot("r1", 12), 1),
             Alternative(slot("r3", 9.5), 0), Alternative(slot("r3", 8, "other"), 5),
             Alternative(slot("r2", 7), 2)]
    best = rules.rank_alternatives("s", "r1", 9 * H, cands, [(8 * H, 11 * H)], 7 * H, 3)
    assert [a.slot.id for a in best] == ["r2.s.9", "r2.s.10", "r1.s.12"]
