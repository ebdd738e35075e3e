"""Local re-solves: which routes are near a job, and the sub-problem they form."""

from __future__ import annotations

from dispatch.solver import Task, Unassigned, Vehicle, build_plan, check_plan
from dispatch.solver.neighbourhood import merge, nearest_vehicles, subproblem

from .dispatch_solver_helpers import line_problem


def city():
    tasks = [Task("a", 1), Task("b", 2), Task("c", 9), Task("d", 10), Task("x", 6)]
    vehicles = [Vehicle("L", 0, 0), Vehicle("M", 5, 5, fixed=("x",)), Vehicle("R", 11, 11)]
    problem = line_problem(tasks, vehicles)
    return problem, build_plan(problem, {"L": ["a", "b"], "M": ["x"], "R": ["c", "d"]})


def test_nearest_vehicles_measure_to_any_stop_of_the_route():
    problem, plan = city()
    assert nearest_vehicles(problem, plan, 8, 2) == ["R", "M"]
    assert nearest_vehicles(problem, plan, 3, 1) == ["L"]


def test_subproblem_keeps_the_chosen_routes_their_tasks_and_the_unassigned():
    problem, plan = city()
    plan = build_plan(problem, plan.sequences(), {})
    extra = Task("y", 4)
    problem = problem.with_tasks((*problem.tasks, extra))
    plan = build_plan(problem, plan.sequences(), {"y": Unassigned.TIME_WINDOW})
    sub, warm = subproblem(problem, plan, ["L", "M"])
    assert [v.id for v in sub.vehicles] == ["L", "M"]
    assert {t.id for t in sub.tasks} == {"a", "b", "x", "y"}
    assert warm.routes["M"].task_ids == ("x",) and warm.unassigned == {"y": Unassigned.TIME_WINDOW}
    local = build_plan(sub, {"L": ["b", "a"], "M": ["x", "y"]})
    merged = merge(problem, plan, local)
    assert merged.routes["R"] is plan.routes["R"]
    assert merged.routes["M"].task_ids == ("x", "y") and not merged.unassigned
    assert check_plan(problem, merged) == []
