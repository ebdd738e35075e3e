"""The problem expressed for VROOM (pyvroom >= 1.14).

VROOM speaks the dispatch vocabulary natively: skills (integer sets; a job needs all of its),
job time windows (several), priorities (0..100), breaks with windows, ``max_tasks``, start at
any location, open routes (no ``end``). Committed work is handled by ``frontier.py`` (VROOM's
vehicle ``steps`` only seed the search; they do not pin anything). A warm start becomes those
``steps``. Costs come from a cost matrix (``Problem.cost``), travel times from ``duration``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import numpy as np
import vroom

from dispatch.solver.frontier import free_task_ids, frontier
from dispatch.solver.model import Plan, Problem

PROFILE = "car"


def exploration_level(tasks: int, time_limit_s: float) -> int:
    """VROOM's ``timeout`` bounds its local search but not its construction heuristics, whose
    number grows with the level: on 1,000 × 5,000 level 5 took 122 s against a 30 s timeout,
    level 0 46 s (and routed shorter). Small problems with time to spare get the full search."""
    if tasks > 1000 or time_limit_s < 2.0:
        return 0
    return 5


def _skill_ids(problem: Problem) -> dict[str, int]:
    names = sorted({s for t in problem.tasks for s in t.skills})
    return {name: i for i, name in enumerate(names)}


def _input(problem: Problem, warm_start: Plan | None) -> tuple[vroom.Input, list[str], list[str]]:
    """The VROOM input plus the job-id and vehicle-id maps (VROOM ids are list positions)."""
    skills = _skill_ids(problem)
    free = free_task_ids(problem)
    job_of = {t: k for k, t in enumerate(free)}
    fronts = [frontier(problem, v) for v in problem.vehicles]
    use_load = any(f.capacity is not None for f in fronts) or any(
        problem.task_by_id[t].demand for t in free
    )
    big = 2**31 - 1
    inp = vroom.Input()
    inp.set_durations_matrix(PROFILE, problem.duration.astype(np.uint32))
    inp.set_costs_matrix(PROFILE, problem.cost.astype(np.uint32))
    for k, task_id in enumerate(free):
        task = problem.task_by_id[task_id]
        inp.add_job(
            vroom.Job(
                id=k,
                location=task.location,
                default_service=task.service_s,
                delivery=[task.demand] if use_load else [],
                skills={skills[s] for s in task.skills},
                priority=task.priority,
                time_windows=[vroom.TimeWindow(a, b) for a, b in task.time_windows],
            )
        )
    warm = warm_start.routes if warm_start is not None else {}
    for i, f in enumerate(fronts):
        v = f.vehicle
        breaks = [
            vroom.Break(
                id=i * 1000 + b,
                time_windows=[vroom.TimeWindow(a, z) for a, z in brk.time_windows],
                service=brk.duration_s,
            )
            for b, brk in enumerate(v.breaks)
        ]
        steps = []
        if v.id in warm:
            jobs = [job_of[t] for t in warm[v.id].task_ids if t in job_of]
            if jobs and not v.breaks:
                steps = [vroom.VehicleStepStart()]
                steps += [vroom.VehicleStepSingle(j) for j in jobs]
                steps.append(vroom.VehicleStepEnd())
        inp.add_vehicle(
            vroom.Vehicle(
                id=i,
                start=f.location,
                end=v.end,
                capacity=[big if f.capacity is None else f.capacity] if use_load else [],
                skills={skills[s] for s in v.skills if s in skills},
                time_window=vroom.TimeWindow(f.ready_at, v.shift[1]),
                breaks=breaks,
                max_tasks=2**31 - 1 if f.max_tasks is None else f.max_tasks,
                steps=steps,
            )
        )
    return inp, free, [v.id for v in problem.vehicles]


def solve(
    problem: Problem,
    time_limit_s: float,
    warm_start: Plan | None,
    seed: int,
    move_penalty: int = 0,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[str]]:
    """Vehicle id → sequence (committed tasks first, breaks where VROOM put them).

    VROOM is deterministic for a given input, so ``seed`` is unused. VROOM has no per-vehicle
    job costs, so ``move_penalty`` cannot enter its objective; ``stabilise`` applies it. Its
    timeout is wall-clock whatever ``clock`` says (it runs threads of its own).
    """
    began = time.perf_counter()
    inp, jobs, vehicles = _input(problem, warm_start)
    left = max(0.01, time_limit_s - (time.perf_counter() - began))
    solution = inp.solve(
        exploration_level=exploration_level(len(jobs), time_limit_s),
        nb_threads=2,
        timeout=timedelta(seconds=left),
    )
    out: dict[str, list[str]] = {}
    for rte in solution.to_dict().get("routes", []):
        vehicle = problem.vehicle_by_id[vehicles[rte["vehicle"]]]
        seq = list(vehicle.fixed)
        for step in rte["steps"]:
            if step["type"] == "job":
                seq.append(jobs[step["id"]])
            elif step["type"] == "break":
                seq.append(vehicle.breaks[step["id"] % 1000].id)
        out[vehicle.id] = seq
    return out
