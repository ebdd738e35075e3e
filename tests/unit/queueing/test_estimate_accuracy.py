"""AccuracyTracker, DayStats and the change threshold."""

from __future__ import annotations

import math

import pytest

from queueing.estimate import AccuracyTracker, DayStats, Estimate, Score, noticeable


def test_score_metrics() -> None:
    s = Score()
    s.add(100.0, 150.0, 80.0, 200.0)  # under by 50, covered
    s.add(300.0, 200.0, 250.0, 400.0)  # over by 100, not covered
    d = s.to_dict()
    assert d["mae_s"] == 75.0
    assert d["rmse_s"] == pytest.approx(math.sqrt((50**2 + 100**2) / 2), abs=0.01)
    assert d["bias_s"] == 25.0
    assert d["p_over"] == 0.5
    assert d["coverage_p10_p90"] == 0.5
    assert "coverage_p10_p90" not in Score().to_dict()


def test_accuracy_per_service_and_day() -> None:
    acc = AccuracyTracker(keep_days=2)
    acc.observe("gp", "2026-11-20", Estimate(600, 300, 900), 700)
    acc.observe("lab", "2026-11-20", Estimate(100, 50, 200), 400)
    out = acc.to_dict("2026-11-20")
    assert out["services"]["gp"]["mae_s"] == 100.0
    assert out["services"]["gp"]["coverage_p10_p90"] == 1.0
    assert out["services"]["lab"]["coverage_p10_p90"] == 0.0
    assert out["all"]["n"] == 2 and out["all"]["mae_s"] == 200.0
    acc.observe("gp", "2026-11-21", Estimate(1, 1, 1), 1)
    acc.observe("gp", "2026-11-22", Estimate(1, 1, 1), 1)
    assert acc.days() == ["2026-11-21", "2026-11-22"]
    acc.observe("gp", "2026-11-19", Estimate(1, 1, 1), 1)  # older than what is kept
    assert acc.days() == ["2026-11-21", "2026-11-22"]
    assert acc.to_dict("2026-11-01")["services"] == {}


def test_day_stats() -> None:
    st = DayStats()
    day = "2026-11-23"
    for channel, priority in (("kiosk", "walk_in"), ("app", "walk_in"), ("app", "priority"),
                              ("kiosk", "walk_in")):
        st.issued("gp", day, channel, priority)
    for wait in (60.0, 120.0, 600.0):
        st.called("gp", day, wait)
    st.served("gp", day, 300.0)
    st.served("gp", day, 500.0)
    st.no_show("gp", day)
    st.abandoned("gp", day)
    gp = st.to_dict(day)["services"]["gp"]
    assert gp["tickets"] == 4
    assert gp["by_channel"] == {"app": 2, "kiosk": 2}
    assert gp["by_priority"] == {"priority": 1, "walk_in": 3}
    assert gp["wait_s"] == {"n": 3, "mean": 260.0, "p90": 600.0}
    assert gp["service_s"]["mean"] == 400.0
    assert gp["no_show_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert gp["abandon_rate"] == 0.25


def test_noticeable() -> None:
    base = Estimate(1200.0, 900.0, 1800.0)
    assert noticeable(None, base)
    assert not noticeable(base, base)
    assert not noticeable(base, Estimate(1260.0, 900.0, 1800.0))  # 1 min on 20: noise
    assert noticeable(base, Estimate(1500.0, 900.0, 1800.0))  # 5 min on 20: news
    assert noticeable(base, Estimate(1200.0, 900.0, 2400.0))  # the range end moved 10 min
    assert noticeable(Estimate(200.0, 100.0, 300.0), Estimate(170.0, 90.0, 280.0))  # soon
    assert noticeable(base, None) and noticeable(None, base) and not noticeable(None, None)
