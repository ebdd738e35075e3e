"""Utilisation between events (dispatch/kpi.py ``utilisation_terms`` / ``utilisation_at``):
it moves with time alone (a technician on a job adds on-job time every second), so the
console keeps its tile live from terms sent with the last event instead of reading the
KPIs once a minute. Exact until the next event, service starting at a window's opening
after the arrival included."""

from __future__ import annotations

from typing import Any

from dispatch.kpi import Kpis, utilisation_at


def _job(jid: str, win_start: int = 0) -> dict[str, Any]:
    return {"id": jid, "created_ms": 0, "win_start": win_start, "win_end": 0, "org": ""}


def _online(k: Kpis, tid: str, at: int) -> None:
    k.apply("tech_status", at, {"tech": {"id": tid, "status": "available"}, "at": at})


def test_the_terms_give_the_summary_at_any_later_time() -> None:
    k = Kpis()
    _online(k, "r.a", 0)
    _online(k, "r.b", 0)
    k.apply("job_created", 0, {"job": _job("r.j1")})
    k.apply("job_created", 0, {"job": _job("r.j2", win_start=900_000)})
    k.apply("job_arrived", 300_000, {"job": {"id": "r.j1"}, "at": 300_000})
    # j2's technician arrives at 600 s for a window opening at 900 s: service counts from
    # the opening.
    k.apply("job_arrived", 600_000, {"job": {"id": "r.j2"}, "at": 600_000})
    terms = k.utilisation_terms(600_000)
    assert terms["on_n"] == 1 and terms["on_later"] == [900_000]
    for later in (600_000, 700_000, 900_000, 1_000_000, 3_600_000):
        assert utilisation_at(terms, later) == k.summary(later)["utilisation"], later
    # It moved with no event at all: 300 of 1,200 s at 600 s, 800 of 2,000 s at 1,000 s.
    assert utilisation_at(terms, 600_000) == 0.25
    assert utilisation_at(terms, 1_000_000) == 0.4


def test_nobody_online_has_no_utilisation() -> None:
    terms = Kpis().utilisation_terms(1_000)
    assert utilisation_at(terms, 5_000) is None
