"""A counter closed inside its own planned shift is due to open soon, not at its next shift.

The reviewer's government centre: counters on ``08:30-12:00, 13:30-17:00``; at 08:33 every
counter of the service still closed (clerks a few minutes late pressing Open). The kiosk
ticket was told 17 570 s (284-293 min, the time to the 13:30 shift).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from queueing.demo import demo_site
from queueing.estimate import CounterView, RateTracker, RosterChange, TicketView, estimate
from queueing.estimate.predictor import DUE_S, due_counters, due_delay, model_range
from queueing.estimate.rates import ServiceRates
from queueing.model import Counter, SiteConfig
from queueing.roster import roster_changes, shift_starts

TZ = ZoneInfo("Asia/Shanghai")
SHIFTS = [("08:30", "12:00"), ("13:30", "17:00")]
NOW = 1_000_000_000


def ms(hour: int, minute: int) -> int:
    return int(datetime(2026, 12, 7, hour, minute, tzinfo=TZ).timestamp() * 1000)


def site() -> SiteConfig:
    cfg = demo_site()
    cfg.counters = [Counter(str(i), {"en": f"Counter {i}"}, ["ss"], shifts=list(SHIFTS))
                    for i in (1, 2, 3)]
    return cfg


def kiosk_view(now_ms: int, ahead: int = 0, open_ids: tuple[str, ...] = ()) -> TicketView:
    counters = tuple(CounterView(c.id, open=c.id in open_ids, busy=c.id in open_ids)
                     for c in site().counters)
    return TicketView(now_ms=now_ms, service="ss", rank=4, ahead=ahead, counters=counters,
                      roster=roster_changes(site(), now_ms), queue_len=ahead + 1)


def rates(counters: tuple[str, ...] = ("1", "2", "3"), mean_s: float = 300.0) -> ServiceRates:
    return ServiceRates(mean_s, 1.0, {c: mean_s for c in counters},
                        {c: mean_s for c in counters}, {}, 0.0)


def test_the_roster_inside_a_shift_starts_with_its_end() -> None:
    # What the estimator reads "inside a shift" from: the next planned change is a close.
    first = roster_changes(site(), ms(8, 33))[:3]
    assert [(c.at_ms, c.open) for c in first] == [(ms(12, 0), False)] * 3


def test_kiosk_ticket_at_0833_with_every_counter_closed_waits_minutes() -> None:
    view = kiosk_view(ms(8, 33))
    assert due_counters(view) == ["1", "2", "3"]
    est = estimate(view, RateTracker())
    assert est is not None
    # Was 17 570 s (low 17 229, high 17 654): until the 13:30 shift.
    assert est.high_s < 1800.0
    assert 0.0 < est.low_s < est.wait_s < est.high_s


def test_due_counters_open_at_the_overdue_delay_with_a_wider_range() -> None:
    r = rates()
    due = model_range(kiosk_view(ms(8, 33), ahead=4), r)
    # The same counters known (announced) to open in exactly DUE_S[1] seconds.
    at = ms(8, 33) + round(DUE_S[1] * 1000)
    known = TicketView(now_ms=ms(8, 33), service="ss", rank=4, ahead=4,
                       counters=kiosk_view(ms(8, 33)).counters, queue_len=5,
                       roster=tuple(RosterChange(at, c, True) for c in "123"))
    sure = model_range(known, r)
    assert due is not None and sure is not None
    assert due[1] == pytest.approx(sure[1])
    assert due[0] < sure[0] and due[2] > sure[2]


def test_an_open_counter_inside_its_shift_is_unchanged() -> None:
    view = kiosk_view(ms(8, 33), ahead=4, open_ids=("1", "2", "3"))
    assert due_counters(view) == []
    bare = TicketView(now_ms=view.now_ms, service="ss", rank=4, ahead=4,
                      counters=view.counters, queue_len=5)
    assert model_range(view, rates()) == model_range(bare, rates())


def test_a_closed_counter_between_shifts_waits_for_its_next_shift() -> None:
    # At 12:10 (lunch) the next change is the 13:30 start: not due, opens then.
    view = kiosk_view(ms(12, 10))
    assert due_counters(view) == []
    r = model_range(view, rates())
    assert r is not None and r[1] == pytest.approx((ms(13, 30) - ms(12, 10)) / 1000)


def test_a_shift_ending_before_the_counter_would_open_does_not_count() -> None:
    # At 11:57 the shift ends in 3 minutes, before the due counter would open.
    view = kiosk_view(ms(11, 57))
    r = model_range(view, rates())
    assert r is not None and r[1] == pytest.approx((ms(13, 30) - ms(11, 57)) / 1000)


def test_an_announced_pause_return_is_not_counted_twice() -> None:
    # A paused counter with an announced return: that return, not a due opening.
    roster = (RosterChange(NOW + 600_000, "a", True), RosterChange(NOW + 3_600_000, "a", False))
    view = TicketView(now_ms=NOW, service="ss", rank=4, ahead=0, queue_len=1,
                      counters=(CounterView("a", open=False, busy=False),), roster=roster)
    assert due_counters(view) == []
    r = model_range(view, rates(("a",)))
    assert r is not None and r[1] == pytest.approx(600.0)


def late_view(now_ms: int, since_ms: int | None, ahead: int = 0) -> TicketView:
    counters = tuple(CounterView(c.id, open=False, busy=False, closed_since_ms=since_ms)
                     for c in site().counters)
    return TicketView(now_ms=now_ms, service="ss", rank=4, ahead=ahead, counters=counters,
                      roster=roster_changes(site(), now_ms), queue_len=ahead + 1)


def test_a_counter_nobody_staffs_drifts_out_of_the_estimate() -> None:
    # At 10:30 no clerk has opened since the 08:30 shift start: not "in 5 minutes" any
    # more. Two hours late, it is not expected before the 12:00 shift end either, so the
    # estimate is the afternoon shift's (was 5 min all morning).
    unknown = model_range(late_view(ms(10, 30), None), rates())
    assert unknown is not None and unknown[1] < 900.0
    late = model_range(late_view(ms(10, 30), ms(8, 30)), rates())
    assert late is not None and late[1] == pytest.approx((ms(13, 30) - ms(10, 30)) / 1000)


def test_a_few_minutes_late_is_the_documented_guess() -> None:
    # Late 3 minutes (at or under DUE_S[1]): exactly as before lateness was known.
    assert model_range(late_view(ms(8, 33), ms(8, 30), 4), rates()) == \
        model_range(late_view(ms(8, 33), None, 4), rates())


def test_the_due_delay_grows_with_the_lateness() -> None:
    v = late_view(ms(9, 10), ms(8, 30))  # 40 minutes late
    c = v.counters[0]
    assert [due_delay(v, c, q) for q in (0, 1, 2)] == pytest.approx(
        [DUE_S[0] * 8, 2400.0, DUE_S[2] * 8])
    # Nobody ahead: the first counter to open calls the ticket at once.
    assert model_range(v, rates()) == pytest.approx((480.0, 2400.0, 7200.0))


def test_shift_starts_of_counters_on_shift() -> None:
    cfg = site()
    assert shift_starts(cfg, ms(8, 33)) == {"1": ms(8, 30), "2": ms(8, 30), "3": ms(8, 30)}
    assert shift_starts(cfg, ms(12, 10)) == {}  # lunch: nobody on shift
    assert shift_starts(cfg, ms(13, 30))["1"] == ms(13, 30)
    cfg.counters[0].shifts = [("22:00", "06:00")]  # a night shift, past midnight
    assert shift_starts(cfg, ms(2, 0)) == {"1": ms(22, 0) - 86_400_000}


def closing_at(day_close: str | None) -> SiteConfig:
    cfg = site()
    cfg.policy = msgspec.structs.replace(cfg.policy, day_close=day_close)
    return cfg


def test_no_estimate_past_the_day_close() -> None:
    """At 22:53, counters closed for the night (next shift 08:30) and the day closing at
    03:00: the ticket will be cancelled unserved, so there is no wait to announce (was
    "about 588 min" with "the counters are on a break, you keep your place")."""
    now = ms(22, 53)
    counters = tuple(CounterView(c.id, open=False, busy=False) for c in site().counters)

    def view(cfg: SiteConfig) -> TicketView:
        return TicketView(now_ms=now, service="ss", rank=4, ahead=2, counters=counters,
                          roster=roster_changes(cfg, now), queue_len=3)

    assert roster_changes(closing_at("03:00"), now) == ()
    assert estimate(view(closing_at("03:00")), RateTracker()) is None
    # No day close (a site that keeps its queue overnight): the morning shift's wait.
    overnight = estimate(view(closing_at(None)), RateTracker())
    assert overnight is not None and overnight.wait_s > (ms(8, 30) + 86_400_000 - now) / 1000 - 60
    # The day closing at 23:30 still leaves an afternoon-to-evening roster intact before it.
    assert [c.open for c in roster_changes(closing_at("23:30"), ms(11, 0))] == [False] * 3 + [
        True] * 3 + [False] * 3


def test_counters_on_no_roster_stop_at_the_day_close() -> None:
    """16:45, the day closing at 17:00, three counters open on no roster (staff open and
    close them by hand) and calls every 100 s: the first few tickets are reached before the
    close, with a range that ends at the close rather than "up to 720 min"; one 30 places
    back is not reached at all, so it has no estimate (it was told "about 50 min" and
    cancelled at 17:00)."""
    now = ms(16, 45)
    counters = tuple(CounterView(c, open=True, busy=True) for c in ("1", "2", "3"))

    def est(ahead: int, close: int | None) -> Any:
        view = TicketView(now_ms=now, service="ss", rank=4, ahead=ahead, counters=counters,
                          queue_len=ahead + 1, close_at_ms=close)
        return model_range(view, rates())

    assert est(30, None) is not None and est(30, None)[1] > 15 * 60
    assert est(30, ms(17, 0)) is None
    low, mid, high = est(3, ms(17, 0))
    assert low <= mid <= high <= 15 * 60
    # A close far enough away changes nothing.
    assert est(3, None) == est(3, ms(18, 0))


def test_the_hub_view_carries_the_day_close() -> None:
    from queueing.view import SiteView
    from realtime.estimates import ticket_view

    def hub_view(day_close: str | None) -> TicketView:
        cfg = msgspec.to_builtins(closing_at(day_close))
        v = SiteView.from_snapshot("demo", {"config": cfg, "queues": {}, "counters": {},
                                            "recent": [], "tickets": {}})
        return ticket_view(v, "ss", 4, 0, ms(16, 45), {})

    assert hub_view("17:00").close_at_ms == ms(17, 0)
    assert hub_view("03:00").close_at_ms == ms(3, 0) + 86_400_000
    assert hub_view(None).close_at_ms is None
