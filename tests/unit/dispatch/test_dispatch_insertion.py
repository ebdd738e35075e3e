"""Cheapest feasible insertion: skills, windows, committed steps, capacity, breaks."""

from __future__ import annotations

import numpy as np
import pytest

from dispatch.solver import (
    Break,
    DuplicateTask,
    Problem,
    Task,
    Unassigned,
    Vehicle,
    build_plan,
    check_plan,
    insert,
)

from .dispatch_solver_helpers import line_problem


def add(problem: Problem, task: Task) -> Problem:
    return problem.with_tasks((*problem.tasks, task))


def test_inserts_at_the_cheapest_position():
    tasks = [Task("a", 2), Task("b", 6)]
    problem = line_problem(tasks, [Vehicle("v", start=0, end=0)])
    plan = build_plan(problem, {"v": ["a", "b"]})
    new = Task("n", 4)
    done = insert(plan, add(problem, new), new)
    assert done.plan.routes["v"].task_ids == ("a", "n", "b")
    assert (done.vehicle_id, done.position, done.cost) == ("v", 1, 0)
    assert check_plan(add(problem, new), done.plan) == []


def test_respects_skills():
    vehicles = [Vehicle("near", start=4), Vehicle("far", start=11, skills=frozenset({"gas"}))]
    problem = line_problem([], vehicles)
    plan = build_plan(problem, {})
    new = Task("n", 5, skills=frozenset({"gas"}))
    assert insert(plan, add(problem, new), new).vehicle_id == "far"
    none = Task("x", 5, skills=frozenset({"water"}))
    out = insert(plan, add(problem, none), none)
    assert out.vehicle_id is None and out.plan.unassigned == {"x": Unassigned.SKILLS}


def test_respects_time_windows_of_the_new_and_the_planned_tasks():
    # b must start by 60; squeezing n (10 away) before b would make b late.
    tasks = [Task("a", 2), Task("b", 4, time_windows=((0, 60),))]
    problem = line_problem(tasks, [Vehicle("v", start=0, shift=(20, 1000))])
    plan = build_plan(problem, {"v": ["a", "b"]})
    new = Task("n", 3, service_s=30)
    got = insert(plan, add(problem, new), new)
    assert got.plan.routes["v"].task_ids == ("a", "b", "n")
    late = Task("late", 5, time_windows=((0, 10),))
    out = insert(plan, add(problem, late), late)
    assert out.plan.unassigned == {"late": Unassigned.TIME_WINDOW}


def test_respects_the_shift_end():
    problem = line_problem([], [Vehicle("v", start=0, end=0, shift=(0, 100))])
    plan = build_plan(problem, {})
    far = Task("far", 6)  # 60 there + 60 back > 100
    assert insert(plan, add(problem, far), far).vehicle_id is None
    near = Task("near", 4)
    assert insert(plan, add(problem, near), near).vehicle_id == "v"


def test_never_inserts_before_or_between_committed_steps():
    tasks = [Task("a", 8), Task("b", 9), Task("c", 10)]
    problem = line_problem(tasks, [Vehicle("v", start=0, fixed=("a", "b"))])
    plan = build_plan(problem, {"v": ["a", "b", "c"]})
    new = Task("n", 1)  # cheapest would be first: right next to the start
    got = insert(plan, add(problem, new), new)
    assert got.plan.routes["v"].task_ids[:2] == ("a", "b")
    assert got.position is not None and got.position >= 2


def test_respects_capacity_and_max_tasks():
    vehicles = [Vehicle("small", 0, capacity=3), Vehicle("busy", 0, max_tasks=1)]
    problem = line_problem([Task("a", 1)], vehicles)
    plan = build_plan(problem, {"busy": ["a"]})
    heavy = Task("heavy", 2, demand=5)
    out = insert(plan, add(problem, heavy), heavy)
    assert out.plan.unassigned == {"heavy": Unassigned.CAPACITY}
    light = Task("light", 2, demand=2)
    assert insert(plan, add(problem, light), light).vehicle_id == "small"


def test_does_not_displace_a_break():
    brk = Break("lunch", ((30, 40),), duration_s=20)
    tasks = [Task("a", 3), Task("b", 5)]
    problem = line_problem(tasks, [Vehicle("v", start=0, breaks=(brk,))])
    plan = build_plan(problem, {"v": ["a", "lunch", "b"]})
    new = Task("n", 3)
    got = insert(plan, add(problem, new), new)
    assert check_plan(add(problem, new), got.plan) == []
    seq = got.plan.routes["v"].sequence
    assert seq.index("n") != seq.index("lunch") - 1


def test_rejects_a_task_already_planned():
    problem = line_problem([Task("a", 1)], [Vehicle("v", 0)])
    plan = build_plan(problem, {"v": ["a"]})
    with pytest.raises(DuplicateTask):
        insert(plan, problem, problem.tasks[0])


def test_a_stream_of_insertions_matches_fresh_evaluation():
    """The carried-over arrays give the same answer as rebuilding them from scratch."""
    rng = np.random.default_rng(3)
    vehicles = [Vehicle(f"v{i}", start=int(rng.integers(0, 12)), shift=(0, 400)) for i in range(3)]
    problem = line_problem([], vehicles)
    plan = build_plan(problem, {})
    for k in range(15):
        early = int(rng.integers(0, 200))
        task = Task(f"t{k}", int(rng.integers(0, 12)), 5, ((early, early + 80),))
        problem = add(problem, task)
        streamed = insert(plan, problem, task)
        fresh = insert(build_plan(problem, plan.sequences(), plan.unassigned), problem, task)
        assert (streamed.vehicle_id, streamed.position) == (fresh.vehicle_id, fresh.position)
        plan = streamed.plan
        assert check_plan(problem, plan) == []
