"""The baselines' formulas (Ibrahim & Whitt's QL, LES, HOL, refined HOL; rolling mean)."""

from __future__ import annotations

import pytest

from queueing.estimate import CounterView, RateTracker, TicketView
from queueing.estimate.baselines import hol, hol_refined, les, ql, rolling

NOW = 50_000_000


def tracker_with_calls(mean_s: float = 240.0) -> RateTracker:
    tr = RateTracker()
    for i in range(40):
        tr.observe_service("s", "a", NOW - 3_000_000 + i, NOW - 3_000_000 + i + int(mean_s * 1000))
    return tr


def ticket(ahead: int, queue_len: int, head_wait_s: float | None = None,
           counters: int = 3, rank: int = 4) -> TicketView:
    head = None if head_wait_s is None else NOW - int(head_wait_s * 1000)
    return TicketView(now_ms=NOW, service="s", rank=rank, ahead=ahead,
                      counters=tuple(CounterView(f"c{i}") for i in range(counters)),
                      queue_len=queue_len, head_since_ms=head)


def test_ql() -> None:
    assert ql(ticket(5, 6), tracker_with_calls()) == pytest.approx(6 * 240 / 3)


def test_ql_with_nobody_open_counts_every_counter() -> None:
    v = TicketView(now_ms=NOW, service="s", rank=4, ahead=1,
                   counters=(CounterView("a", open=False), CounterView("b", open=False)))
    assert ql(v, tracker_with_calls()) == pytest.approx(2 * 240 / 2)


def test_les_prefers_same_class() -> None:
    tr = tracker_with_calls()
    tr.observe_call("s", 4, NOW - 900_000, NOW - 100_000)  # walk-in waited 800 s
    tr.observe_call("s", 1, NOW - 60_000, NOW - 50_000)  # priority waited 10 s
    assert les(ticket(3, 4, rank=4), tr) == pytest.approx(800.0)
    assert les(ticket(3, 4, rank=1), tr) == pytest.approx(10.0)
    assert les(ticket(3, 4, rank=2), tr) == pytest.approx(10.0)  # none of its class: the last


def test_hol_and_refined() -> None:
    tr = tracker_with_calls()
    v = ticket(ahead=5, queue_len=6, head_wait_s=600.0)
    assert hol(v, tr) == pytest.approx(600.0)
    # 5 others arrived during the head's 600 s: lam = 5/600; (5+1)/lam = 720 s.
    assert hol_refined(v, tr) == pytest.approx(720.0)


def test_hol_falls_back_to_ql_at_the_head() -> None:
    tr = tracker_with_calls()
    v = ticket(ahead=0, queue_len=1, head_wait_s=0.0)
    assert hol(v, tr) == ql(v, tr) == hol_refined(v, tr)


def test_rolling_mean_of_recent_waits() -> None:
    tr = tracker_with_calls()
    tr.observe_call("s", 4, NOW - 5_000_000, NOW - 4_000_000)  # older than 30 min: gone
    tr.observe_call("s", 4, NOW - 700_000, NOW - 600_000)
    tr.observe_call("s", 4, NOW - 400_000, NOW - 100_000)
    assert rolling(ticket(2, 3), tr) == pytest.approx(200.0)
    assert rolling(ticket(2, 3), RateTracker()) == ql(ticket(2, 3), RateTracker())
