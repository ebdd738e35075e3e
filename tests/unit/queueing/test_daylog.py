from __future__ import annotations

from queueing.daylog import record_for
from realtime.stats import summarise

T0 = 1_795_449_000_000  # 2026-11-23 in Shanghai


def ticket(**kw: object) -> dict[str, object]:
    return {"id": "s.1", "service": "a", "rank": 4, "issued_ms": T0, "channel": "app",
            "priority": "walk_in", "origin_service": "a", "returned": 0} | kw


def test_records_per_milestone() -> None:
    tz = "Asia/Shanghai"
    day, rec = record_for("issued", {"ticket": ticket()}, "1-0", tz) or ("", {})
    assert day == "2026-11-23" and rec["k"] == "i" and rec["c"] == "app"
    called = ticket(status="called", called_ms=T0 + 60_000, est_wait="50", est_low="20",
                    est_high="90", est_m="48.5", est_sd="0.4")
    _, c = record_for("called", {"ticket": called, "from": "waiting"}, "2-0", tz) or ("", {})
    assert c["k"] == "c" and c["t"] - c["i"] == 60_000 and c["e"] == [50.0, 20.0, 90.0, 48.5, 0.4]
    # A second call after a no-show return or a park, a call after a transfer: not a first
    # call, but a call at the counter that made it (by counter and by staff count it).
    _, y = record_for("called", {"ticket": ticket(called_ms=T0 + 9, returned=1),
                                 "from": "waiting", "counter": "2"}, "3-0", tz) or ("", {})
    assert y == {"o": "3-0", "s": "a", "r": 4, "k": "y", "t": T0 + 9, "ctr": "2"}
    _, y = record_for("called", {"ticket": ticket(called_ms=T0 + 9), "from": "parked",
                                 "first": False, "counter": "1"}, "3-1", tz,
                      actor="nurse-li") or ("", {})
    assert (y["k"], y["ctr"], y["u"]) == ("y", "1", "nurse-li")
    # The day's operations per service count tickets called, not calls: y is not in them.
    assert summarise([y], "2026-11-23")["services"] == {}
    # (A call after a transfer is a call in the new queue, without a wait of its own.)
    _, x = record_for("called", {"ticket": ticket(called_ms=1, origin_service="b"),
                                 "from": "transferred", "first": False}, "4-0", tz) or ("", {})
    assert x == {"o": "4-0", "s": "a", "r": 4, "k": "x"}
    # A no-show that returned the ticket to its place: counted apart, not in the rate.
    _, r = record_for("no_show", {"ticket": ticket(), "returned": True, "counter": "2"}, "5-0",
                      tz) or ("", {})
    assert r["k"] == "r" and r["ctr"] == "2"
    _, z = record_for("cancelled", {"ticket": ticket(ended_ms=T0 + 9), "from": "parked",
                                    "reason": "day_closed"}, "5-1", tz) or ("", {})
    assert z["k"] == "z" and z["f"] == "parked"
    _, tr = record_for("transferred", {"ticket": ticket(service="b"), "from_service": "a",
                                       "to_service": "b"}, "5-2", tz) or ("", {})
    assert tr["k"] == "t" and (tr["s"], tr["f"]) == ("b", "a")
    ops = summarise([r, z, tr], "2026-11-23")["services"]
    assert ops["a"]["operations"]["no_shows_returned"] == 1
    assert ops["a"]["operations"]["closed_unserved"] == 1
    assert ops["a"]["operations"]["transferred_out"] == 1
    assert ops["b"]["operations"]["transferred_in"] == 1
    # Called, then cancelled: the counter's time with it, and an outcome of its own.
    _, left = record_for("cancelled", {"ticket": ticket(called_ms=T0 + 5, ended_ms=T0 + 9,
                                                        counter="3"), "from": "called"},
                         "5-3", tz) or ("", {})
    assert left == {"o": "5-3", "s": "a", "r": 4, "k": "l", "ctr": "3", "a": T0 + 5, "b": T0 + 9}
    assert summarise([left], "2026-11-23")["services"]["a"]["operations"][
        "cancelled_after_call"] == 1
    assert record_for("cancelled", {"ticket": ticket(ended_ms=T0 + 1), "from": "serving"},
                      "6-0", tz) is None
    assert record_for("counter_open", {"counter": "1"}, "7-0", tz) is None


def test_service_time_when_start_was_skipped() -> None:
    """complete straight from called stamps started_ms = ended_ms: serve from the call."""
    tz = "Asia/Shanghai"
    called, ended = T0 + 60_000, T0 + 360_000
    skipped = ticket(status="done", called_ms=called, started_ms=ended, ended_ms=ended)
    _, d = record_for("completed", {"ticket": skipped, "counter": "1", "from": "called"},
                      "1-0", tz) or ("", {})
    assert d["k"] == "d" and d["a"] == called and d["b"] - d["a"] == 300_000
    # Same signature without the event's "from" (started_ms == ended_ms), or no started_ms.
    _, d = record_for("completed", {"ticket": skipped}, "2-0", tz) or ("", {})
    assert d["a"] == called
    no_start = ticket(status="done", called_ms=called, ended_ms=ended)
    _, d = record_for("completed", {"ticket": no_start}, "3-0", tz) or ("", {})
    assert d["a"] == called
    # Started properly: service runs from the start, not the call.
    served = ticket(status="done", called_ms=called, started_ms=called + 30_000, ended_ms=ended)
    _, d = record_for("completed", {"ticket": served, "from": "serving"}, "4-0", tz) or ("", {})
    assert d["a"] == called + 30_000 and d["b"] == ended
    # A start left from before a transfer, then completed from called: from the call.
    _, d = record_for("completed", {"ticket": served | {"started_ms": T0 + 1_000},
                                    "from": "called"}, "5-0", tz) or ("", {})
    assert d["a"] == called


def test_summary_of_a_day() -> None:
    recs = [
        {"k": "i", "s": "a", "c": "app", "p": "walk_in"},
        {"k": "i", "s": "a", "c": "kiosk", "p": "priority"},
        {"k": "c", "s": "a", "i": 0, "t": 100_000, "e": [90.0, 50.0, 150.0]},
        {"k": "d", "s": "a", "a": 100_000, "b": 400_000},
        {"k": "a", "s": "a", "i": 0, "t": 5_000},
    ]
    out = summarise(recs, "2026-11-23")
    ops, acc = out["services"]["a"]["operations"], out["services"]["a"]["accuracy"]
    assert ops["tickets"] == 2 and ops["wait_s"]["mean"] == 100.0
    assert ops["service_s"]["mean"] == 300.0 and ops["abandon_rate"] == 0.5
    assert acc["n"] == 1 and acc["bias_s"] == -10.0 and acc["coverage_p10_p90"] == 1.0
