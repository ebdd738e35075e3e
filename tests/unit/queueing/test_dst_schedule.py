"""Booking slots on daylight-saving days (America/New_York, 2026): slots last their stated
length in elapsed time, the repeated hour has slots, the skipped hour has none."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from queueing.booking.engine import Schedule
from queueing.booking.model import BookingConfig, Resource, Session, Template
from queueing.booking.schedule import (
    Slot,
    day_slots,
    find_slot,
    local_date,
    parse_slot_id,
    slots_between,
)

NY = ZoneInfo("America/New_York")
FALL_BACK = date(2026, 11, 1)  # 02:00 EDT -> 01:00 EST
SPRING_FORWARD = date(2026, 3, 8)  # 02:00 EST -> 03:00 EDT
MIN = 60_000


def cfg(*sessions: Session) -> BookingConfig:
    return BookingConfig(resources=[Resource("r1", "R1", ["internal"])],
                         templates=[Template("r1", "internal", ["sun"], list(sessions))])


def whole_day(slot_minutes: int = 30) -> BookingConfig:
    return cfg(Session("00:00", "24:00", 2, slot_minutes))


def utc_ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)


def label(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, NY).strftime("%H:%M %Z")


def assert_back_to_back(slots: list[Slot], minutes: int) -> None:
    assert all(s.end_ms - s.start_ms == minutes * MIN for s in slots)
    assert all(a.end_ms == b.start_ms for a, b in pairwise(slots))
    assert len({s.id for s in slots}) == len(slots)


def test_fall_back_repeated_hour_has_its_slots() -> None:
    slots = day_slots(whole_day(), FALL_BACK, NY)
    assert len(slots) == 50  # 25 hours
    assert_back_to_back(slots, 30)
    assert [label(s.start_ms) for s in slots[1:7]] == [
        "00:30 EDT", "01:00 EDT", "01:30 EDT", "01:00 EST", "01:30 EST", "02:00 EST"]
    assert [s.id for s in slots[2:6]] == [
        "r1.internal.20261101T0500Z", "r1.internal.20261101T0530Z",
        "r1.internal.20261101T0600Z", "r1.internal.20261101T0630Z"]
    # the 01:30 EDT slot ends at 01:00 EST (30 minutes), not at 02:00 EST (90)
    assert slots[3].end_ms == utc_ms(2026, 11, 1, 6, 0)
    assert slots[0].start_ms == utc_ms(2026, 11, 1, 4, 0)
    assert slots[-1].end_ms == utc_ms(2026, 11, 2, 5, 0)  # 24:00 EST


def test_spring_forward_gap_has_no_slots_and_the_slot_before_it_lasts_30_minutes() -> None:
    slots = day_slots(whole_day(), SPRING_FORWARD, NY)
    assert len(slots) == 46  # 23 hours
    assert_back_to_back(slots, 30)
    assert [label(s.start_ms) for s in slots[2:5]] == ["01:00 EST", "01:30 EST", "03:00 EDT"]
    s = slots[3]
    assert s.id == "r1.internal.20260308T0630Z"
    assert (s.start_ms, s.end_ms) == (utc_ms(2026, 3, 8, 6, 30), utc_ms(2026, 3, 8, 7, 0))
    assert not any(label(x.start_ms).startswith("02:") for x in slots)


@pytest.mark.parametrize("day", [FALL_BACK, SPRING_FORWARD])
def test_new_slots_are_found_by_id(day: date) -> None:
    c = whole_day()
    schedule = Schedule(c, "v1", NY, time.monotonic())
    for s in day_slots(c, day, NY):
        assert parse_slot_id(s.id) == ("r1", "internal", s.start_ms)
        assert local_date(s.start_ms, NY) == day
        assert find_slot(c, s.id, NY) == s
        assert schedule.slot(s.id) == s


def test_slots_between_across_the_repeated_hour() -> None:
    start, until = utc_ms(2026, 11, 1, 5, 0), utc_ms(2026, 11, 1, 7, 0)  # 01:00 EDT-02:00 EST
    found = slots_between(whole_day(), start, until, NY)
    assert [label(s.start_ms) for s in found] == ["01:00 EDT", "01:30 EDT", "01:00 EST",
                                                  "01:30 EST"]


@pytest.mark.parametrize("day", [FALL_BACK, SPRING_FORWARD])
@pytest.mark.parametrize("slot_minutes", [10, 15, 20, 25, 30, 45, 60, 90, 120, 180])
def test_slots_keep_their_length_and_never_overlap(day: date, slot_minutes: int) -> None:
    c = cfg(Session("00:00", "06:00", 1, slot_minutes), Session("12:00", "24:00", 1,
                                                                  slot_minutes))
    slots = day_slots(c, day, NY)
    assert slots
    assert all(s.end_ms - s.start_ms == slot_minutes * MIN for s in slots)
    assert all(a.end_ms <= b.start_ms for a, b in pairwise(slots))
    # within the session as the clinic's clock shows it: 00:00 to 06:00 local
    first = [s for s in slots if local_date(s.start_ms, NY) == day
             and datetime.fromtimestamp(s.start_ms / 1000, NY).hour < 6]
    assert first[0].start_ms >= int(datetime(day.year, day.month, day.day, tzinfo=NY)
                                    .timestamp() * 1000)
    assert first[-1].end_ms <= int(datetime(day.year, day.month, day.day, 6, tzinfo=NY)
                                   .timestamp() * 1000)


def test_a_slot_running_past_the_session_end_in_elapsed_time_is_dropped() -> None:
    # 00:00-03:00 on the spring-forward day is two real hours: one 90-minute slot fits.
    slots = day_slots(cfg(Session("00:00", "03:00", 1, 90)), SPRING_FORWARD, NY)
    assert [label(s.start_ms) for s in slots] == ["00:00 EST"]
    # On the fall-back day it is four: the first 01:30 would run into the second.
    slots = day_slots(cfg(Session("00:00", "03:00", 1, 90)), FALL_BACK, NY)
    assert [label(s.start_ms) for s in slots] == ["00:00 EDT", "01:30 EST"]


def test_session_ending_in_the_repeated_hour_runs_to_its_second_occurrence() -> None:
    slots = day_slots(cfg(Session("00:00", "01:30", 1, 30)), FALL_BACK, NY)
    assert [label(s.start_ms) for s in slots] == ["00:00 EDT", "00:30 EDT", "01:00 EDT",
                                                  "01:00 EST"]
    assert_back_to_back(slots[:3], 30)


def test_session_ending_in_the_skipped_hour_ends_at_the_jump() -> None:
    # 02:30 never shows on the clock: the session ends when it jumps to 03:00 EDT.
    slots = day_slots(cfg(Session("00:00", "02:30", 1, 60)), SPRING_FORWARD, NY)
    assert [label(s.start_ms) for s in slots] == ["00:00 EST", "01:00 EST"]
    assert slots[-1].end_ms == utc_ms(2026, 3, 8, 7, 0)
    slots = day_slots(cfg(Session("01:00", "02:30", 1, 90)), SPRING_FORWARD, NY)
    assert slots == []  # 01:00 EST + 90 min = 03:30 EDT, after the session ended


def _reference(c: BookingConfig, day: date, tz: ZoneInfo) -> list[tuple[str, int, int]]:
    """Wall-clock slots as every ordinary day has them."""
    out = []
    for s in c.templates[0].sessions:
        h0, m0 = map(int, s.start.split(":"))
        h1, m1 = map(int, s.end.split(":"))
        m, last = h0 * 60 + m0, h1 * 60 + m1
        while m + s.slot_minutes <= last:
            start = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=m)
            ms = int(start.timestamp() * 1000)
            out.append((f"r1.internal.{start.astimezone(UTC):%Y%m%dT%H%MZ}", ms,
                        ms + s.slot_minutes * MIN))
            m += s.slot_minutes
    return sorted(out, key=lambda x: x[1])


@pytest.mark.parametrize("day", [date(2026, 3, 1), date(2026, 3, 15), date(2026, 10, 25),
                                 date(2026, 11, 8), SPRING_FORWARD, FALL_BACK])
def test_ordinary_hours_are_unchanged(day: date) -> None:
    # On every Sunday, and on the change days for sessions away from the night hours,
    # slots are the wall-clock ones, ids and times as before.
    c = cfg(Session("08:00", "12:00", 3, 20), Session("13:30", "17:00", 1, 45),
            Session("18:00", "24:00", 2, 30))
    got = [(s.id, s.start_ms, s.end_ms) for s in day_slots(c, day, NY)]
    assert got == _reference(c, day, NY)
    assert day_slots(c, day, NY)[0].capacity == 3
