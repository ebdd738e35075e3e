"""solve/improve through both backends on small problems (each solve ~0.2 s)."""

from __future__ import annotations

import numpy as np
import pytest

from dispatch.solver import (
    Backend,
    BackendUnavailable,
    Break,
    Problem,
    StabilityPolicy,
    Task,
    Vehicle,
    build_plan,
    check_plan,
    choose_backend,
    improve,
    objective,
    solve,
)


def grid(vehicles: list[Vehicle], n_tasks: int = 24, seed: int = 0, **task_kw) -> Problem:
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 100, (n_tasks + 4, 2))
    d = np.rint(np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    tasks = tuple(Task(f"t{k}", 4 + k, service_s=10, **task_kw) for k in range(n_tasks))
    return Problem(tuple(vehicles), tasks, d)


def fleet(**kw) -> list[Vehicle]:
    return [Vehicle(f"v{i}", start=i, end=i, shift=(0, 5000), **kw) for i in range(3)]


@pytest.mark.parametrize("backend", [Backend.PYVRP, Backend.VROOM])
def test_plans_everything_feasibly_with_committed_tasks_first(backend):
    vehicles = fleet()
    vehicles[1] = Vehicle("v1", start=1, end=1, shift=(0, 5000), fixed=("t5", "t2"))
    problem = grid(vehicles)
    plan = solve(problem, 0.2, seed=1, backend=backend)
    assert check_plan(problem, plan) == []
    assert not plan.unassigned
    assert plan.routes["v1"].task_ids[:2] == ("t5", "t2")


@pytest.mark.parametrize("backend", [Backend.PYVRP, Backend.VROOM])
def test_skills_are_respected(backend):
    vehicles = [
        Vehicle("gas", 0, 0, shift=(0, 9000), skills=frozenset({"gas"})),
        Vehicle("any", 1, 1, shift=(0, 9000), skills=frozenset({"gas", "water"})),
        Vehicle("none", 2, 2, shift=(0, 9000)),
    ]
    base = grid(vehicles)
    needs = ({"gas"}, {"water"}, set())
    tasks = tuple(
        Task(t.id, t.location, t.service_s, skills=frozenset(needs[k % 3]))
        for k, t in enumerate(base.tasks)
    )
    problem = base.with_tasks(tasks)
    plan = solve(problem, 0.2, seed=1, backend=backend)
    assert check_plan(problem, plan) == []
    assert not plan.unassigned
    for t in plan.routes["none"].task_ids:
        assert not problem.task_by_id[t].skills


def test_breaks_go_to_vroom_and_are_scheduled():
    brk = Break("lunch", ((300, 600),), duration_s=60)
    problem = grid(fleet(breaks=(brk,)), n_tasks=12)
    assert choose_backend(problem) is Backend.VROOM
    with pytest.raises(BackendUnavailable):
        solve(problem, 0.1, backend=Backend.PYVRP)
    plan = solve(problem, 0.2)
    assert check_plan(problem, plan) == []
    for rte in plan.routes.values():
        if rte.task_ids:
            assert "lunch" in rte.sequence


def test_open_routes_and_max_tasks():
    vehicles = [Vehicle(f"v{i}", start=i, shift=(0, 5000), max_tasks=9) for i in range(3)]
    problem = grid(vehicles)
    assert choose_backend(problem) is Backend.PYVRP
    plan = solve(problem, 0.2, seed=2)
    assert check_plan(problem, plan) == []
    sizes = [len(r.task_ids) for r in plan.routes.values()]
    assert max(sizes) <= 9 and sum(sizes) == 24
    for rte in plan.routes.values():  # open: the route ends where its last task ends
        if rte.stops:
            assert rte.end_arrival == rte.stops[-1].departure


def test_impossible_tasks_come_back_unassigned():
    problem = grid(fleet(), n_tasks=6, time_windows=((0, 1),))
    plan = solve(problem, 0.2)
    assert check_plan(problem, plan) == []
    assert set(plan.unassigned) == {
        t.id for t in problem.tasks if problem.duration[0, t.location] > 1
    }


def test_a_warm_start_is_never_made_worse_and_improve_is_stable():
    problem = grid(fleet())
    first = solve(problem, 0.2, seed=1)
    again = solve(problem, 0.05, warm_start=first, seed=9)
    assert objective(again) <= objective(first)
    out = improve(problem, first, StabilityPolicy(10**6), {}, now=0, time_limit_s=0.1)
    assert out.churn.moved == 0
    assert check_plan(problem, out.plan) == []


def test_the_move_price_keeps_tasks_on_their_vehicle():
    """With a prohibitive move price, a warm-started re-solve may reorder routes but not move
    tasks between vehicles; without one, a poor assignment is repaired."""
    problem = grid(fleet(), n_tasks=12)
    # A poor warm start: tasks dealt round-robin regardless of where they are.
    dealt = {f"v{i}": [f"t{k}" for k in range(i, 12, 3)] for i in range(3)}
    warm = build_plan(problem, dealt)
    priced = solve(problem, 0.2, warm_start=warm, seed=1, move_penalty=10**6)
    assert priced.assignment == warm.assignment
    free = solve(problem, 0.2, warm_start=warm, seed=1)
    assert free.cost < priced.cost <= warm.cost


def test_improve_defers_then_retries_with_a_higher_price():
    problem = grid(fleet(), n_tasks=12)
    dealt = {f"v{i}": [f"t{k}" for k in range(i, 12, 3)] for i in range(3)}
    warm = build_plan(problem, dealt)
    policy = StabilityPolicy(1, max_moved_ratio=0.1, burst_ratio=0.1)
    out = improve(problem, warm, policy, {}, now=0, time_limit_s=0.3)
    assert out.churn.moved <= 1.2  # 10 % of 12 planned tasks
    assert out.plan.cost <= warm.cost
    assert check_plan(problem, out.plan) == []
