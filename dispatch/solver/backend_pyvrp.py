"""The problem expressed for PyVRP (iterated local search; PyVRP >= 0.14).

Mapping, as PyVRP's documentation describes its features:

- current position / committed work: each vehicle starts at its frontier (``frontier.py``); one
  PyVRP depot per distinct start or end location, one vehicle type per group of identical
  vehicles (``num_available`` = group size), shift = the type's ``tw_early``/``tw_late``.
- open routes (``end=None``): a dummy end depot reached at zero cost from everywhere and left
  at a prohibitive cost (PyVRP FAQ, "open routing problems").
- skills: PyVRP has none. Following its "site-dependent VRP" / access-restriction recipe
  (routing profiles notebook) every distinct skill set of the fleet gets a routing profile whose
  edges *into* the tasks it may not serve cost ``FORBIDDEN``. Each task gets its own PyVRP
  location so a forbidden edge never blocks another task at the same address. The prohibitive
  cost is soft for PyVRP; ``check_plan`` rejects any route that still uses one.
- max tasks: an extra load dimension, one unit per task, capacity = the task budget.
- priorities: tasks are optional clients with a prize that dwarfs any detour, larger for higher
  priority, so PyVRP leaves tasks out only when they cannot fit, lowest priority first.
- breaks and multiple time windows are not expressible: ``BackendUnavailable``.
- warm start: the given plan becomes PyVRP's ``initial_solution``.
- churn in the objective (``move_penalty`` with a warm start): every vehicle gets a vehicle type
  and a profile of its own, whose edges into tasks the warm start gave to *another* vehicle
  cost ``move_penalty`` more. The search then weighs each reassignment exactly as ``stabilise``
  will. It costs one pair of matrices per vehicle, so it is used only while they fit in
  ``MATRIX_BUDGET`` (small fleets and the local re-solves of ``neighbourhood``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pyvrp
from numpy.typing import NDArray

from dispatch.solver.errors import BackendUnavailable
from dispatch.solver.frontier import Frontier, free_task_ids, frontier, match_vehicles
from dispatch.solver.model import MAX_TIME, Plan, Problem, Task

FORBIDDEN = 10**12
# Bytes PyVRP may spend on matrices (two per profile, int64) before VROOM is preferred. Measured
# (docs/dispatch-solver.md): 1,000 technicians × 5,000 jobs with 7 skill profiles needs 4 GiB,
# peaks at 8.5 GB RSS and routes 23 % longer than VROOM; with one profile PyVRP wins.
MATRIX_BUDGET = 2**30


def _fits(problem: Problem, profiles: int) -> bool:
    n = len(problem.tasks) + 2 * len(problem.vehicles) + 1
    return 16 * n * n * profiles <= MATRIX_BUDGET


def supports(problem: Problem) -> str | None:
    """Why PyVRP cannot take ``problem``, or None when it can."""
    if any(v.breaks for v in problem.vehicles):
        return "breaks"
    if any(len(t.time_windows) > 1 for t in problem.tasks):
        return "multiple time windows"
    if not _fits(problem, len(_profiles(problem))):
        return "matrices too large"
    return None


def _profiles(problem: Problem) -> list[frozenset[str]]:
    if not any(t.skills for t in problem.tasks):
        return [frozenset()]
    return sorted({v.skills for v in problem.vehicles}, key=sorted)


class _Build:
    """The PyVRP ProblemData and the maps back to our ids."""

    def __init__(self, problem: Problem, anchor: dict[str, str], move_penalty: int) -> None:
        self.problem = problem
        # Task -> vehicle of the warm start; empty unless moves are priced in the objective.
        self.anchor = anchor if move_penalty > 0 else {}
        self.move_penalty = move_penalty
        self.fronts = [frontier(problem, v) for v in problem.vehicles]
        self.tasks: list[Task] = [problem.task_by_id[t] for t in free_task_ids(problem)]
        depot_locs: list[int] = []
        for f in self.fronts:
            for loc in (f.location, f.vehicle.end):
                if loc is not None and loc not in depot_locs:
                    depot_locs.append(loc)
        self.open_end = any(f.vehicle.end is None for f in self.fronts)
        self.depot_index = {loc: i for i, loc in enumerate(depot_locs)}
        self.dummy = len(depot_locs) if self.open_end else -1
        # PyVRP location k -> matrix index (-1: the dummy end).
        index = depot_locs + ([-1] if self.open_end else []) + [t.location for t in self.tasks]
        self.index = np.asarray(index, dtype=np.int64)
        self.first_client = len(index) - len(self.tasks)
        self.profiles: list[tuple[frozenset[str], str | None]] = (
            [(v.skills, v.id) for v in problem.vehicles]
            if self.anchor
            else [(skills, None) for skills in _profiles(problem)]
        )
        self.groups = self._groups()
        self.data = self._data()

    def _matrix(
        self, full: NDArray[np.int64], skills: frozenset[str], owner: str | None
    ) -> NDArray[np.int64]:
        safe = np.where(self.index < 0, 0, self.index)
        sub: NDArray[np.int64] = full[np.ix_(safe, safe)].astype(np.int64)
        if self.open_end:
            sub[self.dummy, :] = FORBIDDEN
            sub[:, self.dummy] = 0
        for k, task in enumerate(self.tasks):
            if not task.skills <= skills:
                sub[:, self.first_client + k] = FORBIDDEN
            elif owner is not None and self.anchor.get(task.id, owner) != owner:
                sub[:, self.first_client + k] += self.move_penalty
        np.fill_diagonal(sub, 0)
        return sub

    def _groups(self) -> dict[Hashable, list[Frontier]]:
        groups: dict[Hashable, list[Frontier]] = {}
        for f in self.fronts:
            v = f.vehicle
            key: Hashable = (
                v.id
                if self.anchor
                else (f.location, v.end, f.ready_at, v.shift[1], f.capacity, f.max_tasks, v.skills)
            )
            groups.setdefault(key, []).append(f)
        return groups

    def _data(self) -> pyvrp.ProblemData:
        problem = self.problem
        use_load = any(f.capacity is not None for f in self.fronts) or any(
            t.demand for t in self.tasks
        )
        use_count = any(f.max_tasks is not None for f in self.fronts)
        big = 2**40
        locations = [pyvrp.Location(x=float(i), y=0.0) for i in range(len(self.index))]
        depots = [pyvrp.Depot(location=i) for i in range(len(self.depot_index))]
        if self.open_end:
            depots.append(pyvrp.Depot(location=self.dummy))
        prize = 10 * int(problem.cost.max()) + 1
        clients = []
        for k, task in enumerate(self.tasks):
            early, late = task.time_windows[0] if task.time_windows else (0, MAX_TIME)
            load = ([task.demand] if use_load else []) + ([1] if use_count else [])
            clients.append(
                pyvrp.Client(
                    location=self.first_client + k,
                    delivery=load,
                    service_duration=task.service_s,
                    tw_early=early,
                    tw_late=late,
                    required=False,
                    prize=prize * (1 + task.priority),
                )
            )
        types = []
        for group in self.groups.values():
            f = group[0]
            v = f.vehicle
            cap = ([big if f.capacity is None else f.capacity] if use_load else []) + (
                [big if f.max_tasks is None else f.max_tasks] if use_count else []
            )
            end = self.dummy if v.end is None else self.depot_index[v.end]
            types.append(
                pyvrp.VehicleType(
                    num_available=len(group),
                    capacity=cap,
                    start_depot=self.depot_index[f.location],
                    end_depot=end,
                    tw_early=f.ready_at,
                    tw_late=v.shift[1],
                    profile=self._profile_of(v.id, v.skills),
                    name=v.id,
                )
            )
        # PyVRP's stub types matrices loosely; these are int64 square arrays.
        dist: list[Any] = [self._matrix(problem.cost, *p) for p in self.profiles]
        # Durations never carry the move price, only the skill restrictions.
        dur: list[Any] = [self._matrix(problem.duration, p[0], None) for p in self.profiles]
        return pyvrp.ProblemData(locations, clients, depots, types, dist, dur)

    def _profile_of(self, vehicle_id: str, skills: frozenset[str]) -> int:
        if self.anchor:
            return self.profiles.index((skills, vehicle_id))
        return self.profiles.index((skills, None))

    def initial(self, plan: Plan) -> pyvrp.Solution | None:
        """``plan`` as a PyVRP solution (vehicle ids map onto their group's type)."""
        client = {t.id: k for k, t in enumerate(self.tasks)}
        type_of = {f.vehicle.id: i for i, g in enumerate(self.groups.values()) for f in g}
        routes = []
        for vid, rte in plan.routes.items():
            visits = [client[t] for t in rte.task_ids if t in client]
            if visits and vid in type_of:
                routes.append(pyvrp.Route(self.data, visits, type_of[vid]))
        return pyvrp.Solution(self.data, routes) if routes else None

    def sequences(self, solution: pyvrp.Solution, previous: dict[str, str]) -> dict[str, list[str]]:
        per_type: dict[int, list[list[str]]] = {}
        for r in solution.routes():
            ids = [self.tasks[a.idx].id for a in r if a.is_client()]
            per_type.setdefault(r.vehicle_type(), []).append(ids)
        out: dict[str, list[str]] = {}
        for i, group in enumerate(self.groups.values()):
            ids = [f.vehicle.id for f in group]
            for vid, tasks in match_vehicles(ids, per_type.get(i, []), previous).items():
                out[vid] = list(self.problem.vehicle_by_id[vid].fixed) + tasks
        return out


class Deadline:
    """PyVRP stopping criterion on a clock. ``MaxRuntime`` starts counting only when the
    search loop starts, after PyVRP's set-up (neighbour lists, a first local search), which
    takes seconds on thousands of tasks; a deadline bounds the whole call."""

    def __init__(self, clock: Callable[[], float], deadline: float) -> None:
        self.clock = clock
        self.deadline = deadline

    def __call__(self, best_cost: int) -> bool:
        return self.clock() >= self.deadline


def solve(
    problem: Problem,
    time_limit_s: float,
    warm_start: Plan | None,
    seed: int,
    move_penalty: int = 0,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[str]]:
    """Vehicle id → task sequence (committed tasks first) found by PyVRP within the limit
    (measured on ``clock``).

    ``move_penalty`` > 0 with a warm start prices every task moved off its warm-start vehicle
    into the objective (when the per-vehicle matrices fit; otherwise it is ignored here and
    left to ``stabilise``)."""
    began = clock()
    if (reason := supports(problem)) is not None:
        raise BackendUnavailable("pyvrp", reason)
    anchor = {} if warm_start is None else dict(warm_start.assignment)
    if not _fits(problem, len(problem.vehicles)):
        move_penalty = 0
    build = _Build(problem, anchor, move_penalty)
    initial = build.initial(warm_start) if warm_start is not None else None
    result = pyvrp.solve(
        build.data,
        stop=Deadline(clock, began + time_limit_s),
        seed=seed,
        collect_stats=False,
        display=False,
        initial_solution=initial,
    )
    previous = dict(warm_start.assignment) if warm_start is not None else {}
    return build.sequences(result.best, previous)
