"""Per-site queue gauges (realtime/metrics.py): read from the hub's live views at the
scrape, no Redis; a site no longer followed leaves the series."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from prometheus_client import generate_latest

from realtime import metrics

NOW = 1_795_000_000_000


def view(queues: dict[str, list[str]], issued_s_ago: dict[str, float],
         counters: dict[str, str]) -> Any:
    return SimpleNamespace(
        queues=queues,
        tickets={t: {"issued_ms": NOW - int(s * 1000)} for t, s in issued_s_ago.items()},
        counters={c: {"state": st} for c, st in counters.items()})


def test_site_figures_waiting_longest_wait_and_open_counters() -> None:
    v = view({"a": ["t1", "t2"], "b": ["t3"], "c": []}, {"t1": 30, "t2": 5, "t3": 95.5},
             {"1": "open", "2": "paused", "3": "closed", "4": "open"})
    assert metrics.site_figures(v, NOW) == (3, 95.5, 2)
    assert metrics.site_figures(view({}, {}, {}), NOW) == (0, 0.0, 0)


def test_a_site_no_longer_followed_leaves_the_series() -> None:
    hub = SimpleNamespace(live=set(), feeds={
        "unit-a": SimpleNamespace(view=view({"s": ["t"]}, {"t": 12}, {"1": "open"}))})
    metrics.site_gauges(hub)
    text = generate_latest().decode()
    assert 'switchboard_site_waiting{site="unit-a"} 1.0' in text
    assert 'switchboard_site_counters_open{site="unit-a"} 1.0' in text
    hub.feeds.clear()
    metrics.site_gauges(hub)
    assert 'site="unit-a"' not in generate_latest().decode()
