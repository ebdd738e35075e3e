"""Stability: a re-optimised plan is adopted only where it is worth the disruption.

``stabilise`` compares the plan technicians are working to (``current``) with a re-optimised
``candidate`` and keeps, vehicle by vehicle, whichever is right:

- Vehicles whose routes changed are grouped into *components*: two vehicles are in one
  component when a task moves from one to the other. A component is adopted or kept as a whole,
  so no task is ever lost or planned twice.
- A component is adopted only if its gain (travel cost saved, plus ``unassigned_value`` per
  task newly planned, minus that per task dropped) is strictly greater than
  ``reassignment_penalty`` × tasks moved to another vehicle — the gain must beat its churn cost.
- Never adopted: a component whose candidate moves, drops or reorders a committed task
  (en route / on site), drops a task of ``StabilityPolicy.keep`` (accepted work: it may move
  at the usual price, but a swap for other work left it unserved), or that would change a
  technician's plan more often than ``max_changes_per_hour`` (counted over the last
  ``window_s`` from the change history).
- An ``allowance`` caps the tasks one call may move; the components with the best net gain
  (gain minus churn cost) go first. ``StabilityPolicy.allowance`` rations moves like a token
  bucket: each event adds ``max_moved_ratio`` of the planned tasks to what earlier events left
  unused, never beyond ``burst_ratio``. So the *mean* share moved per event stays at most
  ``max_moved_ratio`` and no event moves more than ``burst_ratio``.

Churn = tasks moved to another vehicle / tasks planned before (``Churn``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dispatch.solver.model import Plan, Problem, Route, Unassigned

History = Mapping[str, Sequence[int]]


@dataclass(frozen=True)
class StabilityPolicy:
    """Prices and limits of re-dispatch (cost in ``Problem.cost`` units, times in seconds)."""

    reassignment_penalty: int
    max_changes_per_hour: int = 4
    window_s: int = 3600
    unassigned_value: int = 10**9
    max_moved_ratio: float | None = None
    burst_ratio: float = 0.05
    # Tasks a candidate may move but never drop (a technician's accepted jobs).
    keep: frozenset[str] = frozenset()

    def allowance(self, planned: int, carry: float) -> float | None:
        """Tasks the next event may move, given the allowance ``carry`` left by the last one."""
        if self.max_moved_ratio is None:
            return None
        return min(self.max_moved_ratio * planned + carry, self.burst_ratio * planned)


@dataclass(frozen=True)
class Churn:
    """Tasks that changed vehicle, out of the tasks planned before the change."""

    moved: int
    planned: int

    @property
    def ratio(self) -> float:
        return self.moved / self.planned if self.planned else 0.0


@dataclass(frozen=True)
class Stabilised:
    """The adopted plan, its churn, its gain, the vehicles whose plan changed, the change
    history and unused move allowance (``carry``) to pass on, and the vehicles of the
    worthwhile components the allowance held back (``deferred``)."""

    plan: Plan
    churn: Churn
    gain: int
    changed: frozenset[str]
    history: dict[str, tuple[int, ...]] = field(default_factory=dict)
    carry: float = 0.0
    deferred: frozenset[str] = frozenset()


def churn(current: Plan, candidate: Plan) -> Churn:
    """How many tasks planned in ``current`` sit on another vehicle in ``candidate``."""
    before, after = current.assignment, candidate.assignment
    moved = sum(1 for t, v in before.items() if t in after and after[t] != v)
    return Churn(moved, len(before))


def _empty(vehicle_id: str) -> Route:
    return Route(vehicle_id, (), 0, 0)


class _Components:
    """Union-find over vehicle ids."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, v: str) -> str:
        self.parent.setdefault(v, v)
        while self.parent[v] != v:
            self.parent[v] = self.parent[self.parent[v]]
            v = self.parent[v]
        return v

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)

    def groups(self) -> list[list[str]]:
        out: dict[str, list[str]] = {}
        for v in list(self.parent):
            out.setdefault(self.find(v), []).append(v)
        return list(out.values())


def recent_changes(history: History, vehicle_id: str, now: int, window_s: int) -> int:
    return sum(1 for t in history.get(vehicle_id, ()) if now - window_s < t <= now)


def stabilise(
    problem: Problem,
    current: Plan,
    candidate: Plan,
    policy: StabilityPolicy,
    history: History,
    now: int,
    allowance: float | None = None,
) -> Stabilised:
    """Merge ``candidate`` into ``current`` under ``policy`` (see the module docstring)."""
    ids = [v.id for v in problem.vehicles]
    cur = {v: current.routes.get(v) or _empty(v) for v in ids}
    cand = {v: candidate.routes.get(v) or _empty(v) for v in ids}
    changed = [v for v in ids if cur[v].task_ids != cand[v].task_ids]
    comps = _Components()
    for v in changed:
        comps.find(v)
    before, after = current.assignment, candidate.assignment
    for task, v in before.items():
        if task in after and after[task] != v:
            comps.union(v, after[task])
    adopted: set[str] = set()
    gain = 0
    options = []
    for group in comps.groups():
        members = set(group)
        value = sum(cur[v].cost - cand[v].cost for v in group)
        moved = sum(1 for v in group for t in cur[v].task_ids if after.get(t, v) != v)
        served = sum(1 for v in group for t in cand[v].task_ids if t not in before)
        lost = [t for v in group for t in cur[v].task_ids if t not in after]
        dropped = len(lost)
        value += policy.unassigned_value * (served - dropped)
        committed_ok = all(
            cand[v].task_ids[: len(problem.vehicle_by_id[v].fixed)]
            == problem.vehicle_by_id[v].fixed
            for v in members
        )
        capped = any(
            recent_changes(history, v, now, policy.window_s) >= policy.max_changes_per_hour
            for v in members
        )
        net = value - policy.reassignment_penalty * moved
        kept_ok = policy.keep.isdisjoint(lost)
        if committed_ok and kept_ok and not capped and net > 0:
            options.append((net, moved, value, members))
    budget = float(len(before)) if allowance is None else allowance
    deferred: set[str] = set()
    for _, moved, value, members in sorted(options, key=lambda o: -o[0]):
        if moved <= budget:
            budget -= moved
            adopted |= members
            gain += value
        else:
            deferred |= members
    routes = {v: (cand[v] if v in adopted else cur[v]) for v in ids}
    planned = {t for r in routes.values() for t in r.task_ids}
    reasons = {**candidate.unassigned, **current.unassigned}
    unassigned = {
        t.id: reasons.get(t.id, Unassigned.SOLVER) for t in problem.tasks if t.id not in planned
    }
    plan = Plan(routes, unassigned)
    # Only the last window matters; older entries are dropped so the history stays small.
    new_history = {
        v: tuple(t for t in ts if now - policy.window_s < t <= now) for v, ts in history.items()
    }
    for v in adopted:
        new_history[v] = (*new_history.get(v, ()), now)
    left = 0.0 if allowance is None else budget
    return Stabilised(
        plan, churn(current, plan), gain, frozenset(adopted), new_history, left, frozenset(deferred)
    )
