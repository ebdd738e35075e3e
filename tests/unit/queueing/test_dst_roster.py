"""Overnight counter shifts across daylight-saving changes (America/New_York, 2026): a
22:00-06:00 shift closes at 06:00 local time of the next day."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from queueing.demo import demo_site
from queueing.model import SiteConfig
from queueing.roster import roster_changes

NY = ZoneInfo("America/New_York")


def site(*shifts: tuple[str, str]) -> SiteConfig:
    cfg = demo_site()
    cfg.timezone = "America/New_York"
    cfg.counters = cfg.counters[:1]
    cfg.counters[0].shifts = list(shifts)
    return cfg


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=NY).timestamp() * 1000)


def local(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, NY).strftime("%Y-%m-%d %H:%M %Z")


@pytest.mark.parametrize("now, close", [
    (ms(2026, 3, 7, 23, 0), "2026-03-08 06:00 EDT"),  # spring forward: 7 hours later
    (ms(2026, 3, 8, 1, 0), "2026-03-08 06:00 EDT"),
    (ms(2026, 10, 31, 23, 0), "2026-11-01 06:00 EST"),  # fall back: 8 hours later
    (ms(2026, 11, 1, 1, 30), "2026-11-01 06:00 EST"),
    (ms(2026, 11, 7, 23, 0), "2026-11-08 06:00 EST"),  # an ordinary night
])
def test_overnight_shift_closes_at_local_end_time(now: int, close: str) -> None:
    changes = roster_changes(site(("22:00", "06:00")), now)
    assert [(local(c.at_ms), c.open) for c in changes] == [(close, False)]


def test_overnight_shift_opens_and_closes_on_the_change_days() -> None:
    cfg = site(("22:00", "06:00"))
    spring = roster_changes(cfg, ms(2026, 3, 7, 12, 0), horizon_ms=24 * 3_600_000)
    assert [(local(c.at_ms), c.open) for c in spring] == [
        ("2026-03-07 22:00 EST", True), ("2026-03-08 06:00 EDT", False)]
    assert spring[1].at_ms - spring[0].at_ms == 7 * 3_600_000
    fall = roster_changes(cfg, ms(2026, 10, 31, 12, 0), horizon_ms=24 * 3_600_000)
    assert [(local(c.at_ms), c.open) for c in fall] == [
        ("2026-10-31 22:00 EDT", True), ("2026-11-01 06:00 EST", False)]
    assert fall[1].at_ms - fall[0].at_ms == 9 * 3_600_000


def test_day_shift_is_unchanged() -> None:
    changes = roster_changes(site(("08:00", "12:00")), ms(2026, 11, 1, 7, 0))
    assert [(local(c.at_ms), c.open) for c in changes] == [
        ("2026-11-01 08:00 EST", True), ("2026-11-01 12:00 EST", False)]
