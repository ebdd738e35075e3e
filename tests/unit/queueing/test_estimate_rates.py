"""RateTracker windows, the time-of-day profile, and the sliding window itself."""

from __future__ import annotations

import pytest

from queueing.estimate import RateTracker, TrackerSettings
from queueing.estimate.profile import DAY_MS, ArrivalProfile
from queueing.estimate.window import Window

MIN = 60_000
T0 = 100 * DAY_MS + 9 * 60 * MIN  # 09:00 on day 100 (UTC)


def test_window_span_and_maxlen() -> None:
    w = Window(span_ms=10_000, maxlen=3)
    for t, v in ((0, 1.0), (1_000, 2.0), (2_000, 3.0), (3_000, 4.0)):
        w.add(t, v)
    assert len(w) == 3 and w.mean() == pytest.approx(3.0)
    w.evict(12_500)  # keeps events at or after 2_500
    assert len(w) == 1 and w.mean() == pytest.approx(4.0)
    w.evict(100_000)
    assert len(w) == 0 and w.mean() is None and w.total == 0.0


def test_window_cv2() -> None:
    w = Window(10**9)
    for v in (1.0, 2.0, 3.0, 4.0):
        w.add(0, v)
    var = sum((v - 2.5) ** 2 for v in (1, 2, 3, 4)) / 3
    assert w.cv2() == pytest.approx(var / 2.5**2)


def test_service_means_per_counter_shrink_towards_the_service() -> None:
    tr = RateTracker(TrackerSettings(prior_weight=5.0))
    for i in range(15):
        tr.observe_service("s", "fast", T0 + i, T0 + i + 200_000)
        tr.observe_service("s", "slow", T0 + i, T0 + i + 400_000)
    r = tr.rates("s", T0 + 3_600_000)
    assert r.mean_service_s == pytest.approx(300.0)
    assert r.counter_service_s["fast"] == pytest.approx((15 * 200 + 5 * 300) / 20)
    assert r.counter_any_s["slow"] == pytest.approx(400.0)
    assert r.cv2 == pytest.approx(100.0**2 * 30 / 29 / 300.0**2)


def test_arrival_rates_over_the_window() -> None:
    tr = RateTracker()
    for i in range(30):  # one walk-in a minute for 30 minutes, a priority ticket every 5
        tr.observe_arrival("s", 4, T0 + i * MIN)
        if i % 5 == 0:
            tr.observe_arrival("s", 1, T0 + i * MIN)
    r = tr.rates("s", T0 + 30 * MIN)
    assert r.arrivals_per_s[4] == pytest.approx(30 / 1800)  # the window: 30 min
    assert r.arrivals_per_s[1] == pytest.approx(6 / 1800)
    later = tr.rates("s", T0 + 50 * MIN)  # twenty quiet minutes later
    assert later.arrivals_per_s[4] == pytest.approx(10 / 1800)


def test_abandonment_hazard_is_cancels_per_waiting_second() -> None:
    tr = RateTracker(TrackerSettings(abandon_prior_s=0.0))  # events in the order they happen
    tr.observe_cancel("s", T0, T0 + 100_000)  # gave up after 100 s
    tr.observe_call("s", 4, T0, T0 + 300_000)  # waited 300 s
    tr.observe_call("s", 4, T0, T0 + 600_000)  # waited 600 s
    assert tr.rates("s", T0 + 700_000).abandon_hazard == pytest.approx(1 / 1000)


def test_one_early_cancellation_is_not_everyone_leaving() -> None:
    """The first thing a service saw was a ticket cancelled 2 s after it was taken: 1 per
    2 s of waiting made everyone ahead "abandon" at once in the fluid, and the 12th in line
    was told 1 s (1–8 min) instead of about 30 min. 8 h of prior exposure holds it."""
    tr = RateTracker()
    tr.observe_cancel("s", T0, T0 + 2_000)
    assert tr.rates("s", T0 + 3_000).abandon_hazard == pytest.approx(1 / (2 + 8 * 3600))
    # With a week of real waiting the prior is a rounding error.
    for i in range(200):
        tr.observe_call("s", 4, T0 + i * MIN, T0 + i * MIN + 600_000)
    assert tr.rates("s", T0 + 300 * MIN).abandon_hazard == pytest.approx(
        1 / (2 + 200 * 600 + 8 * 3600))


def test_rates_are_cached_until_an_event() -> None:
    tr = RateTracker()
    tr.observe_arrival("s", 4, T0)
    first = tr.rates("s", T0 + 1)
    assert tr.rates("s", T0 + 2) is first
    tr.observe_arrival("s", 4, T0 + 3)
    assert tr.rates("s", T0 + 4) is not first


def test_profile_learns_days_and_scales_by_today() -> None:
    tr = RateTracker()
    for day in range(3):  # each day: 12 priority tickets between 09:00 and 09:30
        for i in range(12):
            tr.observe_arrival("s", 1, T0 + day * DAY_MS + i * 2 * MIN)
    now = T0 + 3 * DAY_MS + 15 * MIN
    for i in range(4):  # today so far: 4 by 09:15 (a usual day has 6 by then)
        tr.observe_arrival("s", 1, T0 + 3 * DAY_MS + i * 3 * MIN)
    r = tr.rates("s", now)
    assert r.profile is not None and r.profile.days == 3
    bound, _ = r.profile.rates_above(4, frozenset({0}))
    slot = (9 * 60) // 30
    assert bound[slot] == pytest.approx(12 / 1800)
    assert bound[slot + 1] == 0.0
    assert r.level == pytest.approx((4 + 10) / (6 + 10))
    assert r.profile_weight == pytest.approx(3 / 6)


def test_profile_folds_only_complete_days() -> None:
    p = ArrivalProfile(slot_ms=30 * MIN)
    p.add(4, T0)
    assert p.days == 0 and p.expected(T0 - MIN, T0 + MIN) == 0.0
    p.add(4, T0 + DAY_MS)
    assert p.days == 1
    assert p.expected(T0 + DAY_MS, T0 + DAY_MS + 30 * MIN) == pytest.approx(1.0)


def test_window_keeps_only_its_span_without_being_asked() -> None:
    # A window nobody evicts (no question asked) still holds only its span, not its maxlen.
    w = Window(span_ms=60_000, maxlen=100_000)
    for t in range(0, 3_600_000, 1_000):
        w.add(t, 2.0)
    assert len(w) == 61 and w.first() == (3_539_000, 2.0)
    assert w.mean() == pytest.approx(2.0) and w.total == pytest.approx(122.0)
    w.add(10_000, 5.0)  # an older event (out of order) evicts nothing more
    assert len(w) == 62


def test_todays_arrivals_stay_within_their_span_before_the_profile_has_a_day() -> None:
    # Soak test, 2026-12-06: ``recent`` (today's level against the profile, 2 h) was trimmed
    # only once the site's profile had a past day, so a server's first day kept every
    # arrival of every service (up to 100,000 each): the hub's memory rose all day.
    tr = RateTracker()
    for i in range(5 * 3600):  # one a second for five hours of one day
        tr.observe_arrival("s", 0, T0 + i * 1000)
    s = tr._services["s"]
    assert s.profile.days == 0
    assert len(s.recent) <= tr.settings.level_span_ms // 1000 + 1
    assert len(s.arrivals[0]) <= tr.settings.arrival_span_ms // 1000 + 1
