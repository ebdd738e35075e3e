"""From a region's live state to the solver's ``Problem`` and back: pure, time is an argument.

``build`` turns technicians, open jobs and current routes into a ``Problem`` (locations:
technicians' current positions, their home bases, the jobs), the current ``Plan`` and the
jobs still to place. Solver time 0 is ``now`` (whole seconds), so every time is small.

- A technician on shift (available, en route, on site, on a break) is a vehicle starting where
  its device last was, ending at its home base by its shift end; its job under way (en route
  / on site) is a *fixed* task that no solver or policy may move. Breaks of the spec whose
  window is still ahead are breaks of the vehicle.
- Zones become skill tokens (``dispatch.zones``); a job in no zone is ``outside_zones`` and
  never reaches the solver. A technician who declined a job or let its offer expire may not
  get it again: the job needs a token ``x:<job>`` every other technician holds.
- A job without a window must be served within the region's ``service_within_s`` of its
  creation (a service level, also a window for the solver: it spreads work over technicians
  instead of piling it on the nearest route); an urgent one (priority ≥ ``urgent_priority``)
  within ``urgent_within_s``. A job whose window has closed, or that the
  current plan already misses, is *late*: it keeps its window's opening and gets a deadline
  (no later than planned, or as little late as possible), never "whenever".
- A job under way whose window opens later waits for it: en route, its service starts at the
  opening; on site, it ends its service's length after the later of arrival and opening.
- A job booked ahead — not yet given to anyone, its window opening at or after the end of
  every current shift (the planning horizon; ``now`` when nobody is on shift) — is not
  planned yet (``Built.ahead``): it stays ``new`` until a pass on its own day plans it. The
  solver sees only today's shifts, so it would have called it ``time_window``.

``payload`` turns a plan back into what ``lua/plan.lua`` stores: changed routes with ETAs in
epoch ms, unassigned jobs with reasons, the planning positions and change history.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from dispatch.geo import MatrixProvider
from dispatch.model import (
    COMMITTED,
    DispatchPolicy,
    JobStatus,
    RegionConfig,
    TechStatus,
    Unassignable,
)
from dispatch.records import csv
from dispatch.solver import (
    MAX_TIME,
    Break,
    Plan,
    Problem,
    StepKind,
    Task,
    Unassigned,
    Vehicle,
    build_plan,
    insert,
    route,
    route_violations,
)
from dispatch.transitions import PLANNABLE
from dispatch.zones import ZoneIndex, serves, zone_token

ON_SHIFT = frozenset({TechStatus.AVAILABLE, TechStatus.EN_ROUTE, TechStatus.ON_SITE,
                      TechStatus.ON_BREAK})
DEFAULT_BREAK_S = 1800
REASONS = {Unassigned.SKILLS: Unassignable.SKILLS, Unassigned.CAPACITY: Unassignable.CAPACITY,
           Unassigned.TIME_WINDOW: Unassignable.TIME_WINDOW,
           Unassigned.SOLVER: Unassignable.SOLVER}


@dataclass(frozen=True)
class State:
    """What a recompute reads: decoded technician hashes, open job hashes, current routes
    (technician → ``[{j|b, eta, start, end}]``), change history (technician → epoch s)."""

    region: str
    config: RegionConfig
    techs: Mapping[str, dict[str, Any]]
    jobs: Mapping[str, dict[str, Any]]
    routes: Mapping[str, Sequence[dict[str, Any]]]
    history: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    carry: float = 0.0


@dataclass(frozen=True)
class Built:
    problem: Problem
    t0: int  # epoch seconds of solver time 0
    current: Plan  # the routes technicians work to, as a plan of ``problem``
    pending: tuple[Task, ...]  # planned nowhere yet: to insert, most urgent first
    outside: dict[str, str]  # job → reason it never reached the solver
    starts: dict[str, tuple[float, float]]  # technician → planning position
    coords: tuple[tuple[float, float], ...]  # location index → (lat, lon)
    late: frozenset[str] = frozenset()  # jobs whose window is closed or already missed
    matrix_s: float = 0.0  # time spent building the travel matrices
    # job → the end of its own window (or service level) in solver time: lateness is
    # measured against it, whatever deadline a late job was given
    due: Mapping[str, int] = field(default_factory=dict)
    ahead: frozenset[str] = frozenset()  # booked beyond the horizon: not planned yet


def local_time(now_s: int, hhmm: str, tz: ZoneInfo, after: int | None = None) -> int:
    """Epoch seconds of ``hhmm`` on the local day of ``now_s`` (the next day if it would fall
    at or before ``after``, for shifts past midnight)."""
    day = datetime.fromtimestamp(now_s, tz).replace(hour=0, minute=0, second=0, microsecond=0)
    h, m = (int(x) for x in hhmm.split(":"))
    at = int((day + timedelta(hours=h, minutes=m)).timestamp())
    if after is not None and at <= after:
        at = int((day + timedelta(days=1, hours=h, minutes=m)).timestamp())
    return at


def shift_of(t: Mapping[str, Any], now_s: int, tz: ZoneInfo) -> tuple[int, int]:
    first, last = str(t.get("shift_start") or "00:00"), str(t.get("shift_end") or "24:00")
    start = local_time(now_s, first, tz)
    end = local_time(now_s, last, tz, after=start)
    if first == "00:00" and last == "24:00":
        # Round the clock: tonight's midnight is not the end of anything, or a job
        # offered at 23:55 would not fit. The plan sees through tomorrow.
        return start, local_time(now_s + 86400, last, tz, after=start + 86400)
    if now_s < start:
        # Before today's shift begins, yesterday's may be the one that matters: a night
        # shift (22:00-06:00) at 02:00 is under way (without this the technician got no
        # work until 22:00), and at 06:05 it has just ended (its work overruns; it is not
        # tonight's, or a job in hand got an ETA of 22:00). Yesterday on the calendar, not
        # 24 h ago (a 23-hour day at the spring change), and a 24-hour shift too.
        noon = datetime.fromtimestamp(now_s, tz).replace(hour=12, minute=0, second=0,
                                                          microsecond=0)
        prev = int((noon - timedelta(days=1)).timestamp())
        y0 = local_time(prev, first, tz)
        y1 = local_time(prev, last, tz, after=y0)
        midnight = int(noon.replace(hour=0).timestamp())
        if y1 > now_s or (y1 >= midnight and now_s - y1 < start - now_s):
            return y0, y1
    return start, end


class _Locations:
    def __init__(self) -> None:
        self.coords: list[tuple[float, float]] = []

    def add(self, lat: float, lon: float) -> int:
        self.coords.append((float(lat), float(lon)))
        return len(self.coords) - 1


def service_level_s(j: Mapping[str, Any], policy: DispatchPolicy) -> int:
    """How long after its creation a job without a window is due: ``urgent_within_s`` for
    an urgent one (a technician free now beats the cheapest place hours later on a busy
    route), else ``service_within_s`` (0: whenever)."""
    if policy.urgent_within_s and int(j.get("priority") or 0) >= policy.urgent_priority:
        if policy.service_within_s:
            return min(policy.urgent_within_s, policy.service_within_s)
        return policy.urgent_within_s
    return policy.service_within_s


def _due(j: Mapping[str, Any], sla_s: int) -> int | None:
    """Epoch seconds by which the job is due: its window's end, else the service level."""
    if j.get("win_end"):
        return int(j["win_end"]) // 1000
    if sla_s and j.get("created_ms"):
        return int(j["created_ms"]) // 1000 + sla_s
    return None


