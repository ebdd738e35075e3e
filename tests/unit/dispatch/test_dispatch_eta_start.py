"""``RegionView.start_ms``: when service is expected to start — the later of the arrival and
the window's opening (the arrival alone told a customer "08:03 · in 2 min" at 08:01 for a
visit the plan starts at 09:01)."""

from __future__ import annotations

from dispatch.model import RegionConfig
from dispatch.view import RegionView

T0 = 1_795_000_000_000
MIN = 60_000


def view(**job: object) -> RegionView:
    j = {"id": "city.j-1", "status": "assigned", "tech": "city.t1", "lat": 52.37,
         "lon": 4.89, **job}
    tech = {"id": "city.t1", "status": "available", "lat": 52.36, "lon": 4.88}
    return RegionView.of_job("city", RegionConfig(), j, tech)


def test_an_early_arrival_waits_for_the_window() -> None:
    rv = view(eta_ms=T0 + 15 * MIN, win_start=T0 + 60 * MIN, win_end=T0 + 180 * MIN)
    assert rv.eta_ms("city.j-1") == T0 + 15 * MIN  # the arrival, as devices read it
    assert rv.start_ms("city.j-1") == T0 + 60 * MIN


def test_a_late_arrival_or_no_window_is_the_arrival() -> None:
    assert view(eta_ms=T0 + 90 * MIN, win_start=T0 + 60 * MIN,
                win_end=T0 + 180 * MIN).start_ms("city.j-1") == T0 + 90 * MIN
    assert view(eta_ms=T0 + 15 * MIN).start_ms("city.j-1") == T0 + 15 * MIN
    assert view(eta_ms="").start_ms("city.j-1") is None
    assert view().start_ms("city.j-2") is None


def test_the_customer_and_the_dashboard_get_the_start() -> None:
    """The ``job:`` and ``org:`` views carry ``start_ms`` beside ``eta_ms``: the dashboard
    showed "08:02 · arriving now" at 08:06 for a visit the plan starts at 09:01."""
    from realtime.hub.dispatch_topics import job_state, org_state
    rv = view(eta_ms=T0 + 15 * MIN, win_start=T0 + 60 * MIN, win_end=T0 + 180 * MIN,
              org="city.acme")
    j = rv.jobs["city.j-1"]
    got = job_state(rv, j)
    assert (got["eta_ms"], got["start_ms"]) == (T0 + 15 * MIN, T0 + 60 * MIN)
    rv.org_jobs = {"city.acme": {"city.j-1"}}
    rv.techs["city.t1"].update(fix_ms=T0, name="Li Na")
    j["status"] = "en_route"
    org = org_state(rv, "city.acme", T0)
    assert org["jobs"][0]["start_ms"] == T0 + 60 * MIN
    assert org["on_the_way"][0]["start_ms"] == T0 + 60 * MIN
