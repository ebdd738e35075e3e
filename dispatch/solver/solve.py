"""``solve`` and ``improve``: the solver set-up the dispatch engine calls.

Backend choice (measured, see docs/dispatch-solver.md): PyVRP whenever it can express the
problem — it finds clearly shorter routes than VROOM for the same time budget — and VROOM for
what PyVRP cannot express (breaks, several time windows per task, or too many distinct skill
sets for PyVRP's one-matrix-per-profile encoding).

Whatever a backend returns is re-scheduled and re-checked here (``schedule.check_plan``); a
route that breaks a rule loses its offending tasks, which then go through cheapest insertion.
With a warm start the result is never worse than the warm start itself.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum

from dispatch.solver import backend_pyvrp, backend_vroom
from dispatch.solver.insertion import insert
from dispatch.solver.model import Plan, Problem, Unassigned
from dispatch.solver.neighbourhood import merge, subproblem
from dispatch.solver.schedule import build_plan, route_violations
from dispatch.solver.stability import History, Stabilised, StabilityPolicy, stabilise


class Backend(StrEnum):
    AUTO = "auto"
    PYVRP = "pyvrp"
    VROOM = "vroom"


def choose_backend(problem: Problem) -> Backend:
    """PyVRP when it can express ``problem``, else VROOM."""
    return Backend.PYVRP if backend_pyvrp.supports(problem) is None else Backend.VROOM


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
) -> Plan:
    """Route every task of ``problem`` within ``time_limit_s`` (wall clock, model building
    included). Committed tasks stay first on their vehicles. Tasks no vehicle can take feasibly
    come back in ``Plan.unassigned`` with a reason. ``move_penalty`` (cost units per task moved
    off its warm-start vehicle) makes the search itself churn-aware where the backend can."""
    chosen = choose_backend(problem) if backend is Backend.AUTO else backend
    warm = adapt(problem, warm_start) if warm_start is not None else None
    module = backend_pyvrp if chosen is Backend.PYVRP else backend_vroom
    sequences = module.solve(problem, time_limit_s, warm, seed, move_penalty)
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
) -> Stabilised:
    """The background step after an insertion: a warm-started re-solve, adopted only where
    its gain beats its churn cost (``stabilise``). With ``vehicles`` only those routes are
    re-solved (see ``neighbourhood.nearest_vehicles``); the rest of the plan stays as it is.
    ``carry`` is the unused move allowance of the previous call (``Stabilised.carry``)."""
    current = adapt(problem, current)
    price = policy.reassignment_penalty
    if vehicles is None:
        candidate = solve(problem, time_limit_s, current, seed, backend, price)
    else:
        sub, warm = subproblem(problem, current, vehicles)
        local = solve(sub, time_limit_s, warm, seed, backend, price)
        candidate = merge(problem, current, local)
    return stabilise(problem, current, candidate, policy, history, now, carry)
