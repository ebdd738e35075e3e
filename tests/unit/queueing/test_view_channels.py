"""The site view counts open tickets per channel as events apply (text to join's cap reads
the count, not every ticket), and a view rebuilt from a snapshot counts the same."""

from __future__ import annotations

from typing import Any

import msgspec

from queueing.demo import demo_site
from queueing.view import SiteView


def _view(tickets: dict[str, dict[str, Any]] | None = None) -> SiteView:
    return SiteView.from_snapshot("demo", {
        "config": msgspec.to_builtins(demo_site()), "queues": {}, "counters": {},
        "recent": [], "tickets": tickets or {}})


def _t(tid: str, status: str, channel: str) -> dict[str, Any]:
    return {"id": tid, "number": "A" + tid, "service": "internal", "status": status,
            "channel": channel}


def test_open_tickets_are_counted_per_channel() -> None:
    v = _view()
    for tid, channel in (("1", "sms"), ("2", "sms"), ("3", "kiosk")):
        v.apply("issued", {"ticket": _t(tid, "waiting", channel)})
    assert (v.open_in("sms"), v.open_in("kiosk"), v.open_in("web")) == (2, 1, 0)
    v.apply("called", {"ticket": _t("1", "called", "sms"), "counter": "1"})
    v.apply("started", {"ticket": _t("1", "serving", "sms"), "counter": "1"})
    v.apply("notify_set", {"ticket": _t("2", "waiting", "sms")})
    assert v.open_in("sms") == 2  # still open: counted once each
    v.apply("completed", {"ticket": _t("1", "done", "sms"), "counter": "1"})
    v.apply("cancelled", {"ticket": _t("2", "cancelled", "sms")})
    v.apply("cancelled", {"ticket": _t("2", "cancelled", "sms")})  # a replay: no change
    assert (v.open_in("sms"), v.open_in("kiosk")) == (0, 1)


def test_a_view_from_a_snapshot_counts_its_tickets() -> None:
    v = _view({"1": _t("1", "waiting", "sms"), "2": _t("2", "parked", "sms"),
               "3": _t("3", "called", "app")})
    assert (v.open_in("sms"), v.open_in("app")) == (2, 1)


def test_a_counter_state_change_is_dated() -> None:
    # The estimator reads how long a counter has been closed on shift (predictor.due_delay).
    v = SiteView.from_snapshot("demo", {
        "config": msgspec.to_builtins(demo_site()), "queues": {}, "recent": [], "tickets": {},
        "counters": {"1": {"state": "closed", "ticket": "", "since": "1700000000000"}}})
    assert v.counters["1"]["since"] == 1_700_000_000_000
    v.apply("counter_open", {"counter": "1", "state": "open"}, 1_700_000_100_000)
    assert v.counters["1"] == {"state": "open", "ticket": "", "since": 1_700_000_100_000,
                               "free_since": 1_700_000_100_000}  # open, nobody called yet
    v.apply("counter_closed", {"counter": "1", "state": "closed"})  # no time: kept as it was
    assert v.counters["1"]["state"] == "closed"
