"""How late the hot path may plan a job, and what a job left out is told.

A job nobody reaches in its window is planned at most 8 h past it (``LATE_STEPS_S``); later
than that it is ``unassignable`` for ``capacity`` (a 200-job batch for 3 technicians had 148
jobs planned past their window, one 1342 min, and they were accepted). A job without a window
judged against the service level is ``service_level``, not ``time_window`` (its page said
"nobody can reach you within your time window" next to "Window: any time")."""

from __future__ import annotations

import types
from typing import Any

from dispatch.geo import GeodesicProvider
from dispatch.planning import State, build
from dispatch.recompute import LATE_STEPS_S, Recomputer
from tests.unit.dispatch.test_dispatch_planning import NOW, job, state, tech

H = 3600_000


def busy_for(hours: float, *more: dict[str, Any], **policy: Any) -> State:
    """b is on site for ``hours`` more; every job of ``more`` waits behind it."""
    techs = [tech("city.b", 52.38, 4.86, status="on_site", active="city.j-long")]
    jobs = [job("city.j-long", 52.38, 4.86, status="on_site", tech="city.b",
                arrived_ms=NOW, duration_s=int(hours * 3600)), *more]
    return state(techs, jobs, **policy)


def plan_pass(st: State) -> tuple[Any, dict[str, Any], Any]:
    built = build(st, NOW, GeodesicProvider())
    r = Recomputer(types.SimpleNamespace(redis=None))  # type: ignore[arg-type]
    hot = r._hot(built, st, True)
    return built, r.payload(built, st, hot.plan, "test", None, None, True), hot.plan


def late_min(built: Any, plan: Any, jid: str, win_end: int) -> float:
    stop = next(s for s in plan.routes["city.b"].stops if s.id == jid)
    return (built.t0 * 1000 + stop.arrival * 1000 - win_end) / 60_000


def test_a_job_more_than_8_hours_late_is_unassignable_for_capacity() -> None:
    assert LATE_STEPS_S[-1] == 8 * 3600
    late = job("city.j", 52.381, 4.861, win_start=NOW, win_end=NOW + H // 2)
    _b, out, plan = plan_pass(busy_for(9.5, late))
    assert "city.j" not in plan.assignment
    assert out["unassigned"] == {"city.j": "capacity"}


def test_a_job_less_than_8_hours_late_is_still_planned_late() -> None:
    built, out, plan = plan_pass(busy_for(7, job("city.j", 52.381, 4.861, win_start=NOW,
                                                 win_end=NOW + H // 2)))
    assert plan.assignment["city.j"] == "city.b" and out["unassigned"] == {}
    assert 360 < late_min(built, plan, "city.j", NOW + H // 2) <= 480


def test_a_job_without_a_window_is_refused_for_the_service_level() -> None:
    st = busy_for(3, job("city.j-any", 52.381, 4.861),
                  job("city.j-win", 52.382, 4.862, win_start=NOW, win_end=NOW + H),
                  service_within_s=3600, late_ok=False)
    _b, out, _p = plan_pass(st)
    assert out["unassigned"] == {"city.j-any": "service_level", "city.j-win": "time_window"}
