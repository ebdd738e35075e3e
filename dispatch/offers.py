"""Offer candidates: technicians ordered by the marginal cost of inserting a job into each
one's route (pure).

The hot path already puts a job where it costs least (``dispatch.solver.insert``), so the
first candidate is the technician it is offered to. When that one declines or stays silent,
the job is pending again with that technician excluded, and the next recompute inserts it
at the cheapest technician *left* — the next candidate by marginal insertion cost, priced on
the routes as they are then, not as they were at the first offer. ``candidates`` computes
the ranking itself, recorded with each offer (the audit trail says who was next, and at
what cost).
"""

from __future__ import annotations

from collections.abc import Iterable

from dispatch.solver import Plan, Problem, Task, build_plan, insert


def marginal(problem: Problem, plan: Plan, task: Task, vehicle_id: str) -> int | None:
    """Travel cost added by the cheapest feasible insertion of ``task`` into this one
    vehicle's route; None if it cannot take it (skills, capacity, windows, shift)."""
    v = problem.vehicle_by_id[vehicle_id]
    if not task.skills <= v.skills:
        return None
    rte = plan.routes.get(vehicle_id)
    seq = rte.sequence if rte else v.fixed
    ids = set(seq) | {task.id}
    sub = Problem((v,), tuple(t for t in problem.tasks if t.id in ids), problem.duration,
                  problem.distance)
    base = build_plan(sub, {v.id: [s for s in seq if s != task.id]})
    ins = insert(base, sub, task)
    return ins.cost


def candidates(problem: Problem, plan: Plan, task: Task, vehicle_ids: Iterable[str],
               limit: int = 3, load_cost: int = 0) -> list[tuple[str, int]]:
    """Up to ``limit`` (technician, marginal cost), cheapest first (ties by id). With
    ``load_cost`` > 0 they are ranked as ``insert`` chooses: marginal cost plus ``load_cost``
    per job planned beyond the least-loaded of them (the cost shown stays the travel cost)."""
    costs = []
    for vid in vehicle_ids:
        c = marginal(problem, plan, task, vid)
        if c is not None:
            costs.append((vid, c))
    load = {vid: _planned(problem, plan, vid) for vid, _ in costs}
    least = min(load.values(), default=0)
    costs.sort(key=lambda x: (x[1] + load_cost * (load[x[0]] - least), x[0]))
    return costs[:limit]


def _planned(problem: Problem, plan: Plan, vehicle_id: str) -> int:
    """Tasks on the vehicle's route (its job under way included)."""
    rte = plan.routes.get(vehicle_id)
    return len(rte.task_ids) if rte else len(problem.vehicle_by_id[vehicle_id].fixed)
