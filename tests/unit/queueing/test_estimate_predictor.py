"""The estimate on small cases worked out by hand."""

from __future__ import annotations

import math

import pytest

from queueing.estimate import (
    ZERO,
    CounterView,
    Estimate,
    RateTracker,
    RosterChange,
    ServiceRates,
    TicketView,
    estimate,
)
from queueing.estimate.calibrate import Calibrator, model_spread
from queueing.estimate.gamma import gamma_ppf
from queueing.estimate.predictor import capacity, model_range

NOW = 1_000_000_000


def rates(mean_s: float = 300.0, cv2: float = 1.0, counters: tuple[str, ...] = ("a", "b"),
          arrivals: dict[int, float] | None = None, hazard: float = 0.0) -> ServiceRates:
    return ServiceRates(mean_s, cv2, {c: mean_s for c in counters}, {c: mean_s for c in counters},
                        arrivals or {}, hazard)


def view(ahead: int, *counters: CounterView, rank: int = 4, roster: tuple[RosterChange, ...] = (),
         queue_len: int | None = None) -> TicketView:
    return TicketView(now_ms=NOW, service="s", rank=rank, ahead=ahead, counters=counters,
                      roster=roster, queue_len=ahead + 1 if queue_len is None else queue_len)


def test_mmc_median_is_erlang_median() -> None:
    # Two busy counters, exponential 300 s calls: the wait of a ticket with 3 ahead is
    # Erlang(4, 2/300); P10, median and P90 are its quantiles.
    lo, mid, hi = model_range(view(3, CounterView("a"), CounterView("b")), rates()) or (0, 0, 0)
    for got, p in ((lo, 0.1), (mid, 0.5), (hi, 0.9)):
        assert got == pytest.approx(gamma_ppf(p, 4.0) * 150.0, rel=1e-3)


def test_regular_calls_narrow_the_range() -> None:
    v = view(9, CounterView("a"), CounterView("b"))
    erratic = model_range(v, rates(cv2=1.0))
    regular = model_range(v, rates(cv2=0.1))
    assert erratic is not None and regular is not None
    assert regular[2] - regular[0] < 0.6 * (erratic[2] - erratic[0])


def test_idle_counter_calls_at_once() -> None:
    v = view(0, CounterView("a", busy=False))
    assert estimate(v, RateTracker()) == ZERO


def test_no_counter_coming_is_unknown() -> None:
    v = view(2, CounterView("a", open=False))
    assert estimate(v, RateTracker()) is None


def test_counter_opening_later_calls_at_once() -> None:
    # Nobody open; counter a opens in 10 minutes and calls the head at once.
    v = view(0, CounterView("a", open=False, busy=False),
             roster=(RosterChange(NOW + 600_000, "a", True),))
    _, mid, hi = model_range(v, rates(counters=("a",))) or (0, 0, 0)
    assert mid == pytest.approx(600.0)
    assert hi == pytest.approx(600.0 + (gamma_ppf(0.9, 1.0) - 1.0) * 300.0, rel=1e-3)


def test_overdue_return_counts_as_soon() -> None:
    v = view(0, CounterView("a", open=False),
             roster=(RosterChange(NOW - 60_000, "a", True),))
    r = model_range(v, rates(counters=("a",)))
    assert r is not None and r[1] == pytest.approx(300.0)  # OVERDUE_S


def test_closing_counter_lengthens_the_wait() -> None:
    both = view(5, CounterView("a"), CounterView("b"))
    closing = view(5, CounterView("a"), CounterView("b"),
                   roster=(RosterChange(NOW + 60_000, "b", False),))
    r_both, r_closing = model_range(both, rates()), model_range(closing, rates())
    assert r_both is not None and r_closing is not None
    assert r_closing[1] > 1.6 * r_both[1]


def test_higher_classes_overtake_a_walk_in_not_a_priority_ticket() -> None:
    counters = (CounterView("a"), CounterView("b"))
    r = rates(arrivals={1: 1 / 300, 4: 1 / 100})
    walk_in = model_range(view(5, *counters, rank=4), r)
    priority = model_range(view(5, *counters, rank=1), r)
    plain = model_range(view(5, *counters, rank=4), rates(arrivals={4: 1 / 100}))
    assert walk_in is not None and priority is not None and plain is not None
    assert priority[1] == pytest.approx(plain[1])
    assert walk_in[1] > 1.2 * plain[1]


def test_shared_counter_share_follows_weighted_queues() -> None:
    # Counter b also serves another service with 3 walk-ins waiting (weight 1); this
    # service has 3 waiting at weight 2: b gives it 6 / (6 + 3) of its calls.
    shared = CounterView("b", weight=2.0, others_waiting=(0.0, 0.0, 0.0, 0.0, 3.0))
    steps = capacity(view(2, CounterView("a"), shared, queue_len=3), rates())
    assert steps[0][1] == pytest.approx(1 / 300 + (2 / 3) / 300)
    # A priority ticket does not compete with walk-ins of the other service.
    steps = capacity(view(2, CounterView("a"), shared, rank=1, queue_len=3), rates())
    assert steps[0][1] == pytest.approx(2 / 300)


def test_calibration_moves_the_median_towards_what_happened() -> None:
    cal = Calibrator(maxlen=100, prior_n=10)
    raw = (100.0, 200.0, 400.0)
    sigma = model_spread(raw[0], raw[2])
    for _ in range(90):
        cal.observe(Estimate(200.0, 100.0, 400.0, (200.0, sigma)), 400.0)  # twice as long
    out = cal.adjust(*raw)
    assert out.wait_s == pytest.approx(200.0 * math.exp(0.9 * math.log(2.0)), rel=1e-6)
    assert out.model == (200.0, sigma)


def test_estimate_uses_tracker_and_calibrates() -> None:
    tracker = RateTracker()
    for i in range(50):  # two counters, 300 s calls
        tracker.observe_service("s", "ab"[i % 2], NOW - 10_000_000 + i * 1000,
                                NOW - 10_000_000 + i * 1000 + 300_000)
    v = view(3, CounterView("a"), CounterView("b"))
    first = estimate(v, tracker)
    assert first is not None and first.low_s < first.wait_s < first.high_s
    for _ in range(200):
        tracker.observe_outcome("s", 4, first, 3.0 * first.wait_s)
    later = estimate(v, tracker)
    assert later is not None and later.wait_s > 2.5 * first.wait_s
