"""From live state to the solver's problem, offer candidates, and the greedy baseline."""

from __future__ import annotations

from typing import Any

from dispatch.geo import GeodesicProvider
from dispatch.greedy import GJob, Greedy, GTech
from dispatch.model import DispatchPolicy, RegionConfig, Unassignable, Zone
from dispatch.offers import candidates, marginal
from dispatch.planning import State, build, changed_routes, reasons
from dispatch.solver import check_plan, insert

NOW = 1_795_000_000_000  # 2026-11-18 11:06:40 UTC
WEST = Zone("west", [(4.80, 52.30), (4.90, 52.30), (4.90, 52.45), (4.80, 52.45)])


def tech(tid: str, lat: float, lon: float, **kw: Any) -> dict[str, Any]:
    return {"id": tid, "status": "available", "lat": lat, "lon": lon, "home_lat": lat,
            "home_lon": lon, "skills": "", "zones": "", "shift_start": "00:00",
            "shift_end": "24:00", "breaks": "[]", "active": "", **kw}


def job(jid: str, lat: float, lon: float, **kw: Any) -> dict[str, Any]:
    return {"id": jid, "status": "new", "lat": lat, "lon": lon, "skills": "",
            "duration_s": 1800, "priority": 0, "created_ms": NOW, "tech": "", **kw}


def state(techs: list[dict[str, Any]], jobs: list[dict[str, Any]],
          routes: dict[str, list[dict[str, Any]]] | None = None, **policy: Any) -> State:
    cfg = RegionConfig(timezone="UTC", zones=[WEST], policy=DispatchPolicy(**policy))
    return State("city", cfg, {t["id"]: t for t in techs}, {j["id"]: j for j in jobs},
                 routes or {})


def test_build_places_committed_work_and_filters_by_zone_skill_and_exclusion() -> None:
    techs = [tech("city.a", 52.37, 4.85, skills="gas", active="city.j-run",
                  status="en_route"),
             tech("city.b", 52.38, 4.86), tech("city.off", 52.38, 4.86, status="offline")]
    jobs = [job("city.j-run", 52.371, 4.851, status="en_route", tech="city.a"),
            job("city.j-gas", 52.372, 4.852, skills="gas"),
            job("city.j-out", 52.60, 4.85),
            job("city.j-x", 52.373, 4.853, excluded="city.b"),
            job("city.j-planned", 52.374, 4.854, status="assigned", tech="city.b",
                eta_ms=NOW + 600_000)]
    routes = {"city.b": [{"j": "city.j-planned", "eta": NOW + 600_000}]}
    built = build(state(techs, jobs, routes), NOW, GeodesicProvider())
    p = built.problem
    assert [v.id for v in p.vehicles] == ["city.a", "city.b"]  # offline is no vehicle
    a = p.vehicle_by_id["city.a"]
    assert a.fixed == ("city.j-run",)
    assert built.outside == {"city.j-out": Unassignable.OUTSIDE_ZONES}
    assert "x:city.j-x" in a.skills and "x:city.j-x" not in p.vehicle_by_id["city.b"].skills
    assert {t.id for t in built.pending} == {"city.j-gas", "city.j-x"}
    assert built.current.routes["city.b"].task_ids == ("city.j-planned",)
    assert built.pending[0].id == "city.j-gas"  # created first at equal priority (id order)
    # Insert everything pending: gas and the excluded job can only go to a.
    plan = built.current
    for task in built.pending:
        plan = insert(plan, p, task).plan
    assert plan.assignment["city.j-gas"] == "city.a" == plan.assignment["city.j-x"]
    assert plan.routes["city.a"].task_ids[0] == "city.j-run"
    assert not check_plan(p, plan)
    out = changed_routes(built, plan, routes)
    assert out["city.a"][0][0] == "city.j-run"
    # b's route is published only because its stored ETA is off by more than a minute.
    fresh = {"city.b": [{"j": "city.j-planned", "eta": out["city.b"][0][1]}]}
    assert set(changed_routes(built, plan, fresh)) == {"city.a"}
    assert reasons(built, plan) == {"city.j-out": "outside_zones"}


def test_service_level_window_and_planned_late_jobs() -> None:
    # No window: due within the service level; a planned job already past its window keeps
    # "no later than planned".
    techs = [tech("city.b", 52.38, 4.86)]
    jobs = [job("city.j-sla", 52.374, 4.854),
            job("city.j-late", 52.375, 4.855, status="assigned", tech="city.b",
                win_start=NOW - 7200_000, win_end=NOW - 3600_000, eta_ms=NOW + 900_000)]
    routes = {"city.b": [{"j": "city.j-late", "eta": NOW + 900_000}]}
    built = build(state(techs, jobs, routes, service_within_s=7200), NOW, GeodesicProvider())
    t = built.problem.task_by_id
    assert t["city.j-sla"].time_windows == ((0, 7200),)
    assert t["city.j-late"].time_windows == ((0, 900),)
    assert not check_plan(built.problem, built.current)