def _windows(j: Mapping[str, Any], t0: int, sla_s: int
             ) -> tuple[tuple[tuple[int, int], ...], bool]:
    """The job's planning window in solver time — its own, else the service level (created +
    ``sla_s``) — and whether the job is already late (its window closed, or the plan already
    misses it).

    A late job keeps its window's *opening* (the customer is not there earlier, and service
    never starts before it) and gets a deadline: "no later than planned" when the plan's ETA
    is still ahead, else "now" — which ``_soften`` turns into "no later than the current
    route now arrives" for planned work, and the hot path's ``late_ok`` into "as little late
    as possible" for a job waiting to be placed. A late job never becomes "whenever": that
    let the improvement push it to the end of the day (measured in the simulator: a job
    whose window was 10:00-11:00 served at 16:41)."""
    if j.get("win_end"):
        start, end = int(j.get("win_start") or 0) // 1000, int(j["win_end"]) // 1000
    elif sla_s:
        start, end = 0, int(j.get("created_ms") or t0 * 1000) // 1000 + sla_s
    else:
        return (), False
    opens = max(0, start - t0)
    eta = j.get("eta_ms")
    if j.get("status") in ("offered", "assigned") and eta and int(eta) // 1000 > end:
        # Planned late: no later than planned (nothing may push it further back).
        return ((opens, max(opens, int(eta) // 1000 - t0, 1)),), True
    if end <= t0:
        return ((opens, max(opens, 1)),), True
    return ((opens, end - t0),), False


def _breaks(tid: str, t: Mapping[str, Any], now_s: int, t0: int, tz: ZoneInfo,
            shift: tuple[int, int]) -> tuple[Break, ...]:
    """The technician's breaks still to take in ``shift`` (epoch seconds): each placed on the
    shift's own days (a 23:30-00:30 break of a 22:00-06:00 shift at 01:00 is last night's,
    over; a 02:00 one is tonight's), and kept within it (the solver refuses a break outside
    its vehicle's working hours)."""
    import msgspec
    specs = msgspec.json.decode(t.get("breaks") or "[]")
    taken = (t.get("brk_ms") or 0) // 1000
    s_start, s_end = shift
    out = []
    for i, b in enumerate(specs):
        a = local_time(s_start, b["start"], tz, after=s_start - 1)
        z = local_time(a, b["end"], tz, after=a)
        a, z = max(a, s_start), min(z, s_end)
        if z <= max(now_s, s_start) or a >= s_end or a <= taken <= z:
            continue
        out.append(Break(f"{tid}~b{i}", ((max(0, a - t0), z - t0),),
                         int(b.get("duration_s", DEFAULT_BREAK_S))))
    return tuple(out)


def _on_break_ready(t: Mapping[str, Any], now_s: int) -> int:
    import msgspec
    specs = msgspec.json.decode(t.get("breaks") or "[]")
    dur = int(specs[0].get("duration_s", DEFAULT_BREAK_S)) if specs else DEFAULT_BREAK_S
    began = (t.get("status_ms") or now_s * 1000) // 1000
    return max(0, began + dur - now_s)


def build(state: State, now_ms: int, provider: MatrixProvider) -> Built:
    """The solver's view of the region at ``now_ms`` (see the module docstring)."""
    cfg = state.config
    tz = ZoneInfo(cfg.timezone)
    now_s = now_ms // 1000
    t0 = -(-now_ms // 1000)  # rounded up: a plan never assumes a departure before now
    zones = ZoneIndex.build(cfg.zones)
    locs = _Locations()
    outside: dict[str, str] = {}
    late: set[str] = set()
    due: dict[str, int] = {}

    # Jobs first need their zones: they decide the zone tokens technicians hold.
    plannable = {jid: j for jid, j in state.jobs.items() if j.get("status") in PLANNABLE}
    committed = {jid: j for jid, j in state.jobs.items() if j.get("status") in COMMITTED}
    job_zones: dict[str, frozenset[str]] = {}
    if not zones.empty and plannable:
        ids = list(plannable)
        found = zones.containing_many([plannable[i]["lat"] for i in ids],
                                      [plannable[i]["lon"] for i in ids])
        for jid, zs in zip(ids, found, strict=True):
            if zs:
                job_zones[jid] = zs
            else:
                outside[jid] = Unassignable.OUTSIDE_ZONES
    tokens = {zone_token(zs): zs for zs in job_zones.values()}
    exclusions = {jid: frozenset(csv(j.get("excluded"))) for jid, j in plannable.items()
                  if j.get("excluded") and jid not in outside}

    vehicles: list[Vehicle] = []
    starts: dict[str, tuple[float, float]] = {}
    fixed_tasks: list[Task] = []
    horizon = now_s  # the latest end of a shift under way (or still to come today)
    for tid in sorted(state.techs):
        t = state.techs[tid]
        if t.get("status") not in ON_SHIFT or t.get("lat") is None:
            continue
        active = t.get("active") or ""
        aj = committed.get(active) if active else None
        s_start, s_end = shift_of(t, now_s, tz)
        if s_end <= now_s and aj is None:
            continue  # shift over and nothing under way
        horizon = max(horizon, s_end)
        start = locs.add(t["lat"], t["lon"])
        starts[tid] = (t["lat"], t["lon"])
        end = locs.add(t["home_lat"], t["home_lon"])
        ready = _on_break_ready(t, now_s) if t.get("status") == TechStatus.ON_BREAK else 0
        shift = (max(ready, s_start - t0), max(s_end - t0, ready + 1))
        fixed: tuple[str, ...] = ()
        if aj is not None and aj.get("tech") == tid:
            service = int(aj.get("duration_s") or 0)
            loc = locs.add(aj["lat"], aj["lon"])
            # Service starts no earlier than the window opens: a technician who arrives
            # early waits on site (without this the plan had it free again while it waited,
            # and every later ETA slipped a little at each recompute).
            opens = int(aj.get("win_start") or 0) // 1000
            fixed_windows: tuple[tuple[int, int], ...] = (
                ((opens - t0, MAX_TIME),) if opens > t0 else ())
            if aj["status"] == JobStatus.ON_SITE:
                loc = start  # it is there
                began = max(int((aj.get("arrived_ms") or now_ms) // 1000), opens)
                # What is left of it; a minute more once it overruns. (Not "at least a
                # minute": a job ending in 13 s then made the next stop's ETA 47 s late.)
                left = began + service - t0
                service = left if left > 0 else 60
                fixed_windows = ()
            fixed_tasks.append(Task(aj["id"], loc, service, fixed_windows, frozenset(), 100))
            fixed = (aj["id"],)
        max_jobs = t.get("max_jobs")
        if s_end <= now_s:
            shift, max_jobs = (0, MAX_TIME), len(fixed)
        tz_ = frozenset(csv(t.get("zones")))
        skills = set(csv(t.get("skills")))
        skills |= {tok for tok, zs in tokens.items() if serves(tz_, zs)}
        skills |= {f"x:{jid}" for jid, ex in exclusions.items() if tid not in ex}
        brks = (_breaks(tid, t, now_s, t0, tz, (s_start, s_end))
                if cfg.policy.plan_breaks and not fixed and s_end > now_s else ())
        vehicles.append(Vehicle(tid, start, end, shift, frozenset(skills),
                                None, int(max_jobs) if max_jobs else None, brks, fixed))

    tasks = list(fixed_tasks)
    ahead = booked_ahead(plannable, horizon)
    order = sorted((j for jid, j in plannable.items() if jid not in outside and jid not in ahead),
                   key=lambda j: (-int(j.get("priority") or 0), j.get("created_ms") or 0, j["id"]))
    for j in order:
        jid = j["id"]
        sla_s = service_level_s(j, cfg.policy)
        windows, is_late = _windows(j, t0, sla_s)
        if is_late:
            late.add(jid)
        due_s = _due(j, sla_s)
        if due_s is not None:
            due[jid] = due_s - t0
        skills = set(csv(j.get("skills")))
        if jid in job_zones:
            skills.add(zone_token(job_zones[jid]))
        if jid in exclusions:
            skills.add(f"x:{jid}")
        tasks.append(Task(jid, locs.add(j["lat"], j["lon"]), int(j.get("duration_s") or 0),
                          windows, frozenset(skills), int(j.get("priority") or 0)))
    if not vehicles:
        for j in order:
            outside.setdefault(j["id"], Unassignable.NO_TECHNICIAN)
        tasks = []
    hour = datetime.fromtimestamp(now_s, tz).hour
    built = _finish(state, vehicles, tasks, locs, t0, outside, starts, late, provider, hour)
    return replace(built, due=due, ahead=ahead)


def booked_ahead(jobs: Mapping[str, Mapping[str, Any]], horizon_s: int) -> frozenset[str]:
    """Jobs nobody has been given whose window opens at or after ``horizon_s`` (epoch s): a
    visit booked for a later day waits for that day's shifts instead of being judged
    against today's. (A job already offered or accepted stays where it is planned.)"""
    return frozenset(jid for jid, j in jobs.items()
                     if j.get("status") in (JobStatus.NEW, JobStatus.UNASSIGNABLE)
                     and j.get("win_start") and int(j["win_start"]) // 1000 >= horizon_s)


def to_put_aside(ahead: frozenset[str], jobs: Mapping[str, Mapping[str, Any]],
                 pending: Iterable[str]) -> list[str]:
    """Of the jobs booked ahead, those ``lua/job_ahead.lua`` has something to do for: still
    ``pending`` (they would make the loop pass again), never stamped ``ahead_ms``, or judged
    ``unassignable`` for ``time_window`` against today's shifts (to be re-evaluated)."""
    pend = set(pending)
    return sorted(jid for jid in ahead
                  if jid in pend or not jobs.get(jid, {}).get("ahead_ms")
                  or (jobs[jid].get("status") == JobStatus.UNASSIGNABLE
                      and jobs[jid].get("reason") == Unassignable.TIME_WINDOW))


def _finish(state: State, vehicles: list[Vehicle], tasks: list[Task], locs: _Locations,
            t0: int, outside: dict[str, str], starts: dict[str, tuple[float, float]],
            late: set[str], provider: MatrixProvider, hour: int) -> Built:
    began = time.perf_counter()
    n = len(locs.coords)
    if n:
        lat = np.fromiter((c[0] for c in locs.coords), np.float64, n)
        lon = np.fromiter((c[1] for c in locs.coords), np.float64, n)
        duration, distance = provider.matrices(lat, lon, hour)
    else:
        duration = distance = np.zeros((1, 1), np.int64)
    matrix_s = time.perf_counter() - began
    problem = Problem(tuple(vehicles), tuple(tasks), duration, distance)
    return _with_plan(state, problem, t0, outside, starts, tuple(locs.coords), late, matrix_s)


def _with_plan(state: State, problem: Problem, t0: int, outside: dict[str, str],
               starts: dict[str, tuple[float, float]], coords: tuple[tuple[float, float], ...],
               late: set[str], matrix_s: float) -> Built:
    vehicle_ids = problem.vehicle_by_id
    sequences: dict[str, list[str]] = {}
    pending: list[Task] = []
    placed: set[str] = set()
    for vid, v in vehicle_ids.items():
        breaks = {b.id for b in v.breaks}
        seq = list(v.fixed)
        for stop in state.routes.get(vid, ()):
            sid = str(stop.get("j") or stop.get("b") or "")
            if sid in breaks:
                seq.append(sid)
                continue
            task = problem.task_by_id.get(sid)
            j = state.jobs.get(sid)
            if (task is None or sid in v.fixed or sid in placed or j is None
                    or j.get("tech") != vid or j.get("status") not in ("offered", "assigned")):
                continue
            seq.append(sid)
            placed.add(sid)
        sequences[vid] = seq
    for task in problem.tasks:
        if task.id not in placed and task.id not in problem.fixed_owner:
            pending.append(task)
    unplanned = {t.id: Unassigned.SOLVER for t in pending}
    current = build_plan(problem, sequences, unplanned)
    problem, softened = _soften(problem, current)
    if softened:
        late |= softened
        current = build_plan(problem, sequences, unplanned)
    return Built(problem, t0, current, tuple(pending), outside, starts, coords,
                 frozenset(late), matrix_s)


def _soften(problem: Problem, current: Plan) -> tuple[Problem, set[str]]:
    """The work technicians have been given stays feasible as time runs on: a planned job
    its route can no longer reach inside its window gets the deadline "no later than now
    planned", its window's opening kept (it will be late, but nothing may push it further
    back), and a route that now ends after the shift may end when it now ends (the overtime
    its accepted work needs, no more). Without this the solver's repair would silently drop
    or move accepted jobs."""
    late: dict[str, int] = {}
    over: dict[str, int] = {}
    for v in problem.vehicles:
        rte = current.routes.get(v.id)
        if rte is None or not rte.stops:
            continue
        arrival = {s.id: s.arrival for s in rte.stops}
        for bad in route_violations(problem, v, rte.sequence):
            if bad.kind == "time_window" and bad.stop_id in problem.task_by_id:
                late[bad.stop_id] = arrival[bad.stop_id]
            elif bad.kind == "shift":
                over[v.id] = int(rte.end_arrival)
    if not late and not over:
        return problem, set()
    tasks = tuple(replace(t, time_windows=((_opens(t, late[t.id]), max(1, late[t.id])),))
                  if t.id in late else t for t in problem.tasks)
    vehicles = tuple(replace(v, shift=(v.shift[0], max(v.shift[1], over[v.id])))
                     if v.id in over else v for v in problem.vehicles)
    return Problem(vehicles, tasks, problem.duration, problem.distance), set(late)


def earlier(problem: Problem, plan: Plan, due: Mapping[str, int], min_gain_s: int = 60
            ) -> tuple[Problem, Plan, int]:
    """Late jobs moved earlier on their own route where every other stop's rules allow.

    A job planned late (a decline cascade left only technicians who cannot make its window,
    or its route slipped) is taken out of its route and put back at the position where it
    arrives least late (then cheapest), with the route's other windows, breaks, committed
    stops and shift kept hard. The technician does not change (no churn, no new offer). Its
    deadline becomes "no later than now planned", so a later improvement, which minimises
    distance, cannot push it back again. Returns the problem with those deadlines, the plan
    and how many jobs moved earlier.
    """
    moved = 0
    for vid, rte in plan.routes.items():
        vehicle = problem.vehicle_by_id[vid]
        for stop in rte.stops:
            end = due.get(stop.id)
            if (end is None or stop.arrival - end < min_gain_s or stop.id in vehicle.fixed
                    or stop.kind is not StepKind.TASK):
                continue
            task = problem.task_by_id[stop.id]
            opens = task.time_windows[0][0] if task.time_windows else 0
            loose = replace(task, time_windows=((min(opens, stop.arrival), MAX_TIME),))
            q = problem.with_tasks(tuple(loose if t.id == task.id else t
                                         for t in problem.tasks))
            cur = plan.routes[vid]
            seq = [s for s in cur.sequence if s != task.id]
            breaks = {b.id for b in vehicle.breaks}
            best: tuple[tuple[int, int], list[str], int] | None = None
            for cand, timed, arrival in _feasible_insertions(q, vehicle, seq, task.id, breaks):
                key = (max(0, arrival - end), timed.cost)
                if best is None or key < best[0]:
                    best = (key, cand, arrival)
            now_late = next(s.arrival for s in cur.stops if s.id == task.id) - end
            if best is None or best[0][0] > now_late - min_gain_s:
                continue
            fixed_task = replace(task, time_windows=((min(opens, best[2]),
                                                      max(1, best[2])),))
            problem = problem.with_tasks(tuple(fixed_task if t.id == task.id else t
                                               for t in problem.tasks))
            plan = Plan({**plan.routes, vid: route(problem, vehicle, best[1])},
                        plan.unassigned)
            moved += 1
    return problem, plan, moved


def _feasible_insertions(problem: Problem, vehicle: Vehicle, seq: list[str], task_id: str,
                         breaks: set[str]) -> Iterator[tuple[list[str], Any, int]]:
    """Each place after the fixed stops (never before a break) where ``task_id`` fits
    ``seq`` within the route's rules: the sequence, its timed route and the arrival."""
    for i in range(len(vehicle.fixed), len(seq) + 1):
        if i < len(seq) and seq[i] in breaks:
            continue
        cand = [*seq[:i], task_id, *seq[i:]]
        if route_violations(problem, vehicle, cand):
            continue
        timed = route(problem, vehicle, cand)
        yield cand, timed, next(s.arrival for s in timed.stops if s.id == task_id)


def make_room(problem: Problem, plan: Plan, task: Task, due: int, late_s: int,
              vehicles: int = 6, min_gain_s: int = 1800, tries: int = 3,
              pinned: frozenset[str] = frozenset()) -> tuple[Problem, Plan] | None:
    """A job that can only be planned ``late_s`` late: make room for it on a route by moving
    one other job. ``plan`` is the plan without the job (``task`` is in ``problem``).

    On each of the ``vehicles`` skilled technicians whose routes pass nearest, each job not
    under way is taken out in turn and the late job put where it arrives least late, the
    route's other rules kept hard; the best few (at least ``min_gain_s`` less late) are tried
    with the job taken out re-inserted by cheapest feasible insertion — inside its own
    window, on any technician (this one included). The first that works is returned: the
    problem with the late job's deadline "no later than planned" and the plan. One job moved
    at most (a swap of priorities, not a re-plan). None if nothing gains enough. Jobs in
    ``pinned`` (outstanding offers: ``offered_to``) are never the one taken out."""
    opens = task.time_windows[0][0] if task.time_windows else 0
    loose = replace(task, time_windows=((opens, MAX_TIME),))
    q = problem.with_tasks(tuple(loose if t.id == task.id else t for t in problem.tasks))
    skilled = [v for v in problem.vehicles if task.skills <= v.skills]
    if not skilled:
        return None
    cost = problem.cost

    def distance(v: Vehicle) -> int:
        rte = plan.routes.get(v.id)
        locs = [v.start] + ([s.location for s in rte.stops] if rte else [])
        return min(int(cost[x, task.location] + cost[task.location, x]) for x in locs)

    found: list[tuple[int, int, str, list[str], int, str]] = []
    for v in sorted(skilled, key=distance)[:vehicles]:
        rte = plan.routes.get(v.id)
        if rte is None:
            continue
        breaks = {b.id for b in v.breaks}
        seq = list(rte.sequence)
        for x in seq[len(v.fixed):]:
            if x in breaks or x not in problem.task_by_id or x in pinned:
                continue
            rest = [s for s in seq if s != x]
            for cand, timed, arrival in _feasible_insertions(q, v, rest, task.id, breaks):
                late = max(0, arrival - due)
                if late <= late_s - min_gain_s:
                    found.append((late, timed.cost, v.id, cand, arrival, x))
    found.sort(key=lambda f: (f[0], f[1]))
    seen: set[tuple[str, str]] = set()
    for _late, _, vid, cand, arrival, x in found:
        if (vid, x) in seen:
            continue
        seen.add((vid, x))
        if len(seen) > tries:
            break
        placed = replace(task, time_windows=((min(opens, arrival), max(1, arrival)),))
        r = problem.with_tasks(tuple(placed if t.id == task.id else t for t in problem.tasks))
        v = r.vehicle_by_id[vid]
        trial = Plan({**plan.routes, vid: route(r, v, cand)}, dict(plan.unassigned))
        again = insert(trial, r, r.task_by_id[x])
        if again.vehicle_id is not None:
            return r, again.plan
    return None


def offered_to(jobs: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Outstanding offers: job → the technician asked (who has not answered yet)."""
    return {jid: str(j["tech"]) for jid, j in jobs.items()
            if j.get("status") == JobStatus.OFFERED and j.get("tech")}


def pin(problem: Problem, offers: Mapping[str, str]) -> Problem:
    """``problem`` with each outstanding offer (``offered_to``) held to the technician asked:
    the job needs a token ``o:<technician>`` only that technician holds. A re-solve may
    still reorder it on that route, never move it to another one. An offer is a question a
    technician is reading (for ``offer_timeout_s`` at most): moving it withdraws it, a buzz
    for nothing, and the gain the move was after is still there once it is answered."""
    held = {jid: tid for jid, tid in offers.items()
            if tid in problem.vehicle_by_id and jid in problem.task_by_id}
    if not held:
        return problem
    owners = set(held.values())
    vehicles = tuple(replace(v, skills=v.skills | {f"o:{v.id}"}) if v.id in owners else v
                     for v in problem.vehicles)
    tasks = tuple(replace(t, skills=t.skills | {f"o:{held[t.id]}"}) if t.id in held else t
                  for t in problem.tasks)
    return Problem(vehicles, tasks, problem.duration, problem.distance)


def _opens(task: Task, deadline: int) -> int:
    """A late task's window keeps its opening (service never starts before it)."""
    return min(task.time_windows[0][0], deadline) if task.time_windows else 0


def reasons(built: Built, plan: Plan) -> dict[str, str]:
    """Every job without a technician in ``plan``, with its reason."""
    out = {t: str(_reason(built.problem, t, r)) for t, r in plan.unassigned.items()}
    out.update(built.outside)
    return out


def _reason(problem: Problem, jid: str, why: Unassigned) -> Unassignable:
    """The solver's reason as a job's. Declines are a skill token ``x:<job>`` to the solver:
    a job that lacks skills only for that token was declined (or let expire) by everyone
    on shift who could do it, which is not the same news as nobody having the skills."""
    task = problem.task_by_id.get(jid)
    if (why is Unassigned.SOLVER and task is not None
            and not any(task.skills <= v.skills for v in problem.vehicles)):
        # A solve from scratch (a large batch) says only "left out"; nobody on shift could
        # do it at all, which is the news a dispatcher can act on.
        why = Unassigned.SKILLS
    token = f"x:{jid}"
    if why is Unassigned.SKILLS and task is not None and token in task.skills:
        needs = task.skills - {token}
        if any(needs <= v.skills for v in problem.vehicles):
            return Unassignable.DECLINED
    return REASONS.get(why, Unassignable.SOLVER)


def stops_ms(built: Built, plan: Plan, vid: str) -> list[list[Any]]:
    """A route as ``[[id, eta_ms, start_ms, end_ms(, "b")], ...]``."""
    out: list[list[Any]] = []
    base = built.t0 * 1000
    rte = plan.routes.get(vid)
    for s in rte.stops if rte else ():
        row: list[Any] = [s.id, base + s.arrival * 1000, base + s.start * 1000,
                          base + s.departure * 1000]
        if s.kind is StepKind.BREAK:
            row.append("b")
        out.append(row)
    return out


def changed_routes(built: Built, plan: Plan, stored: Mapping[str, Sequence[dict[str, Any]]],
                   eta_tolerance_ms: int = 60_000) -> dict[str, list[list[Any]]]:
    """Routes to publish: those whose stops changed, or whose ETAs moved by more than
    ``eta_tolerance_ms`` (customers then see a fresh ETA)."""
    out: dict[str, list[list[Any]]] = {}
    for vid in built.problem.vehicle_by_id:
        new = stops_ms(built, plan, vid)
        old = list(stored.get(vid, ()))
        same = len(new) == len(old) and all(
            (o.get("j") or o.get("b")) == n[0]
            and abs(int(o.get("eta") or 0) - n[1]) <= eta_tolerance_ms
            for o, n in zip(old, new, strict=True))
        if not same:
            out[vid] = new
    return out
