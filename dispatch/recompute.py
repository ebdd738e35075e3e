"""Recomputes: one per region at a time, under a Redis lock with a fencing token.

``Recomputer.run(region)`` is what the arq job ``dispatch_recompute`` calls. It takes the
region's lock (``lua/lock.lua``: the token comes from ``INCR``, so tokens only grow), then
loops while there is work, each pass taking *all* work queued so far — bursts of triggers
coalesce into one pass:

- ``pending``: jobs waiting for a technician (new, declined, expired, taken back). The hot
  path inserts each, most urgent first, where it adds the least travel (cheapest feasible
  insertion), and offers it to that technician. A job booked for a later day (its window
  opens after every current shift: ``planning.booked_ahead``) leaves ``pending`` still
  ``new``; the periodic whole-region pass plans it on its day.
- ``dirty``: technicians whose plan must be looked at again (a status change, a departure,
  an arrival, a completion, GPS or ETA drift, a cancelled job); ``*`` for the whole region
  (periodic, region configuration). A pass moves what it takes to ``taken`` and clears it
  there only once its plan is published: a pass that fails or is cancelled (arq cancels
  its job on SIGINT and retries it) leaves its work to the next one, which merges it back.

A pass is *local* when it can be: the technicians named, the ones nearest each pending job
(Redis GEO search on technician positions and on open jobs' locations), and the jobs they
carry — so the hot path's cost does not grow with the region. It is *full* for ``*``, a
large burst, or a job no nearby technician can take. After the insertion is published, a
warm-started improvement (``dispatch.solver.improve``: re-solve, then keep a change only
where its gain beats its churn cost) is published too, if it changed anything.

A *cold* region (nothing planned, more than ``bulk`` pending jobs) gets a quick from-scratch
solve (``cold_s``) that is published and offered at once; the full solve (``solve_s``) is
owed, and runs as the region's next whole-region improvement, its offers pinned and kept.

Every publish carries the token; ``lua/plan.lua`` refuses a token older than one it has
accepted or than the lock's current holder (a stale worker's result is refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import msgspec
from redis.asyncio import Redis

from dispatch import keys, planning, settle, transitions
from dispatch.engine import RULES, SYSTEM, DispatchEngine
from dispatch.errors import Conflict, StaleToken
from dispatch.model import JobStatus, RegionConfig, Unassignable
from dispatch.offers import candidates
from dispatch.planning import Built, State
from dispatch.records import csv, decode_hash
from dispatch.solver import (
    MAX_TIME,
    Plan,
    Problem,
    StabilityPolicy,
    Task,
    Unassigned,
    adapt,
    churn,
    improve,
    insert,
    solve,
)
from dispatch.solver.neighbourhood import nearest_vehicles

log = logging.getLogger("switchboard.dispatch")
WHOLE = "*"
FAR_M = 20_000_000  # search radius that covers the planet: GEOSEARCH needs one
COLD_MIN_S = 0.5  # a cold start's construction gets at least this long
OWED_CHUNK_S = 5.0  # the owed full solve runs in chunks this long (work waits for one)


@dataclass
class Report:
    """What one pass did (logged, returned to tests and the simulator, timed for benches)."""

    region: str
    token: int
    reason: str
    mode: str = "local"
    techs: int = 0
    jobs: int = 0
    pending: int = 0
    inserted: int = 0
    deferred: int = 0  # pending jobs left for the next pass (the insertion's time budget)
    unassigned: int = 0
    offers: int = 0
    moved: int = 0
    planned: int = 0
    improved: bool = False
    cold: bool = False  # a region with no plan: a quick construction, the full solve owed
    stale: bool = False
    held: bool = False  # left to a start-of-shift settle's pass (nothing published)
    version: int = 0
    ms: dict[str, float] = field(default_factory=dict)

    @property
    def churn(self) -> float:
        return self.moved / self.planned if self.planned else 0.0


@dataclass(frozen=True)
class Work:
    dirty: frozenset[str]
    pending: frozenset[str]

    @property
    def whole(self) -> bool:
        return WHOLE in self.dirty


@dataclass
class _Hot:
    plan: Plan
    costs: dict[str, int]
    cands: dict[str, list[tuple[str, int]]]
    failed: list[str]
    mode: str
    problem: Problem | None = None  # with late jobs' windows dropped, if any were
    deferred: tuple[str, ...] = ()  # pending jobs left for the next pass (the time budget)


class Recomputer:
    def __init__(self, engine: DispatchEngine, lock_ttl_ms: int = 60_000, neighbours: int = 6,
                 near_jobs: int = 12, bulk: int = 50, seed: int = 0,
                 threads: bool = True, insert_budget_s: float | None = 2.0,
                 cold_s: float | None = 5.0) -> None:
        self.engine = engine
        self.redis: Redis = engine.redis
        self.lock_ttl_ms = lock_ttl_ms
        self.neighbours = neighbours
        self.near_jobs = near_jobs
        self.bulk = bulk
        self.seed = seed
        self.threads = threads  # False in the simulator: deterministic, one thread
        # A pass inserts pending jobs (most urgent first) for this long, at least one, then
        # publishes; the rest stay pending for the next pass. A large batch no longer holds
        # the region for minutes: a job that arrives meanwhile (urgent first) is in the next
        # pass, and the batch's first offers go out after seconds. None: no limit (the
        # simulator, whose results must not depend on the machine's speed).
        self.insert_budget_s = insert_budget_s if threads else None
        # A cold region (nothing planned, a large batch) first gets a from-scratch solve this
        # long (at most ``solve_s``), published and offered at once; the full solve follows.
        # Bench (livebench cold, 151 jobs): 2 s offered 89-111 (mean 97), 5 s 94-110, the 30 s
        # solve 97-111 (one loaded run 72).
        # None: the full solve before any offer (the simulator).
        self.cold_s = cold_s if threads else None
        # Regions whose plan is a cold start's quick construction: their next improvement
        # (when no work waits) is the full solve, for ``solve_s``, over the whole region.
        # In this process only: a restarted worker leaves it to the periodic improvements.
        self.owed: dict[str, float] = {}  # region → seconds of full solve still owed

    # -- the loop --------------------------------------------------------------------------

    async def run(self, region: str, reason: str = "event", max_passes: int = 50
                  ) -> list[Report]:
        """All queued work of ``region``, under its lock; [] if another worker holds it
        (that worker's loop sees the work: it was queued before the lock was asked for)."""
        reports: list[Report] = []
        for _ in range(3):  # re-check after releasing: work queued in the last instant
            token = await self.acquire(region)
            if not token:
                return reports
            keeper = asyncio.create_task(self._keep(region, token))
            held = False
            try:
                for _ in range(max_passes):
                    # A start-of-shift settle: its work waits for its one pass (the caller
                    # runs again when it ends: dispatch/tasks.py).
                    held = await self.settling(region) > 0
                    if held:
                        break
                    work = await self.take(region)
                    if work is None:
                        break
                    report = await self.once(region, token, reason, work)
                    held = report.held
                    if held:  # (nothing done: not reported)
                        break
                    reports.append(report)
                    if report.stale:
                        return reports
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
                await self.lock(region, "release", token)
            if held or not await self.has_work(region):
                break
        return reports

    async def settling(self, region: str) -> float:
        """Seconds left of a start-of-shift settle in ``region`` (0: none): no pass takes
        work before it ends (dispatch/settle.py; set by ``DispatchEngine.action``)."""
        raw = await self.redis.get(keys.prefix(region) + settle.HOLD_KEY)
        return max(0.0, (int(raw) - self.engine.clock()) / 1000) if raw else 0.0

    async def acquire(self, region: str) -> int:
        r = await self.lock(region, "acquire", 0)
        return int(r.get("token") or 0)

    async def lock(self, region: str, op: str, token: int, ttl_ms: int | None = None
                   ) -> dict[str, Any]:
        return await self.engine.store.run("lock", region, self.engine.clock(), SYSTEM.subject,
                                           SYSTEM.via, op, ttl_ms or self.lock_ttl_ms, token)

    async def _hold(self, region: str, token: int, work_s: float) -> None:
        """Extend the lock to cover ``work_s`` of solver time before it starts: a solver holds
        the GIL for long stretches, so the keeper task cannot be relied on meanwhile."""
        await self.lock(region, "extend", token,
                        max(self.lock_ttl_ms, int(2000 * work_s) + 30_000))

    async def _keep(self, region: str, token: int) -> None:
        while True:
            await asyncio.sleep(self.lock_ttl_ms / 3000)
            r = await self.lock(region, "extend", token)
            if not r.get("held"):
                log.warning("region %s: lost the recompute lock (token %d)", region, token)
                return

    async def has_work(self, region: str) -> bool:
        p = keys.prefix(region)
        pipe = self.redis.pipeline(transaction=False)
        pipe.scard(p + "dirty")
        pipe.scard(p + "taken")
        pipe.scard(p + "pending")
        return any(await pipe.execute())

    async def take(self, region: str) -> Work | None:
        """Everything queued so far: dirty moves to ``taken`` atomically, together with what
        an interrupted pass left there; pending jobs leave their set when their status
        changes. ``done`` clears what the pass took once its plan is published."""
        p = keys.prefix(region)
        pipe = self.redis.pipeline(transaction=True)
        pipe.sunionstore(p + "taken", [p + "taken", p + "dirty"])
        pipe.delete(p + "dirty")
        pipe.smembers(p + "taken")
        pipe.smembers(p + "pending")
        _, _, dirty, pending = await pipe.execute()
        if not dirty and not pending:
            return None
        return Work(frozenset(d.decode() for d in dirty), frozenset(j.decode() for j in pending))

    async def done(self, region: str, work: Work) -> None:
        """The pass that took ``work`` published its plan: its dirty work is done (only what
        it took: a trigger since then waits in ``dirty``)."""
        if work.dirty:
            await self.redis.srem(keys.prefix(region) + "taken", *work.dirty)  # type: ignore[misc]

    # -- one pass --------------------------------------------------------------------------

    async def once(self, region: str, token: int, reason: str, work: Work) -> Report:
        eng = self.engine
        report = Report(region, token, reason)
        t = time.perf_counter()
        cached = await eng._cached(region)
        cfg = cached.config
        full = work.whole or len(work.pending) > self.bulk
        now = eng.clock()
        state = await (self.load_full(region, cfg) if full else
                       self.load_local(region, cfg, work))
        if await self.settling(region) > 0:
            # A shift start's settle began after this pass took its work, and the state may
            # hold the technician whose log-in began it (the hold is set in the log-in's
            # step): planning it now would give it the waiting work alone. The work stays
            # (``taken``, ``pending``) for the settle's pass.
            report.held = True
            return report
        state = await self._expire_overdue(region, cfg, state, full, work, now)
        report.mode = "full" if full else "local"
        report.techs, report.jobs = len(state.techs), len(state.jobs)
        report.ms["load"] = _ms(t)
        t = time.perf_counter()
        built = await self._call(planning.build, state, now, cached.provider)
        report.ms["build"] = _ms(t)
        report.ms["matrix"] = built.matrix_s * 1000
        t = time.perf_counter()
        if full:
            await self._hold(region, token, cfg.policy.solve_s)
        hot = await self._call(self._hot, built, state, full)
        report.ms["insert"] = _ms(t)
        report.pending = len(built.pending)
        report.inserted = len(hot.costs)
        report.deferred = len(hot.deferred)
        if hot.failed and not full:
            # No nearby technician can take these: the whole region decides (and names
            # the reason if nobody can).
            await self._escalate(region, hot.failed)
        t = time.perf_counter()
        payload = self.payload(built, state, hot.plan, reason, hot, None, full)
        report.moved, report.planned = payload["moved"], payload["planned"]
        report.unassigned = len(payload["unassigned"])
        try:
            res = await self.publish(region, token, cfg, payload)
        except StaleToken:
            # Not done: the newer token's holder takes this work over from ``taken``.
            report.stale = True
            return report
        await self.done(region, work)
        await self._wait_for_their_day(region, built, state, work)
        report.version = int(res.get("version") or 0)
        report.offers = len(res.get("offers") or [])
        report.ms["publish"] = _ms(t)
        if hot.mode == "cold":
            report.cold = True
            self.owed[region] = cfg.policy.solve_s
        owed = self.owed.get(region, 0.0) if cfg.policy.solve_s > 0 else 0.0
        if owed and not full:
            # The full solve covers the whole region: a local pass (an urgent job that came
            # during the construction) asks for a whole-region pass to run it.
            await self.redis.sadd(keys.prefix(region) + "dirty", WHOLE)  # type: ignore[misc]
            owed = 0.0
        # The owed full solve runs in chunks, each warm-started from the last and published
        # if it changed something: work that arrives meanwhile waits for one chunk, not for
        # the whole solve (the rest stays owed to a later whole-region pass).
        whole = owed > 0
        budget = min(owed, OWED_CHUNK_S) if whole else cfg.policy.improve_s
        plan, offered = hot.plan, {o[0] for o in res.get("offers") or []}
        while budget > 0 and built.problem.tasks and not await self.has_work(region):
            if whole:
                owed -= budget
                if owed > 0:
                    self.owed[region] = owed
                else:
                    self.owed.pop(region, None)
            done = await self._improvement(region, token, cfg, built, hot, state, plan,
                                           reason, full, budget, report, whole, offered, now)
            now = eng.clock()
            if done is None:
                return report
            plan, state = done
            if not whole or owed <= 0:
                break
            budget = min(owed, OWED_CHUNK_S)
        return report

    async def _improvement(self, region: str, token: int, cfg: RegionConfig, built: Built,
                           hot: _Hot, state: State, plan: Plan, reason: str, full: bool,
                           budget: float, report: Report, whole: bool, offered: set[str],
                           now: int) -> tuple[Plan, State] | None:
        """One improvement after the pass's publish, for ``budget`` seconds (``whole``: a
        chunk of a cold region's full solve, which keeps ``offered``, the jobs this pass
        offered). Published if it changed something; returns the plan and state now
        published, None if the pass must stop."""
        t = time.perf_counter()
        await self._hold(region, token, budget)
        # The offers this pass made went out moments ago: a cold region's full solve may
        # reorder them on their routes, never move them (planning.pin), like any open offer.
        fresh = {j: v for j, v in plan.assignment.items() if j in offered} if whole else {}
        try:
            stab = await self._call(self._improve, built, hot.problem or built.problem, plan,
                                    _policy(cfg), state, now, budget, whole, fresh)
        except Exception:
            # The insertion is published already; a failing improvement only costs the
            # gain it would have brought (the next pass tries again).
            log.exception("region %s: improvement failed", region)
            return None
        report.ms["improve"] = round(report.ms.get("improve", 0.0) + _ms(t), 3)
        if not stab.changed:
            return plan, state
        stored = _as_stored(built, plan)
        payload2 = self.payload(built, state, stab.plan, reason + "+improve", None, stab, full,
                                stored)
        payload2["keep_accepted"] = True
        if not payload2["routes"]:
            return plan, state
        try:
            res = await self.publish(region, token, cfg, payload2)
        except StaleToken:
            report.stale = True
            return None
        except Conflict as exc:
            # A job it would drop was accepted meanwhile: the next pass sees it.
            log.info("region %s: improvement not published: %s", region, exc)
            return None
        report.improved = True
        report.version = int(res.get("version") or 0)
        report.offers += len(res.get("offers") or [])
        offered.update(o[0] for o in res.get("offers") or [])
        report.moved, report.planned = payload2["moved"], payload2["planned"]
        return stab.plan, replace(state, history=stab.history, carry=stab.carry)

    async def _call(self, fn: Any, *args: Any) -> Any:
        if self.threads:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)

    async def _wait_for_their_day(self, region: str, built: Built, state: State,
                                  work: Work) -> None:
        """Jobs booked for a later day leave ``pending`` (they stay ``new``, in ``open``): a
        pending job makes the loop pass again at once, and the periodic whole-region pass
        plans them once their day's shifts reach their window. Each is stamped ``ahead_ms``
        (its dispatch response counts from the pass that plans it), and one an older pass
        judged ``unassignable`` for ``time_window`` is ``new`` again (lua/job_ahead.lua)."""
        ids = planning.to_put_aside(built.ahead, state.jobs, work.pending)
        if not ids:
            return
        eng = self.engine
        res = await eng.store.run("job_ahead", region, eng.clock(), SYSTEM.subject, SYSTEM.via,
                                  msgspec.json.encode(ids).decode(),
                                  transitions.sources(transitions.Op.REEVALUATE))
        if res.get("reevaluated"):
            log.info("region %s: re-evaluated %s (booked for a later day, not time_window)",
                     region, res["reevaluated"])

    async def _escalate(self, region: str, jobs: Iterable[str]) -> None:
        p = keys.prefix(region)
        pipe = self.redis.pipeline(transaction=True)
        pipe.srem(p + "pending", *jobs)
        pipe.sadd(p + "dirty", WHOLE)
        await pipe.execute()

    # -- loading ---------------------------------------------------------------------------

    async def load_full(self, region: str, cfg: RegionConfig) -> State:
        p = keys.prefix(region)
        pipe = self.redis.pipeline(transaction=False)
        pipe.smembers(p + "techs")
        pipe.smembers(p + "open")
        techs, jobs = await pipe.execute()
        return await self._state(region, cfg, [t.decode() for t in techs],
                                 [j.decode() for j in jobs])

    async def load_local(self, region: str, cfg: RegionConfig, work: Work) -> State:
        p = keys.prefix(region)
        techs: set[str] = {d for d in work.dirty if d != WHOLE}
        pending = sorted(work.pending)
        pipe = self.redis.pipeline(transaction=False)
        for jid in pending:
            pipe.hmget(p + "job:" + jid, ["lat", "lon"])
        coords = await pipe.execute()
        pipe = self.redis.pipeline(transaction=False)
        kinds: list[str] = []
        for lat, lon in coords:
            if lat is None:
                continue
            pipe.geosearch(p + "geo", longitude=float(lon), latitude=float(lat), radius=FAR_M,
                           unit="m", sort="ASC", count=self.neighbours)
            pipe.geosearch(p + "jgeo", longitude=float(lon), latitude=float(lat),
                           radius=FAR_M, unit="m", sort="ASC", count=self.near_jobs)
            kinds += ["techs", "jobs"]
        for tid in sorted(techs):
            pipe.geosearch(p + "geo", member=tid, radius=FAR_M, unit="m", sort="ASC",
                           count=self.neighbours)
            kinds.append("techs")
        near_jobs: set[str] = set()
        for kind, ids in zip(kinds, await pipe.execute(), strict=True):
            (near_jobs if kind == "jobs" else techs).update(x.decode() for x in ids)
        if near_jobs:
            pipe = self.redis.pipeline(transaction=False)
            for jid in sorted(near_jobs):
                pipe.hget(p + "job:" + jid, "tech")
            for owner in await pipe.execute():
                if owner:
                    techs.add(owner.decode())
        return await self._state(region, cfg, sorted(techs), pending)

    async def _state(self, region: str, cfg: RegionConfig, tech_ids: list[str],
                     job_ids: list[str]) -> State:
        p = keys.prefix(region)
        pipe = self.redis.pipeline(transaction=False)
        for tid in tech_ids:
            pipe.hgetall(p + "tech:" + tid)
            pipe.get(p + "route:" + tid)
        pipe.hgetall(p + "hist")
        pipe.hget(p + "plan", "carry")
        res = await pipe.execute()
        techs: dict[str, dict[str, Any]] = {}
        routes: dict[str, list[dict[str, Any]]] = {}
        wanted = set(job_ids)
        for i, tid in enumerate(tech_ids):
            raw, route = res[2 * i], res[2 * i + 1]
            if not raw:
                continue
            techs[tid] = decode_hash(raw)
            stops = _stops(route)
            routes[tid] = stops
            wanted.update(s["j"] for s in stops if s.get("j"))
            if techs[tid].get("active"):
                wanted.add(techs[tid]["active"])
        hist_raw, carry = res[-2], res[-1]
        history = {k.decode(): tuple(int(x) for x in csv(v.decode()))
                   for k, v in hist_raw.items() if k.decode() in techs}
        jobs = await self._jobs(region, sorted(wanted))
        return State(region, cfg, techs, jobs, routes, history, float(carry or 0))

    async def _jobs(self, region: str, job_ids: list[str]) -> dict[str, dict[str, Any]]:
        p = keys.prefix(region)
        pipe = self.redis.pipeline(transaction=False)
        for jid in job_ids:
            pipe.hgetall(p + "job:" + jid)
        out = {}
        for jid, raw in zip(job_ids, await pipe.execute(), strict=True):
            if raw:
                j = decode_hash(raw)
                if j.get("status") not in ("done", "cancelled", "failed"):
                    out[jid] = j
        return out

    async def _expire_overdue(self, region: str, cfg: RegionConfig, state: State, full: bool,
                              work: Work, now: int) -> State:
        """Offers past their deadline are expired here too (lazily, in case their timer job
        has not run): the job is pending again, without that technician."""
        late = [j for j in state.jobs.values() if j.get("status") == "offered"
                and j.get("deadline_ms") and j["deadline_ms"] <= now]
        if not late:
            return state
        for j in late:
            await self.engine.expire_offer(region, j["id"], int(j.get("offer_n") or 0))
        fresh = await self._jobs(region, [j["id"] for j in late])
        jobs = {**state.jobs, **fresh}
        routes = {t: [s for s in r if s.get("j") not in fresh or fresh[s["j"]].get("tech") == t]
                  for t, r in state.routes.items()}
        return State(state.region, state.config, state.techs, jobs, routes, state.history,
                     state.carry)

    # -- computing (pure, run in a thread) -------------------------------------------------

    def _hot(self, built: Built, state: State, full: bool) -> _Hot:
        p = built.problem
        pending_ids = {t.id for t in built.pending}
        base = p.with_tasks(tuple(t for t in p.tasks if t.id not in pending_ids))
        cur = adapt(base, built.current) if base.tasks else built.current
        costs: dict[str, int] = {}
        cands: dict[str, list[tuple[str, int]]] = {}
        failed: list[str] = []
        if not p.vehicles:
            # Nobody nearby is on shift (build then plans no task at all, so built.pending is
            # empty): the jobs escalate, and the whole region names the reason if nobody
            # anywhere is. Left in `pending`, they made every later pass an empty one.
            stranded = sorted(j for j, why in built.outside.items()
                              if why == Unassignable.NO_TECHNICIAN)
            return _Hot(cur, costs, cands, [] if full else stranded, "none")
        if full and cur.planned == 0 and len(built.pending) > self.bulk:
            if self.cold_s is None:  # the simulator: the full solve at once
                plan = solve(p, state.config.policy.solve_s, seed=self.seed)
                return _Hot(plan, costs, cands, failed, "solve")
            # A cold region (nothing planned: a restart, the day's first jobs, a batch into
            # an empty region): a quick construction is published and offered at once; the
            # full solve follows as the improvement (``owed``).
            limit = min(state.config.policy.solve_s, max(COLD_MIN_S, self.cold_s))
            plan = solve(p, limit, seed=self.seed)
            return _Hot(plan, costs, cands, failed, "cold")
        plan = cur
        late_ok = state.config.policy.late_ok
        offered = frozenset(planning.offered_to(state.jobs))
        fair = state.config.policy.fairness_m_per_job
        budget = self.insert_budget_s
        stop_at = None if budget is None else time.perf_counter() + budget
        deferred: tuple[str, ...] = ()
        for i, task in enumerate(built.pending):
            if i and stop_at is not None and time.perf_counter() >= stop_at:
                deferred = tuple(t.id for t in built.pending[i:])
                break
            ins = insert(plan, p, task, fair)
            if (ins.vehicle_id is None and late_ok and task.time_windows
                    and ins.plan.unassigned.get(task.id) is Unassigned.TIME_WINDOW):
                before = plan
                ins, p, task = _late(plan, p, task)
                ins, p = _room(before, p, task, ins, built.due.get(task.id), offered)
            plan = ins.plan
            if ins.vehicle_id is None:
                failed.append(task.id)
                continue
            costs[task.id] = int(ins.cost or 0)
            if len(built.pending) <= self.bulk:
                cands[task.id] = _ranking(p, plan, task, ins.vehicle_id, self.neighbours,
                                          fair)
        # Late jobs as early as their routes allow (the same technician: no churn).
        p, plan, _ = planning.earlier(p, plan, built.due)
        return _Hot(plan, costs, cands, failed if not full else [], "insert", p, deferred)

    def _improve(self, built: Built, p: Problem, plan: Plan, policy: StabilityPolicy,
                 state: State, now: int, budget: float, whole: bool = False,
                 fresh: dict[str, str] | None = None) -> Any:
        vehicles = None
        if not whole and len(p.vehicles) > 2 * self.neighbours * 4:
            # A large region is improved a neighbourhood at a time: around the first
            # pending job, else around a technician chosen by the clock (a rotating
            # neighbourhood on periodic passes).
            anchor = built.pending[0].location if built.pending else p.vehicles[
                (now // 1000) % len(p.vehicles)].start
            vehicles = nearest_vehicles(p, plan, anchor, 4 * self.neighbours)
        # Accepted work is never swapped out for other work (the customer was told).
        accepted = frozenset(j for j, rec in state.jobs.items()
                             if rec.get("status") == JobStatus.ASSIGNED)
        # An outstanding offer stays with the technician asked until answered or expired:
        # moved, it is withdrawn moments after the wristband buzzed (planning.pin).
        offers = {**planning.offered_to(state.jobs), **(fresh or {})}
        # A cold region's full solve sees the construction's open offers beside the jobs it
        # left out: it dropped a few offers (withdrawn, "unassignable") to plan others in
        # their place (5 offers in 4 bench runs of 6). Like accepted work, they are kept.
        keep = accepted | frozenset(offers) if whole else accepted
        policy = replace(policy, keep=keep)
        p = planning.pin(p, offers)
        return improve(p, plan, policy, state.history, now // 1000, budget, self.seed,
                       vehicles=vehicles, carry=state.carry)

    def payload(self, built: Built, state: State, plan: Plan, reason: str, hot: _Hot | None,
                stab: Any, full: bool, stored: Any = None) -> dict[str, Any]:
        stored = state.routes if stored is None else stored
        routes = planning.changed_routes(built, plan, stored)
        for tid, old in state.routes.items():
            if tid not in built.problem.vehicle_by_id and any(s.get("j") for s in old):
                routes[tid] = []  # off shift: its planned jobs go back to pending
        later = frozenset(hot.deferred) if hot is not None else frozenset()
        unassigned = {j: _own_words(r, state.jobs.get(j))
                      for j, r in planning.reasons(built, plan).items() if j not in later}
        if not full:
            # A local pass knows only zone verdicts; the rest escalate to a full pass.
            unassigned = {j: r for j, r in unassigned.items()
                          if r == Unassignable.OUTSIDE_ZONES}
        offers: dict[str, dict[str, Any]] = {}
        if hot is not None:
            for jid, cost in hot.costs.items():
                j = state.jobs.get(jid, {})
                # As JSON text: plan.lua splices it in (its cjson writes [] as {}).
                cands = msgspec.json.encode([list(c) for c in hot.cands.get(jid, [])])
                offers[jid] = {"reason": _offer_reason(j), "cost": cost,
                               "rank": len(csv(j.get("excluded"))) + 1,
                               "candidates": cands.decode()}
        if stab is not None:
            moved, planned = stab.churn.moved, stab.churn.planned
            hist = {v: ",".join(map(str, stab.history.get(v, ()))) for v in stab.changed}
            carry = stab.carry
        else:
            ch = churn(built.current, plan)
            moved, planned, hist, carry = ch.moved, ch.planned, {}, state.carry
        return {"reason": reason, "moved": moved, "planned": planned, "routes": routes,
                "unassigned": unassigned, "offers": offers, "carry": carry, "full": full,
                "pos": {t: [lat, lon] for t, (lat, lon) in built.starts.items()},
                "hist": hist}

    async def publish(self, region: str, token: int, cfg: RegionConfig,
                      payload: dict[str, Any]) -> dict[str, Any]:
        eng = self.engine
        res = await eng.store.run("plan", region, eng.clock(), SYSTEM.subject, SYSTEM.via,
                                  token, msgspec.json.encode(payload).decode(),
                                  cfg.policy.offer_timeout_s, RULES)
        for jid, n, deadline in res.get("offers") or []:
            await eng.enqueuer.offer_timeout(region, jid, int(n), int(deadline))
        return res


LATE_STEPS_S = (600, 1200, 1800, 2700, 3600, 5400, 7200, 3 * 3600, 4 * 3600, 6 * 3600,
                8 * 3600)


def _late(plan: Plan, p: Problem, task: Task) -> tuple[Any, Problem, Task]:
    """Nobody makes the job's window: plan it as little late as possible — the window's end
    pushed back step by step, at most ``LATE_STEPS_S[-1]`` (8 h). The window's opening stays:
    the customer is not there before it, and a technician sent earlier would wait on site.

    Past the last step the job is left out: ``capacity`` when an open-ended deadline would
    place it (the skilled technicians' days are full: it would be more than 8 h late — a
    200-job batch for 3 technicians had jobs planned 22 h past their window, accepted), else
    the insertion's own reason (``time_window``: nobody can reach it at all)."""
    (start, end), *_ = task.time_windows
    ins = None
    for x in LATE_STEPS_S:
        late = replace(task, time_windows=((start, end + x),))
        q = p.with_tasks(tuple(late if t.id == task.id else t for t in p.tasks))
        ins = insert(plan, q, late)
        if ins.vehicle_id is not None:
            return ins, q, late
    assert ins is not None
    whenever = replace(task, time_windows=((start, MAX_TIME),))
    q = p.with_tasks(tuple(whenever if t.id == task.id else t for t in p.tasks))
    if insert(plan, q, whenever).vehicle_id is not None:
        left = {**ins.plan.unassigned, task.id: Unassigned.CAPACITY}
        ins = replace(ins, plan=replace(ins.plan, unassigned=left))
    return ins, p, task


def _room(plan: Plan, p: Problem, task: Task, ins: Any, due: int | None,
          offered: frozenset[str] = frozenset()) -> tuple[Any, Problem]:
    """A job planned late by more than half an hour: try to make room for it on a nearby
    route by moving one other job (``planning.make_room``), never an outstanding offer."""
    if ins.vehicle_id is None or due is None:
        return ins, p
    arrival = next(s.arrival for s in ins.plan.routes[ins.vehicle_id].stops if s.id == task.id)
    if arrival - due < 1800:
        return ins, p
    made = planning.make_room(p, plan, task, due, arrival - due, pinned=offered)
    if made is None:
        return ins, p
    q, better = made
    return replace(ins, plan=better, vehicle_id=better.assignment[task.id]), q


def _policy(cfg: RegionConfig) -> StabilityPolicy:
    p = cfg.policy
    return StabilityPolicy(reassignment_penalty=p.reassignment_penalty_m,
                           max_changes_per_hour=p.max_changes_per_hour,
                           max_moved_ratio=p.max_moved_ratio, burst_ratio=p.burst_ratio)


def _ranking(problem: Any, plan: Plan, task: Task, chosen: str, k: int, fair: int = 0
             ) -> list[tuple[str, int]]:
    near = nearest_vehicles(problem, plan, task.location, k)
    ranked = candidates(problem, plan, task, [v for v in near if v != chosen], 2, fair)
    return ranked


def _own_words(reason: str, j: dict[str, Any] | None) -> str:
    """A job without a window is judged against the service level (``service_within_s``
    after its order), not a window of the customer's: its ``time_window`` verdict is
    ``service_level`` (a page said "nobody can reach you within your time window" next to
    "Window: any time")."""
    if reason == Unassignable.TIME_WINDOW and j is not None and not j.get("win_end"):
        return Unassignable.SERVICE_LEVEL
    return reason


def _offer_reason(j: dict[str, Any]) -> str:
    if j.get("excluded"):
        return "next_candidate"
    if j.get("status") in ("offered", "assigned"):
        return "reassigned"
    if j.get("status") == "unassignable":
        return "retry"
    return "new_job"


def _as_stored(built: Built, plan: Plan) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for vid in built.problem.vehicle_by_id:
        out[vid] = [{"j" if len(r) == 4 else "b": r[0], "eta": r[1]}
                    for r in planning.stops_ms(built, plan, vid)]
    return out


def _stops(raw: bytes | None) -> list[dict[str, Any]]:
    if not raw:
        return []
    stops = msgspec.json.decode(raw).get("stops") or []
    return list(stops) if isinstance(stops, list) else []


def _ms(since: float) -> float:
    return round(1000 * (time.perf_counter() - since), 3)
