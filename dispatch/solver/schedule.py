"""Schedules and feasibility, computed here and not trusted from any solver.

``route`` turns a vehicle's stop sequence into a timed ``Route`` (earliest-start schedule, the
ETAs shown to customers). ``check_plan`` re-walks every route in double precision and lists
every violated rule: time windows, shift end, capacity, max tasks, skills, committed tasks
first and in order, each task at most once. Breaks are taken where the vehicle is: they add no
travel, only a wait for their window and their duration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dispatch.solver.model import (
    Break,
    Plan,
    Problem,
    Route,
    StepKind,
    Stop,
    Task,
    Unassigned,
    Vehicle,
    Window,
)


@dataclass(frozen=True)
class Violation:
    """One broken rule; ``amount`` is how far (time units, load units or a count)."""

    vehicle_id: str | None
    stop_id: str | None
    kind: str
    amount: float = 0.0


def window_start(arrival: float, windows: Sequence[Window]) -> tuple[float, float]:
    """(service start, lateness) for an arrival: wait for the first window not yet closed."""
    if not windows:
        return arrival, 0.0
    for early, late in windows:
        if arrival <= late:
            return max(arrival, early), 0.0
    return arrival, arrival - windows[-1][1]


def _step(problem: Problem, vehicle: Vehicle, stop_id: str) -> Task | Break | None:
    for brk in vehicle.breaks:
        if brk.id == stop_id:
            return brk
    return problem.task_by_id.get(stop_id)


def _walk(
    problem: Problem,
    vehicle: Vehicle,
    sequence: Sequence[str],
    travel: NDArray[np.int64] | NDArray[np.float64],
    tolerance: float,
) -> tuple[list[tuple[str, StepKind, int, float, float, float]], float, list[Violation]]:
    """Walk a sequence; returns timed stops, end arrival and violations."""
    vid = vehicle.id
    stops: list[tuple[str, StepKind, int, float, float, float]] = []
    bad: list[Violation] = []
    here, clock = vehicle.start, float(vehicle.shift[0])
    load = tasks = 0
    for stop_id in sequence:
        step = _step(problem, vehicle, stop_id)
        if step is None:
            bad.append(Violation(vid, stop_id, "unknown"))
            continue
        if isinstance(step, Break):
            start, late = window_start(clock, step.time_windows)
            stops.append((stop_id, StepKind.BREAK, here, clock, start, start + step.duration_s))
        else:
            arrival = clock + float(travel[here, step.location])
            start, late = window_start(arrival, step.time_windows)
            here = step.location
            stops.append((stop_id, StepKind.TASK, here, arrival, start, start + step.service_s))
            load += step.demand
            tasks += 1
            if not step.skills <= vehicle.skills:
                bad.append(Violation(vid, stop_id, "skills", len(step.skills - vehicle.skills)))
        if late > tolerance:
            bad.append(Violation(vid, stop_id, "time_window", late))
        clock = stops[-1][5]
    end = clock if vehicle.end is None else clock + float(travel[here, vehicle.end])
    if end - vehicle.shift[1] > tolerance:
        bad.append(Violation(vid, None, "shift", end - vehicle.shift[1]))
    if vehicle.capacity is not None and load > vehicle.capacity:
        bad.append(Violation(vid, None, "capacity", load - vehicle.capacity))
    if vehicle.max_tasks is not None and tasks > vehicle.max_tasks:
        bad.append(Violation(vid, None, "max_tasks", tasks - vehicle.max_tasks))
    return stops, end, bad


def route_violations(
    problem: Problem, vehicle: Vehicle, sequence: Sequence[str]
) -> list[Violation]:
    """The rules ``sequence`` breaks on ``vehicle`` (integer matrices, no tolerance)."""
    return _walk(problem, vehicle, sequence, problem.duration, 0.0)[2]


def route(problem: Problem, vehicle: Vehicle, sequence: Sequence[str]) -> Route:
    """The timed route for ``sequence`` (task and break ids) on the integer matrices."""
    stops, end, _ = _walk(problem, vehicle, sequence, problem.duration, 0.0)
    cost, here = 0, vehicle.start
    for _, kind, loc, *_ in stops:
        if kind is StepKind.TASK:
            cost += int(problem.cost[here, loc])
            here = loc
    if vehicle.end is not None:
        cost += int(problem.cost[here, vehicle.end])
    timed = tuple(Stop(i, k, loc, int(a), int(s), int(d)) for i, k, loc, a, s, d in stops)
    return Route(vehicle.id, timed, int(end), cost)


def build_plan(
    problem: Problem,
    sequences: Mapping[str, Sequence[str]],
    unassigned: Mapping[str, Unassigned] | None = None,
) -> Plan:
    """A plan from vehicle id → sequence; vehicles not named get an empty route (with their
    fixed tasks). Tasks neither routed nor in ``unassigned`` are marked ``SOLVER``."""
    routes = {v.id: route(problem, v, sequences.get(v.id, v.fixed)) for v in problem.vehicles}
    planned = {t for r in routes.values() for t in r.task_ids}
    left = dict(unassigned or {})
    for task in problem.tasks:
        if task.id not in planned and task.id not in left:
            left[task.id] = Unassigned.SOLVER
    return Plan(routes, {t: r for t, r in left.items() if t not in planned})


def check_plan(
    problem: Problem,
    plan: Plan,
    travel: NDArray[np.float64] | None = None,
    tolerance: float = 1e-6,
) -> list[Violation]:
    """Every rule the plan breaks, walked in double precision.

    ``travel`` replaces the integer ``duration`` matrix (e.g. unrounded Euclidean distances for
    the Solomon convention); it must be in the same time unit as the windows.
    """
    matrix = problem.duration.astype(np.float64) if travel is None else travel
    bad: list[Violation] = []
    seen: dict[str, str] = {}
    for vid, rte in plan.routes.items():
        vehicle = problem.vehicle_by_id.get(vid)
        if vehicle is None:
            bad.append(Violation(vid, None, "unknown_vehicle"))
            continue
        ids = rte.sequence
        _, _, broken = _walk(problem, vehicle, ids, matrix, tolerance)
        bad += broken
        if rte.task_ids[: len(vehicle.fixed)] != vehicle.fixed:
            bad.append(Violation(vid, None, "fixed"))
        for task_id in rte.task_ids:
            if task_id in seen:
                bad.append(Violation(vid, task_id, "duplicate"))
            seen[task_id] = vid
    for task in problem.tasks:
        if task.id not in seen and task.id not in plan.unassigned:
            bad.append(Violation(None, task.id, "missing"))
    return bad
