"""Punctuality of the live plan: late jobs keep their window's opening and a deadline, work
under way waits for its window, late jobs move earlier on their own route, and a job nobody
can make on time is planned as little late as possible (never before its window)."""

from __future__ import annotations

from dispatch.geo import GeodesicProvider
from dispatch.planning import build, earlier, make_room
from dispatch.recompute import _late, _room
from dispatch.solver import MAX_TIME, check_plan, insert
from tests.unit.dispatch.test_dispatch_planning import NOW, job, state, tech


def test_job_under_way_waits_for_its_window() -> None:
    # a is en route to a job whose window opens in an hour; b arrived early at one opening
    # in 30 minutes. Service starts at the opening, so both are busy until then + duration.
    techs = [tech("city.a", 52.37, 4.85, status="en_route", active="city.j-a"),
             tech("city.b", 52.38, 4.86, status="on_site", active="city.j-b")]
    jobs = [job("city.j-a", 52.371, 4.851, status="en_route", tech="city.a",
                win_start=NOW + 3600_000, win_end=NOW + 7200_000),
            job("city.j-b", 52.38, 4.86, status="on_site", tech="city.b",
                arrived_ms=NOW - 600_000, win_start=NOW + 1800_000, win_end=NOW + 5400_000)]
    built = build(state(techs, jobs), NOW, GeodesicProvider())
    a = built.current.routes["city.a"].stops[0]
    assert a.start == 3600 and a.departure == 3600 + 1800
    b = built.current.routes["city.b"].stops[0]
    assert b.departure == 1800 + 1800  # not 1800 - 600 (service counted from arrival)


def test_on_site_remainder_has_no_minute_floor() -> None:
    techs = [tech("city.b", 52.38, 4.86, status="on_site", active="city.j-b")]
    jobs = [job("city.j-b", 52.38, 4.86, status="on_site", tech="city.b",
                arrived_ms=NOW - 1800_000 + 13_000)]
    built = build(state(techs, jobs), NOW, GeodesicProvider())
    assert built.current.routes["city.b"].stops[0].departure == 13


def test_late_jobs_keep_the_window_opening_and_a_deadline() -> None:
    # j-late: planned past its window (ETA still ahead) -> no later than planned, and not
    # before its window opens. j-slipped: planned, window closed, ETA passed -> no later than
    # the route now arrives. j-closed: waiting, window closed -> due now (placed late by the
    # hot path's ladder), never "whenever".
    techs = [tech("city.b", 52.38, 4.86)]
    jobs = [job("city.j-late", 52.375, 4.855, status="assigned", tech="city.b",
                win_start=NOW + 600_000, win_end=NOW + 900_000, eta_ms=NOW + 1800_000),
            job("city.j-slipped", 52.376, 4.856, status="assigned", tech="city.b",
                win_start=NOW - 7200_000, win_end=NOW - 3600_000, eta_ms=NOW - 60_000),
            job("city.j-closed", 52.374, 4.854, win_start=NOW - 7200_000,
                win_end=NOW - 3600_000)]
    routes = {"city.b": [{"j": "city.j-late"}, {"j": "city.j-slipped"}]}
    built = build(state(techs, jobs, routes), NOW, GeodesicProvider())
    t = built.problem.task_by_id
    assert t["city.j-late"].time_windows == ((600, 1800),)
    stops = {s.id: s for s in built.current.routes["city.b"].stops}
    assert t["city.j-slipped"].time_windows == ((0, stops["city.j-slipped"].arrival),)
    assert t["city.j-closed"].time_windows == ((0, 1),)
    assert {"city.j-late", "city.j-slipped", "city.j-closed"} <= built.late
    assert built.due["city.j-closed"] == -3600
    assert not check_plan(built.problem, built.current)


def test_late_insertion_keeps_the_opening() -> None:
    techs = [tech("city.b", 52.38, 4.86)]
    jobs = [job("city.j", 52.30, 4.86, win_start=NOW + 300_000, win_end=NOW + 600_000)]
    built = build(state(techs, jobs), NOW, GeodesicProvider())
    task = built.pending[0]
    assert insert(built.current, built.problem, task).vehicle_id is None
    ins, _q, late = _late(built.current, built.problem, task)
    assert ins.vehicle_id == "city.b"
    (opens, end), = late.time_windows
    assert opens == 300 and 600 < end < MAX_TIME
    assert ins.plan.routes["city.b"].stops[0].start >= 300


def test_earlier_moves_a_late_job_forward_on_its_route() -> None:
    # b's route: an early job with a wide window, then a job already late. Swapping them
    # keeps the first inside its window and makes the late one less late.
    techs = [tech("city.b", 52.38, 4.86)]
    jobs = [job("city.j-wide", 52.39, 4.87, status="assigned", tech="city.b",
                win_start=NOW, win_end=NOW + 6 * 3600_000, eta_ms=NOW + 300_000),
            job("city.j-late", 52.381, 4.861, status="assigned", tech="city.b",
                win_start=NOW - 3600_000, win_end=NOW - 600_000, eta_ms=NOW + 2400_000)]
    routes = {"city.b": [{"j": "city.j-wide"}, {"j": "city.j-late"}]}
    built = build(state(techs, jobs, routes), NOW, GeodesicProvider())
    assert built.current.routes["city.b"].task_ids == ("city.j-wide", "city.j-late")
    p, plan, moved = earlier(built.problem, built.current, built.due)
    assert moved == 1
    assert plan.routes["city.b"].task_ids == ("city.j-late", "city.j-wide")
    late = plan.routes["city.b"].stops[0]
    assert p.task_by_id["city.j-late"].time_windows == ((0, late.arrival),)
    assert not check_plan(p, plan)
    # Nothing late: nothing moves.
    again = earlier(p, plan, built.due)
    assert again[2] == 0 and again[1] is plan


def test_make_room_moves_one_job_for_a_late_one() -> None:
    # Only b has gas. b's route holds X, due within 10 minutes and 50 minutes long, so the
    # gas job L (due in 15 minutes) would be ~40 minutes late behind it. c, nearby, can do X
    # inside its window: X goes to c and L is on time on b.
    techs = [tech("city.b", 52.38, 4.86, skills="gas"), tech("city.c", 52.383, 4.863)]
    jobs = [job("city.j-x", 52.381, 4.861, status="assigned", tech="city.b",
                duration_s=3000, win_start=NOW, win_end=NOW + 600_000, eta_ms=NOW + 60_000),
            job("city.j-l", 52.382, 4.862, skills="gas", win_start=NOW,
                win_end=NOW + 900_000)]
    built = build(state(techs, jobs, {"city.b": [{"j": "city.j-x"}]}), NOW,
                  GeodesicProvider())
    task = built.pending[0]
    assert insert(built.current, built.problem, task).vehicle_id is None
    ins, q, late = _late(built.current, built.problem, task)
    due = built.due["city.j-l"]
    arrival = ins.plan.routes["city.b"].stops[1].arrival
    assert arrival - due > 1800
    better, r = _room(built.current, q, late, ins, due)
    plan = better.plan
    assert plan.routes["city.b"].task_ids == ("city.j-l",)
    assert plan.routes["city.c"].task_ids == ("city.j-x",)
    assert plan.routes["city.b"].stops[0].arrival <= due
    assert not check_plan(r, plan)
    # Already on time enough: nothing to do.
    assert make_room(r, built.current, late, due, 600) is None
