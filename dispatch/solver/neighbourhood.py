"""Local re-optimisation: the few vehicles around a new job, as a problem of their own.

A warm-started re-solve of the whole fleet tends to reshuffle routes far from the change (the
search drifts, and any better solution is taken), which is churn without a reason the
technician can see. Re-solving only the routes near the change bounds the churn by
construction and converges far faster; the result still goes through ``stabilise``.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from dispatch.solver.model import Plan, Problem, Unassigned
from dispatch.solver.schedule import build_plan


def nearest_vehicles(problem: Problem, plan: Plan, location: int, count: int) -> list[str]:
    """The ``count`` vehicles whose route (start or any stop) passes closest to ``location``
    (round-trip cost), nearest first."""
    cost = problem.cost
    scores = []
    for vehicle in problem.vehicles:
        rte = plan.routes.get(vehicle.id)
        locs = [vehicle.start] + ([s.location for s in rte.stops] if rte else [])
        idx = np.asarray(locs, dtype=np.int64)
        scores.append(int((cost[idx, location] + cost[location, idx]).min()))
    order = np.argsort(np.asarray(scores), kind="stable")[:count]
    return [problem.vehicles[i].id for i in order]


def subproblem(problem: Problem, plan: Plan, vehicle_ids: Collection[str]) -> tuple[Problem, Plan]:
    """The chosen vehicles with the tasks they carry plus every unassigned task, and the
    plan restricted to them (the warm start of the local re-solve)."""
    chosen = set(vehicle_ids)
    vehicles = tuple(v for v in problem.vehicles if v.id in chosen)
    keep = {t for v in vehicles for t in plan.routes[v.id].task_ids} | set(plan.unassigned)
    tasks = tuple(t for t in problem.tasks if t.id in keep)
    sub = Problem(vehicles, tasks, problem.duration, problem.distance)
    sequences = {v.id: plan.routes[v.id].sequence for v in vehicles}
    unassigned = {t: r for t, r in plan.unassigned.items() if t in keep}
    return sub, build_plan(sub, sequences, unassigned)


def merge(problem: Problem, plan: Plan, local: Plan) -> Plan:
    """``plan`` with the routes ``local`` re-optimised put in (a candidate for stabilise)."""
    routes = {**plan.routes, **local.routes}
    planned = {t for r in routes.values() for t in r.task_ids}
    reasons = {**plan.unassigned, **local.unassigned}
    unassigned = {
        t.id: reasons.get(t.id, Unassigned.SOLVER) for t in problem.tasks if t.id not in planned
    }
    return Plan(routes, unassigned)
