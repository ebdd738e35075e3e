"""The start-of-shift settle (dispatch/settle.py): a log-in's pass waits while others due at
this shift start are still offline."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dispatch.model import DispatchPolicy
from dispatch.settle import online_settle_s

TZ = ZoneInfo("Europe/Amsterdam")
POLICY = DispatchPolicy()


def at(hh: int, mm: int) -> int:
    return int(datetime(2026, 3, 2, hh, mm, tzinfo=TZ).timestamp() * 1000)


def tech(status: str, start: str = "08:00", end: str = "18:00") -> dict[str, str]:
    return {"status": status, "shift_start": start, "shift_end": end}


def test_waits_while_others_due_now_are_offline() -> None:
    techs = {"a": tech("available"), "b": tech("offline")}
    assert online_settle_s(at(7, 58), techs, TZ, POLICY) == 30.0
    assert online_settle_s(at(8, 9), techs, TZ, POLICY) == 30.0


def test_at_once_when_nobody_else_is_due() -> None:
    assert online_settle_s(at(8, 0), {"a": tech("available"), "b": tech("available")},
                           TZ, POLICY) == 0.0
    # Mid-morning: b's shift started long ago (it is late, not part of a burst).
    assert online_settle_s(at(10, 0), {"b": tech("offline")}, TZ, POLICY) == 0.0
    # Someone on a later shift, or round the clock, is no burst either.
    assert online_settle_s(at(8, 0), {"c": tech("offline", "14:00", "22:00")}, TZ, POLICY) == 0.0
    assert online_settle_s(at(0, 2), {"d": tech("offline", "00:00", "24:00")}, TZ, POLICY) == 0.0


def test_off_by_policy() -> None:
    assert online_settle_s(at(8, 0), {"b": tech("offline")}, TZ,
                           DispatchPolicy(online_settle_s=0)) == 0.0
