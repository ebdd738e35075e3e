"""Slots from templates and exceptions: pure, time zone passed in."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import msgspec
import pytest

from queueing.booking.model import (
    BookingConfig,
    ExtraSession,
    Quota,
    Resource,
    ScheduleException,
    Session,
    Template,
    validate_booking,
)
from queueing.booking.schedule import (
    GENERAL,
    day_slots,
    find_slot,
    parse_slot_id,
    slot_id,
    slots_between,
)
from queueing.demo import demo_booking, demo_site
from queueing.errors import BadRequest
from queueing.model import Channel

SH = ZoneInfo("Asia/Shanghai")
PARIS = ZoneInfo("Europe/Paris")


def cfg(**kw: object) -> BookingConfig:
    base: dict[str, object] = {
        "resources": [Resource("r1", "R1", ["internal"]), Resource("r2", "R2", ["internal"])],
        "templates": [Template("r1", "internal", ["mon", "wed"],
                               [Session("09:00", "10:00", 3, 20)])],
    }
    base.update(kw)
    return BookingConfig(**base)  # type: ignore[arg-type]


def hhmm(ms: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ms / 1000, tz).strftime("%H:%M")


def test_templates_apply_on_their_weekdays() -> None:
    monday = date(2026, 11, 16)
    slots = day_slots(cfg(), monday, SH)
    assert [hhmm(s.start_ms, SH) for s in slots] == ["09:00", "09:20", "09:40"]
    assert all(s.end_ms - s.start_ms == 20 * 60_000 and s.capacity == 3 for s in slots)
    assert day_slots(cfg(), date(2026, 11, 17), SH) == []  # a Tuesday


def test_slot_ids_are_stable_and_parse_back() -> None:
    s = day_slots(cfg(), date(2026, 11, 16), SH)[0]
    assert s.id == "r1.internal.20261116T0100Z"
    assert parse_slot_id(s.id) == ("r1", "internal", s.start_ms)
    assert slot_id("r1", "internal", s.start_ms) == s.id
    assert find_slot(cfg(), s.id, SH) == s
    assert find_slot(cfg(), "r1.internal.20261117T0100Z", SH) is None
    assert parse_slot_id("nonsense") is None and parse_slot_id("a.b.2026") is None


def test_exceptions_close_days_and_add_sessions() -> None:
    c = cfg(exceptions=[
        ScheduleException("2026-11-16", closed=True, reason="holiday"),
        ScheduleException("2026-11-18", resource="r1", closed=True),
        ScheduleException("2026-11-18", resource="r2",
                          sessions=[ExtraSession("internal", "18:00", "19:00", 2, 30)]),
    ])
    assert day_slots(c, date(2026, 11, 16), SH) == []
    wed = day_slots(c, date(2026, 11, 18), SH)
    assert [(s.resource, hhmm(s.start_ms, SH)) for s in wed] == [("r2", "18:00"),
                                                                 ("r2", "18:30")]


def test_validity_window_and_midnight_end() -> None:
    c = cfg(templates=[Template("r1", "internal", ["mon"], [Session("23:00", "24:00", 1, 30)],
                                valid_from="2026-11-20")])
    assert day_slots(c, date(2026, 11, 16), SH) == []
    late = day_slots(c, date(2026, 11, 23), SH)
    assert [hhmm(s.start_ms, SH) for s in late] == ["23:00", "23:30"]
    assert hhmm(late[-1].end_ms, SH) == "00:00"


def test_daylight_saving_gap_is_skipped() -> None:
    # Paris jumps from 02:00 to 03:00 on 2026-03-29: the 02:xx slots do not exist.
    c = cfg(templates=[Template("r1", "internal", ["sun"], [Session("01:00", "04:00", 1, 30)])])
    slots = day_slots(c, date(2026, 3, 29), PARIS)
    assert [hhmm(s.start_ms, PARIS) for s in slots] == ["01:00", "01:30", "03:00", "03:30"]
    # 01:30 CET runs its 30 minutes to 03:00 CEST. Ids stay unique.
    assert len({s.id for s in slots}) == len(slots)


def test_quota_groups_per_slot() -> None:
    c = cfg(quotas=[Quota([Channel.PHONE, Channel.WINDOW], 0.34, 3600)])
    s = day_slots(c, date(2026, 11, 16), SH)[0]
    (q,) = s.quotas
    assert (q.group, q.reserved, q.release_ms) == ("q0", 1, s.start_ms - 3600_000)
    assert s.group_of("phone") == "q0" and s.group_of("app") == GENERAL
    assert s.groups == (GENERAL, "q0")


def test_slots_between_covers_the_period() -> None:
    start = int(datetime(2026, 11, 16, 9, 10, tzinfo=SH).timestamp() * 1000)
    found = slots_between(cfg(), start, start + 3 * 86400_000, SH)
    assert [hhmm(s.start_ms, SH) for s in found] == ["09:00", "09:20", "09:40", "09:00",
                                                     "09:20", "09:40"]


@pytest.mark.parametrize("change, field", [
    ({"templates": [Template("ghost", "internal", ["mon"], [Session("09:00", "10:00", 1)])]},
     "templates[0]"),
    ({"templates": [Template("r1", "lab", ["mon"], [Session("09:00", "10:00", 1)])]},
     "templates[0]"),
    ({"templates": [Template("r1", "internal", ["mon"], [Session("09:00", "09:10", 1, 15)])]},
     "templates[0]"),
    ({"quotas": [Quota([Channel.PHONE], 0.5), Quota([Channel.PHONE], 0.1)]}, "quotas"),
    ({"quotas": [Quota([Channel.PHONE], 0.6), Quota([Channel.APP], 0.6)]}, "quotas"),
    ({"resources": [Resource("r1", "R", ["internal"]), Resource("r1", "R", ["internal"])]},
     "resources"),
    ({"exceptions": [ScheduleException("2026-02-30", closed=True)]}, "exceptions[0]"),
])
def test_bad_schedules_are_refused(change: dict[str, object], field: str) -> None:
    with pytest.raises(BadRequest) as err:
        validate_booking(cfg(**change), demo_site())
    assert err.value.details.get("field") == field


def test_documents_refuse_unknown_fields() -> None:
    raw = msgspec.json.encode(cfg())
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(raw[:-1] + b',"surprise":1}', type=BookingConfig)


def test_demo_has_slots_every_day() -> None:
    c = demo_booking()
    validate_booking(c, demo_site())
    for offset in range(8):
        d = date(2026, 11, 16 + offset)
        lab = [s for s in day_slots(c, d, SH) if s.service == "lab"]
        assert len(lab) == 288  # around the clock: today has bookable slots until 23:55
