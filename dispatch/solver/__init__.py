"""The dispatch engine's solver set-up: a pure model, VROOM/PyVRP behind one ``solve``, the
cheapest-insertion hot path, stability policy and an independent feasibility check.

    solve(problem, time_limit_s, warm_start=None, seed=0, backend=Backend.AUTO) -> Plan
    insert(plan, problem, task, load_cost=0) -> Insertion(plan, task_id, vehicle_id, position, cost)
    stabilise(problem, current, candidate, policy, history, now) -> Stabilised
    improve(problem, current, policy, history, now, time_limit_s, seed=0) -> Stabilised
    churn(current, candidate) -> Churn(moved, planned)
    check_plan(problem, plan, travel=None) -> list[Violation]
"""

from dispatch.solver.errors import (
    BackendUnavailable,
    DispatchError,
    DuplicateTask,
    InvalidInstance,
    InvalidProblem,
    UnknownTask,
)
from dispatch.solver.insertion import Insertion, insert
from dispatch.solver.model import (
    MAX_TIME,
    Break,
    Plan,
    Problem,
    Route,
    StepKind,
    Stop,
    Task,
    Unassigned,
    Vehicle,
)
from dispatch.solver.schedule import Violation, build_plan, check_plan, route, route_violations
from dispatch.solver.solve import Backend, adapt, choose_backend, improve, objective, solve
from dispatch.solver.stability import Churn, Stabilised, StabilityPolicy, churn, stabilise

__all__ = [
    "MAX_TIME",
    "Backend",
    "BackendUnavailable",
    "Break",
    "Churn",
    "DispatchError",
    "DuplicateTask",
    "Insertion",
    "InvalidInstance",
    "InvalidProblem",
    "Plan",
    "Problem",
    "Route",
    "Stabilised",
    "StabilityPolicy",
    "StepKind",
    "Stop",
    "Task",
    "Unassigned",
    "UnknownTask",
    "Vehicle",
    "Violation",
    "adapt",
    "build_plan",
    "check_plan",
    "choose_backend",
    "churn",
    "improve",
    "insert",
    "objective",
    "route",
    "route_violations",
    "solve",
    "stabilise",
]
