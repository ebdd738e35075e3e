"""``solve`` and ``improve``: the solver set-up the dispatch engine calls.

Backend choice (measured, see docs/dispatch-solver.md): PyVRP whenever it can express the
problem and it is not huge — it finds clearly shorter routes than VROOM for the same time
budget up to a thousand or so tasks — and VROOM for what PyVRP cannot express (breaks, several
time windows per task, too many distinct skill sets for PyVRP's one-matrix-per-profile
encoding) and for city-scale problems, where VROOM's construction beats PyVRP's search.

Whatever a backend returns is re-scheduled and re-checked here (``schedule.check_plan``); a
route that breaks a rule loses its offending tasks, which then go through cheapest insertion.
With a warm start the result is never worse than the warm start itself.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from enum import StrEnum
from types import ModuleType

from dispatch.solver import backend_pyvrp
from dispatch.solver.insertion import insert
from dispatch.solver.model import Plan, Problem, Unassigned
from dispatch.solver.neighbourhood import merge, subproblem
from dispatch.solver.schedule import build_plan, route_violations
from dispatch.solver.stability import (
    History,
    Stabilised,
    StabilityPolicy,
    churn,
    stabilise,
)


class Backend(StrEnum):
    AUTO = "auto"
    PYVRP = "pyvrp"
    VROOM = "vroom"


# Measured: 1,000 tasks PyVRP routes 25 % shorter; 5,000 tasks VROOM 5 % shorter at equal time.
# The crossover lies in between and was not measured; this is an interpolation.
PYVRP_MAX_TASKS = 3000


def choose_backend(problem: Problem) -> Backend:
    """PyVRP when it can express ``problem`` and it has at most ``PYVRP_MAX_TASKS`` tasks,
    else VROOM."""
    if len(problem.tasks) > PYVRP_MAX_TASKS or backend_pyvrp.supports(problem) is not None:
        return Backend.VROOM
    return Backend.PYVRP


def objective(plan: Plan) -> tuple[int, int]:
    """Lexicographic: fewer unassigned tasks first, then travel cost."""
    return len(plan.unassigned), plan.cost


def _feasible(problem: Problem, vehicle_id: str, seq: list[str]) -> bool:
    return not route_violations(problem, problem.vehicle_by_id[vehicle_id], seq)


def repair(problem: Problem, plan: Plan) -> Plan:
    """Drop the tasks that make a route break a rule, then re-insert them cheapest-first."""
    dropped: list[str] = []
    sequences: dict[str, list[str]] = {}
    for vid, rte in plan.routes.items():
        fixed = problem.vehicle_by_id[vid].fixed
        seq = list(rte.sequence)
        if _feasible(problem, vid, seq):
            sequences[vid] = seq
            continue
        kept = [s for s in seq if s in fixed]
        for stop in seq:
            if stop not in fixed and _feasible(problem, vid, [*kept, stop]):
                kept.append(stop)
            elif stop not in fixed:
                dropped.append(stop)
        sequences[vid] = kept
    if not dropped:
        return plan
    fixed_plan = build_plan(problem, sequences, {**plan.unassigned})
    for task_id in dropped:
        if task_id in problem.task_by_id:
            fixed_plan = insert(fixed_plan, problem, problem.task_by_id[task_id]).plan
    return fixed_plan


def adapt(problem: Problem, plan: Plan) -> Plan:
    """``plan`` made a valid plan of ``problem``: unknown tasks removed, committed tasks put
    first, tasks it lacks inserted cheapest-first (used to prepare warm starts)."""
    sequences: dict[str, list[str]] = {}
    fixed_ids = problem.fixed_owner
    for vehicle in problem.vehicles:
        old = plan.routes.get(vehicle.id)
        rest = [] if old is None else list(old.sequence)
        breaks = {b.id for b in vehicle.breaks}
        rest = [s for s in rest if (s in problem.task_by_id and s not in fixed_ids) or s in breaks]
        sequences[vehicle.id] = [*vehicle.fixed, *rest]
    known: Mapping[str, Unassigned] = {
        t: r for t, r in plan.unassigned.items() if t in problem.task_by_id
    }
    adapted = repair(problem, build_plan(problem, sequences, known))
    for task in problem.tasks:
        if task.id not in adapted.assignment:
            adapted = insert(adapted, problem, task).plan
    return adapted


def solve(
    problem: Problem,
    time_limit_s: float,
    warm_start: Plan | None = None,
    seed: int = 0,
    backend: Backend = Backend.AUTO,
    move_penalty: int = 0,
    cpu_clock: bool = False,
) -> Plan:
    """Route every task of ``problem`` within ``time_limit_s`` (wall clock, model building
    included). Committed tasks stay first on their vehicles. Tasks no vehicle can take feasibly
    come back in ``Plan.unassigned`` with a reason. ``move_penalty`` (cost units per task moved
    off its warm-start vehicle) makes the search itself churn-aware where the backend can.
    ``cpu_clock`` measures the limit in this process's CPU time instead of wall-clock time, so
    benchmarks on a shared, loaded machine stay comparable (PyVRP only)."""
    chosen = choose_backend(problem) if backend is Backend.AUTO else backend
    warm = adapt(problem, warm_start) if warm_start is not None else None
    if chosen is Backend.PYVRP:
        module: ModuleType = backend_pyvrp
    else:
        # Imported when first used: pyvroom loads pandas (0.2-0.4 s), and every server, CLI
        # and worker start paid it though most never route with VROOM.
        from dispatch.solver import backend_vroom as module
    clock = time.process_time if cpu_clock else time.perf_counter
    sequences = module.solve(problem, time_limit_s, warm, seed, move_penalty, clock)
    plan = repair(problem, build_plan(problem, sequences))
    if warm is not None and objective(warm) <= objective(plan):
        return warm
    return plan


def improve(
    problem: Problem,
    current: Plan,
    policy: StabilityPolicy,
    history: History,
    now: int,
    time_limit_s: float,
    seed: int = 0,
    backend: Backend = Backend.AUTO,
    vehicles: Collection[str] | None = None,
    carry: float = 0.0,
    rounds: int = 3,
    cpu_clock: bool = False,
) -> Stabilised:
    """The background step after an insertion: warm-started re-solves adopted only where their
    gain beats their churn cost (``stabilise``).

    With ``vehicles`` only those routes are re-solved (``neighbourhood.nearest_vehicles``); the
    rest of the plan stays as it is. ``carry`` is the move allowance the previous event left
    (``Stabilised.carry``). When the allowance held back a worthwhile change, the next round
    re-solves just the routes of that change with the move price tripled, looking for the part
    of the gain that fits in fewer moves. The first round gets two thirds of ``time_limit_s``
    (it is usually the only one); up to ``rounds - 1`` focused rounds share the rest.
    """
    start = adapt(problem, current)
    allowance = policy.allowance(start.planned, carry)
    plan, gain, price = start, 0, policy.reassignment_penalty
    changed: set[str] = set()
    focus = vehicles
    for r in range(rounds):
        share = time_limit_s * (2 / 3 if r == 0 else 1 / (3 * max(1, rounds - 1)))
        if rounds == 1:
            share = time_limit_s
        if focus is None:
            candidate = solve(problem, share, plan, seed + r, backend, price, cpu_clock)
        else:
            sub, warm = subproblem(problem, plan, focus)
            local = solve(sub, share, warm, seed + r, backend, price, cpu_clock)
            candidate = merge(problem, plan, local)
        step = stabilise(problem, plan, candidate, policy, history, now, allowance)
        plan, allowance = step.plan, step.carry if allowance is not None else None
        changed |= step.changed
        gain += step.gain
        if not step.deferred:
            break
        focus, price = step.deferred, price * 3
    new_history = {v: tuple(ts) for v, ts in step.history.items() if v not in changed}
    for v in changed:
        kept = [t for t in history.get(v, ()) if now - policy.window_s < t <= now]
        new_history[v] = (*kept, now)
    left = allowance if allowance is not None else 0.0
    return Stabilised(plan, churn(start, plan), gain, frozenset(changed), new_history, left)
