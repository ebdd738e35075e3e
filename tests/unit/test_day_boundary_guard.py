"""The guard that keeps a test from running across a local day's turn (tests/conftest.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.conftest import seconds_to_boundary

UTC = ZoneInfo("UTC")


def test_seconds_to_the_next_local_day_boundary() -> None:
    # 15:59:30 UTC is 23:59:30 in Shanghai: its midnight is 30 s away.
    assert seconds_to_boundary(datetime(2026, 12, 6, 15, 59, 30, tzinfo=UTC)) == 30
    # 18:59:00 UTC is 02:59 in Shanghai: the demo's 03:00 day close is a minute away.
    assert seconds_to_boundary(datetime(2026, 12, 6, 18, 59, tzinfo=UTC)) == 60
    # Just after a boundary, the next is hours away (New York's midnight at 05:00 UTC).
    assert seconds_to_boundary(datetime(2026, 12, 6, 16, 0, 1, tzinfo=UTC)) == 3 * 3600 - 1
    assert seconds_to_boundary(datetime(2026, 12, 6, 4, 59, tzinfo=UTC)) == 60
    # Amsterdam (UTC+1 in December) and London (UTC+0, with UTC) midnights.
    assert seconds_to_boundary(datetime(2026, 12, 6, 22, 58, tzinfo=UTC)) == 120
    assert seconds_to_boundary(datetime(2026, 12, 6, 23, 59, 59, tzinfo=UTC)) == 1
    # Summer: Amsterdam's midnight is 22:00 UTC, New York's 04:00 UTC.
    assert seconds_to_boundary(datetime(2026, 7, 1, 21, 59, tzinfo=UTC)) == 60
    assert seconds_to_boundary(datetime(2026, 7, 1, 3, 59, 30, tzinfo=UTC)) == 30