def test_soften_keeps_accepted_work_feasible() -> None:
    # b's job was planned for an hour ago; it is now late: the plan keeps it, late, rather
    # than letting a repair drop it.
    techs = [tech("city.b", 52.38, 4.86, shift_end="11:30")]
    jobs = [job("city.j-1", 52.30, 4.86, status="assigned", tech="city.b",
                win_start=NOW, win_end=NOW + 600_000, eta_ms=NOW)]
    built = build(state(techs, jobs, {"city.b": [{"j": "city.j-1"}]}), NOW, GeodesicProvider())
    assert not check_plan(built.problem, built.current)
    assert built.current.routes["city.b"].task_ids == ("city.j-1",)
    assert "city.j-1" in built.late


def test_candidates_by_marginal_cost() -> None:
    techs = [tech("city.near", 52.370, 4.850), tech("city.mid", 52.380, 4.860),
             tech("city.far", 52.420, 4.890)]
    built = build(state(techs, [job("city.j", 52.371, 4.851)]), NOW, GeodesicProvider())
    task = built.pending[0]
    ranked = candidates(built.problem, built.current, task, ["city.far", "city.mid",
                                                             "city.near"], 3)
    assert [v for v, _ in ranked] == ["city.near", "city.mid", "city.far"]
    assert ranked[0][1] < ranked[1][1] < ranked[2][1]
    ins = insert(built.current, built.problem, task)
    assert ins.vehicle_id == "city.near" and ins.cost == ranked[0][1]
    assert marginal(built.problem, built.current, task, "city.near") == ranked[0][1]


def test_no_technician_on_shift() -> None:
    built = build(state([tech("city.b", 52.38, 4.86, status="offline")],
                        [job("city.j", 52.37, 4.85)]), NOW, GeodesicProvider())
    assert built.outside == {"city.j": Unassignable.NO_TECHNICIAN}


def test_a_job_every_skilled_technician_declined_says_declined() -> None:
    # Three technicians hold "gas"; all three declined (or let the offer expire). The solver
    # sees a skill token nobody holds, but the reason is the declines, not the skills.
    techs = [tech(f"city.g{i}", 52.37, 4.85 + 0.01 * i, skills="gas") for i in range(3)]
    techs.append(tech("city.plain", 52.37, 4.86))
    jobs = [job("city.j-gas", 52.371, 4.851, skills="gas",
                excluded="city.g0,city.g1,city.g2"),
            job("city.j-elec", 52.372, 4.852, skills="electric", excluded="city.g0")]
    built = build(state(techs, jobs), NOW, GeodesicProvider())
    plan = built.current
    for task in built.pending:
        plan = insert(plan, built.problem, task).plan
    # Nobody on shift has "electric": that stays a matter of skills.
    assert reasons(built, plan) == {"city.j-gas": Unassignable.DECLINED,
                                    "city.j-elec": Unassignable.SKILLS}


def test_greedy_nearest_available() -> None:
    g = Greedy()
    g.techs = {"a": GTech("a", 52.37, 4.85, frozenset(), available=True),
               "b": GTech("b", 52.38, 4.86, frozenset({"gas"}), available=True)}
    j1 = GJob("j1", 52.371, 4.851, frozenset(), frozenset())
    assert g.job_created(j1) == [("j1", "a")]
    j2 = GJob("j2", 52.371, 4.851, frozenset(), frozenset())
    assert g.job_created(j2) == [("j2", "b")]  # a holds an offer
    j3 = GJob("j3", 52.371, 4.851, frozenset({"gas"}), frozenset(), priority=5)
    assert g.job_created(j3) == []  # nobody available has gas: it waits
    assert g.answered("j1", "a", False) == []  # a declined j1; nobody else free for j1...
    assert list(g.pending()) == ["j3", "j1"]  # urgent first
    assert g.answered("j2", "b", True) == []
    # b frees up: most urgent waiting job it can do.
    assert g.free("b", 52.38, 4.86) == [("j3", "b")]


def test_a_round_the_clock_shift_does_not_end_at_midnight() -> None:
    from zoneinfo import ZoneInfo

    from dispatch.planning import shift_of
    tz = ZoneInfo("Asia/Shanghai")
    late = 1_796_399_700  # 2026-12-04 23:55 in Shanghai
    start, end = shift_of({"shift_start": "00:00", "shift_end": "24:00"}, late, tz)
    assert start <= late and end - late > 86400  # a 30-minute job at 23:55 fits
    # A day shift still ends when it says.
    start, end = shift_of({"shift_start": "08:00", "shift_end": "18:00"}, late, tz)
    assert end - start == 10 * 3600 and end < late
