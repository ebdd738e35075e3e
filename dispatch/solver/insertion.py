"""Cheapest feasible insertion of one task into a plan: the hot path for a new or urgent job.

Every gap of every route (start→first stop, stop→stop, last stop→end) is scored at once with
numpy. Per route we keep, padded to the longest route, the departure time and location before
each gap and the *latest* arrival the stop after it tolerates (a backward pass: the latest
start that still lets every later stop meet its window and the vehicle reach its end by the
end of its shift). Inserting task u into a gap is feasible when u can start inside a window
after leaving the previous stop, and the detour still reaches the next stop by its latest
arrival; its cost is ``c(prev,u) + c(u,next) - c(prev,next)``. Gaps before or among committed
stops, and gaps right before a break (a break happens where the vehicle is, so the inserted
task would move it), are never used. Skills, capacity and max tasks mask whole vehicles.

An optional load price (``load_cost``, cost units per job) evens work out among technicians
who could take the task: each feasible vehicle's detour is charged ``load_cost`` times the
number of tasks its route holds beyond the least-loaded vehicle that could also take it, so
a job goes to an idle technician unless the loaded one is more than that much closer per job
of difference. ``Insertion.cost`` stays the travel cost. At 0 (the default) nothing changes.

The padded arrays of a plan are cached (by plan identity, while the fleet and matrices are the
same objects) and carried over to the plan an insertion returns, with only the changed route
rebuilt, so a stream of insertions stays cheap.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from dispatch.solver.errors import DuplicateTask
from dispatch.solver.model import MAX_TIME, Plan, Problem, Route, StepKind, Task, Unassigned
from dispatch.solver.schedule import route

INF = np.int64(2**62)


@dataclass(frozen=True)
class Insertion:
    """The plan after inserting one task, where it went and what it cost (``None`` values and
    the task in ``plan.unassigned`` when no vehicle can take it)."""

    plan: Plan
    task_id: str
    vehicle_id: str | None
    position: int | None
    cost: int | None


@dataclass
class _Arrays:
    """Per vehicle (rows, in ``problem.vehicles`` order) and gap (columns) of one plan."""

    prev_loc: NDArray[np.int64]
    prev_dep: NDArray[np.int64]
    next_loc: NDArray[np.int64]  # -1: open end, no travel
    next_latest: NDArray[np.int64]
    allowed: NDArray[np.bool_]
    load: NDArray[np.int64]
    count: NDArray[np.int64]

    def copy(self) -> _Arrays:
        return _Arrays(*(a.copy() for a in vars(self).values()))


def _row(problem: Problem, rte: Route) -> tuple[list[int], ...]:
    """Gap lists of one route: prev loc, prev departure, next loc, next latest, allowed."""
    vehicle = problem.vehicle_by_id[rte.vehicle_id]
    stops = rte.stops
    dur = problem.duration
    end_loc = -1 if vehicle.end is None else vehicle.end
    # Backward pass: latest arrival at each stop (index len(stops) = the end).
    latest = [0] * (len(stops) + 1)
    latest[-1] = vehicle.shift[1]
    for i in range(len(stops) - 1, -1, -1):
        stop = stops[i]
        # A break sits at the location of the stop before it (Stop.location says so), so the
        # travel into a break is zero and the travel out of it is the real leg.
        nxt = stops[i + 1].location if i + 1 < len(stops) else end_loc
        travel = 0 if nxt < 0 else int(dur[stop.location, nxt])
        late = MAX_TIME
        if stop.kind is StepKind.TASK:
            task = problem.task_by_id[stop.id]
            late = next((b for a, b in task.time_windows if a <= stop.start <= b), late)
        else:
            brk = next(b for b in vehicle.breaks if b.id == stop.id)
            late = next((z for a, z in brk.time_windows if a <= stop.start <= z), late)
        service = stop.departure - stop.start
        latest[i] = min(late, latest[i + 1] - service - travel)
    prev_loc, prev_dep = [vehicle.start], [vehicle.shift[0]]
    for stop in stops:
        prev_loc.append(stop.location)
        prev_dep.append(stop.departure)
    next_loc = [s.location for s in stops] + [end_loc]
    fixed = len(vehicle.fixed)
    allowed = [
        g >= fixed and (g == len(stops) or stops[g].kind is StepKind.TASK)
        for g in range(len(stops) + 1)
    ]
    return prev_loc, prev_dep, next_loc, latest, [int(a) for a in allowed]


def _build(problem: Problem, plan: Plan) -> _Arrays:
    rows = [_row(problem, plan.routes[v.id]) for v in problem.vehicles]
    width = max(len(r[0]) for r in rows) + 1
    arrays = _empty(len(rows), width)
    for i, row in enumerate(rows):
        _put(arrays, i, row)
    for i, v in enumerate(problem.vehicles):
        tasks = plan.routes[v.id].task_ids
        arrays.load[i] = sum(problem.task_by_id[t].demand for t in tasks)
        arrays.count[i] = len(tasks)
    return arrays


def _empty(rows: int, width: int) -> _Arrays:
    return _Arrays(
        prev_loc=np.zeros((rows, width), np.int64),
        prev_dep=np.zeros((rows, width), np.int64),
        next_loc=np.full((rows, width), -1, np.int64),
        next_latest=np.zeros((rows, width), np.int64),
        allowed=np.zeros((rows, width), np.bool_),
        load=np.zeros(rows, np.int64),
        count=np.zeros(rows, np.int64),
    )


def _put(arrays: _Arrays, i: int, row: tuple[list[int], ...]) -> None:
    n = len(row[0])
    for name, values in zip(("prev_loc", "prev_dep", "next_loc", "next_latest"), row, strict=False):
        target = getattr(arrays, name)
        target[i, :n] = values
        target[i, n:] = -1 if name == "next_loc" else 0
    arrays.allowed[i, :n] = np.asarray(row[4], dtype=np.bool_)
    arrays.allowed[i, n:] = False


_cache: weakref.WeakKeyDictionary[Plan, tuple[Problem, _Arrays]] = weakref.WeakKeyDictionary()


def _same_fleet(a: Problem, b: Problem) -> bool:
    """The cached arrays depend on the fleet and the matrices, not on the task list (a new
    job makes a new Problem with the same vehicles and matrices)."""
    return a.vehicles is b.vehicles and a.duration is b.duration and a.cost is b.cost


def _arrays(problem: Problem, plan: Plan) -> _Arrays:
    hit = _cache.get(plan)
    if hit is not None and _same_fleet(hit[0], problem):
        return hit[1]
    arrays = _build(problem, plan)
    _cache[plan] = (problem, arrays)
    return arrays


def _vehicle_masks(problem: Problem, task: Task, arrays: _Arrays) -> tuple[NDArray[np.bool_], ...]:
    skilled = np.fromiter((task.skills <= v.skills for v in problem.vehicles), np.bool_)
    cap = np.fromiter(
        (MAX_TIME if v.capacity is None else v.capacity for v in problem.vehicles), np.int64
    )
    budget = np.fromiter(
        (MAX_TIME if v.max_tasks is None else v.max_tasks for v in problem.vehicles), np.int64
    )
    room = (arrays.load + task.demand <= cap) & (arrays.count + 1 <= budget)
    return skilled, room


def insert(plan: Plan, problem: Problem, task: Task, load_cost: int = 0) -> Insertion:
    """Insert ``task`` where it adds the least travel cost without breaking any rule.

    ``problem`` must already contain ``task`` (``problem.with_tasks``); ``plan`` is a plan of
    ``problem`` without it. Raises ``DuplicateTask`` if the plan already routes the task.
    ``load_cost`` > 0 adds the load price of the module docstring to the choice.
    """
    if task.id in plan.assignment:
        raise DuplicateTask(task.id, plan.assignment[task.id])
    arrays = _arrays(problem, plan)
    u = task.location
    dur, cost = problem.duration, problem.cost
    prev, nxt = arrays.prev_loc, arrays.next_loc
    is_end = nxt < 0
    safe_next = np.where(is_end, 0, nxt)
    arrive = arrays.prev_dep + dur[:, u][prev]
    start = np.full(arrive.shape, INF)
    for early, late in reversed(task.time_windows or ((0, MAX_TIME),)):
        start = np.where(arrive <= late, np.maximum(arrive, early), start)
    onward = np.where(is_end, 0, dur[u][safe_next])
    on_time = (start < INF) & (start + task.service_s + onward <= arrays.next_latest)
    skilled, room = _vehicle_masks(problem, task, arrays)
    ok = arrays.allowed & on_time & (skilled & room)[:, None]
    if not ok.any():
        reason = (
            Unassigned.SKILLS
            if not skilled.any()
            else Unassigned.CAPACITY
            if not (skilled & room).any()
            else Unassigned.TIME_WINDOW
        )
        left = {**plan.unassigned, task.id: reason}
        return Insertion(replace(plan, unassigned=left), task.id, None, None, None)
    detour = (
        cost[:, u][prev]
        + np.where(is_end, 0, cost[u][safe_next])
        - np.where(is_end, 0, cost[prev, safe_next])
    )
    score = detour + _load_price(arrays.count, ok, load_cost)[:, None]
    flat = int(np.argmin(np.where(ok, score, INF)))
    row, gap = divmod(flat, ok.shape[1])
    vehicle = problem.vehicles[row]
    old = plan.routes[vehicle.id]
    seq = list(old.sequence)
    seq.insert(gap, task.id)
    new_route = route(problem, vehicle, seq)
    new_plan = Plan(
        {**plan.routes, vehicle.id: new_route},
        {t: r for t, r in plan.unassigned.items() if t != task.id},
    )
    _carry(problem, arrays, row, new_route, task, new_plan)
    return Insertion(new_plan, task.id, vehicle.id, gap, int(detour[row, gap]))


def _load_price(count: NDArray[np.int64], ok: NDArray[np.bool_], load_cost: int
                ) -> NDArray[np.int64]:
    """Per vehicle: ``load_cost`` × its tasks beyond the least-loaded vehicle that can take
    the task (zero for vehicles that cannot: they are masked anyway)."""
    able = ok.any(axis=1)
    if load_cost <= 0 or not able.any():  # (nobody can take it: unassigned, as without)
        return np.zeros(count.shape, np.int64)
    extra = np.where(able, count - count[able].min(), 0)
    return np.int64(load_cost) * extra


def _carry(problem: Problem, arrays: _Arrays, row: int, rte: Route, task: Task, plan: Plan) -> None:
    """Cache the new plan's arrays: the old ones with one row rebuilt."""
    values = _row(problem, rte)
    arrays = arrays.copy()
    if len(values[0]) > arrays.prev_loc.shape[1]:
        wide = _empty(arrays.prev_loc.shape[0], len(values[0]) + 4)
        w = arrays.prev_loc.shape[1]
        for name in ("prev_loc", "prev_dep", "next_loc", "next_latest", "allowed"):
            getattr(wide, name)[:, :w] = getattr(arrays, name)
        wide.load, wide.count = arrays.load, arrays.count
        arrays = wide
    _put(arrays, row, values)
    arrays.load[row] += task.demand
    arrays.count[row] += 1
    _cache[plan] = (problem, arrays)
