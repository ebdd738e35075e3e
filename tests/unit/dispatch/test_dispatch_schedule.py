"""The independent feasibility check and the schedules it is built on."""

from __future__ import annotations

import numpy as np
import pytest

from dispatch.solver import Break, InvalidProblem, Plan, Task, Unassigned, Vehicle, check_plan
from dispatch.solver.schedule import build_plan, route, window_start

from .dispatch_solver_helpers import line_problem


def kinds(problem, plan, **kw):
    return sorted(v.kind for v in check_plan(problem, plan, **kw))


def test_schedule_waits_for_the_window_and_reports_etas():
    tasks = [Task("a", 2, service_s=5, time_windows=((50, 60),)), Task("b", 3, service_s=5)]
    problem = line_problem(tasks, [Vehicle("v", start=0, end=0, shift=(0, 1000))])
    rte = route(problem, problem.vehicles[0], ["a", "b"])
    a, b = rte.stops
    assert (a.arrival, a.start, a.departure) == (20, 50, 55)
    assert (b.arrival, b.start, b.departure) == (65, 65, 70)
    assert rte.end_arrival == 100
    assert rte.cost == 60


def test_checker_catches_a_violated_window():
    tasks = [Task("a", 5, time_windows=((0, 30),))]
    problem = line_problem(tasks, [Vehicle("v", start=0, end=0)])
    plan = build_plan(problem, {"v": ["a"]})
    bad = check_plan(problem, plan)
    assert [(v.kind, v.stop_id, v.amount) for v in bad] == [("time_window", "a", 20.0)]


def test_checker_uses_the_double_precision_matrix_when_given():
    tasks = [Task("a", 1, time_windows=((0, 10),))]
    problem = line_problem(tasks, [Vehicle("v", start=0)])
    plan = build_plan(problem, {"v": ["a"]})
    assert check_plan(problem, plan) == []
    travel = problem.duration.astype(np.float64) * 1.05
    assert kinds(problem, plan, travel=travel) == ["time_window"]


def test_checker_catches_shift_capacity_tasks_skills_and_duplicates():
    tasks = [
        Task("a", 3, demand=4, skills=frozenset({"gas"})),
        Task("b", 4, demand=4),
        Task("c", 5),
    ]
    vehicles = [
        Vehicle("v", start=0, end=0, shift=(0, 50), capacity=5, max_tasks=1),
        Vehicle("w", start=0),
    ]
    problem = line_problem(tasks, vehicles)
    plan = build_plan(problem, {"v": ["a", "b"], "w": ["b"]})
    assert kinds(problem, plan) == ["capacity", "duplicate", "max_tasks", "shift", "skills"]
    # Without the unassigned list, task c is simply missing from the plan.
    assert "missing" in kinds(problem, Plan(plan.routes))


def test_checker_requires_committed_tasks_first_and_in_order():
    tasks = [Task("a", 1), Task("b", 2), Task("c", 3)]
    problem = line_problem(tasks, [Vehicle("v", start=0, fixed=("a", "b"))])
    assert kinds(problem, build_plan(problem, {"v": ["a", "b", "c"]})) == []
    assert kinds(problem, build_plan(problem, {"v": ["b", "a", "c"]})) == ["fixed"]
    assert kinds(problem, build_plan(problem, {"v": ["c", "a", "b"]})) == ["fixed"]


def test_unassigned_tasks_are_not_missing():
    problem = line_problem([Task("a", 1)], [Vehicle("v", start=0)])
    plan = build_plan(problem, {}, {"a": Unassigned.TIME_WINDOW})
    assert check_plan(problem, plan) == []
    assert plan.unassigned == {"a": Unassigned.TIME_WINDOW}


def test_a_break_is_taken_where_the_vehicle_is():
    brk = Break("lunch", ((40, 60),), duration_s=30)
    tasks = [Task("a", 2), Task("b", 4)]
    problem = line_problem(tasks, [Vehicle("v", start=0, breaks=(brk,))])
    rte = route(problem, problem.vehicles[0], ["a", "lunch", "b"])
    _, lunch, b = rte.stops
    assert (lunch.location, lunch.arrival, lunch.start, lunch.departure) == (2, 20, 40, 70)
    assert b.arrival == 90
    assert check_plan(problem, Plan({"v": rte})) == []


def test_window_start_picks_the_first_window_still_open():
    assert window_start(5, ((0, 3), (10, 20))) == (10, 0.0)
    assert window_start(25, ((0, 3), (10, 20))) == (25, 5.0)
    assert window_start(7, ()) == (7, 0.0)


def test_problem_rejects_contradictions():
    with pytest.raises(InvalidProblem):
        line_problem([Task("a", 1), Task("a", 2)], [Vehicle("v", start=0)])
    with pytest.raises(InvalidProblem):
        line_problem([Task("a", 99)], [Vehicle("v", start=0)])
    with pytest.raises(InvalidProblem):
        line_problem(
            [Task("a", 1)], [Vehicle("v", start=0, fixed=("a",)), Vehicle("w", 0, fixed=("a",))]
        )
