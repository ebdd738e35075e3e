"""A booking's view says when an early check-in takes its appointment's place
(``promote_at``: appointment − ``appointment_early_s``), so the person's page can say, in
the site's local time, what happens if they check in before then, and after checking in
early, when their ticket moves up."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from queueing.booking.views import booking

TZ = ZoneInfo("Asia/Shanghai")
START = 1_795_050_000_000  # 2026-11-19T09:00:00+08:00
MIN = 60_000


def raw(**kw: Any) -> dict[str, Any]:
    return {"id": "demo.b1", "code": "ABCDEF", "status": "confirmed", "slot": "s1",
            "service": "internal", "resource": "r1", "start_ms": START,
            "end_ms": START + 15 * MIN, "customer": "+8613800000000", "channel": "app",
            "created_ms": START - 86_400_000} | kw


def test_a_confirmed_booking_says_when_its_place_begins() -> None:
    v = booking(raw(), TZ, START - 60 * MIN, 900, None, 600)
    assert v["promote_at"] == "2026-11-19T08:50:00+08:00"
    assert "promote_at" not in booking(raw(), TZ, START - 60 * MIN, 900)  # no policy given
    assert "promote_at" not in booking(raw(), TZ, START - 60 * MIN, 900, None, 0)


def test_only_an_early_check_in_keeps_it() -> None:
    def checked_in(at_ms: int, late: int = 0) -> dict[str, Any]:
        v = booking(raw(status="checked_in", ticket="demo.t1", checked_in_ms=at_ms, late=late),
                    TZ, at_ms, 900, None, 600)
        return v
    assert checked_in(START - 40 * MIN)["promote_at"] == "2026-11-19T08:50:00+08:00"
    assert "promote_at" not in checked_in(START - 5 * MIN)  # on time: its place at once
    assert "promote_at" not in checked_in(START + 30 * MIN, late=1)  # late: a walk-in
    cancelled = booking(raw(status="cancelled"), TZ, START - 60 * MIN, 900, None, 600)
    assert "promote_at" not in cancelled
