"""What a solver may still change: each vehicle's *frontier* after its committed work.

Neither VROOM nor PyVRP can pin steps at the head of a route while optimising the rest (VROOM's
vehicle ``steps`` are only a starting solution; PyVRP has no such notion). So committed tasks
are taken out of the problem: the vehicle starts where its last committed task ends, when it
ends, with that much less capacity and task budget. The committed tasks are put back in front
of whatever the solver returns. This is exact because committed work is first on the route.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dispatch.solver.model import Problem, Vehicle
from dispatch.solver.schedule import route


@dataclass(frozen=True)
class Frontier:
    """A vehicle as the solver sees it, after its committed tasks."""

    vehicle: Vehicle
    location: int
    ready_at: int
    capacity: int | None
    max_tasks: int | None


def frontier(problem: Problem, vehicle: Vehicle) -> Frontier:
    rte = route(problem, vehicle, vehicle.fixed)
    location, ready = vehicle.start, vehicle.shift[0]
    if rte.stops:
        location, ready = rte.stops[-1].location, rte.stops[-1].departure
    used = sum(problem.task_by_id[t].demand for t in vehicle.fixed)
    capacity = None if vehicle.capacity is None else max(0, vehicle.capacity - used)
    budget = None if vehicle.max_tasks is None else max(0, vehicle.max_tasks - len(vehicle.fixed))
    return Frontier(vehicle, location, ready, capacity, budget)


def free_task_ids(problem: Problem) -> list[str]:
    """Tasks the solver may place: all but the committed ones."""
    return [t.id for t in problem.tasks if t.id not in problem.fixed_owner]


def match_vehicles(
    ids: Sequence[str],
    routes: Sequence[Sequence[str]],
    previous: Mapping[str, str],
) -> dict[str, list[str]]:
    """Give interchangeable vehicles ``ids`` the solver's anonymous ``routes`` so that as many
    tasks as possible keep their previous vehicle (greedy on overlap; ``previous`` is task →
    vehicle). Without this, identical vehicles would swap whole routes and count as churn."""
    pairs = []
    for r, tasks in enumerate(routes):
        counts: dict[str, int] = {}
        for task in tasks:
            if (v := previous.get(task)) is not None:
                counts[v] = counts.get(v, 0) + 1
        pairs += [(n, r, v) for v, n in counts.items()]
    pairs.sort(key=lambda p: -p[0])
    out: dict[str, list[str]] = {}
    used_routes: set[int] = set()
    wanted = set(ids)
    for _, r, v in pairs:
        if r not in used_routes and v in wanted and v not in out:
            out[v] = list(routes[r])
            used_routes.add(r)
    spare = iter(v for v in ids if v not in out)
    for r, tasks in enumerate(routes):
        if r not in used_routes:
            out[next(spare)] = list(tasks)
    return out
