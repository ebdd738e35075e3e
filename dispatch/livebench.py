"""Benchmarks of the live dispatch system (the solver's own are ``dispatch.bench``).

    python -m dispatch.livebench matrix [--sources 1000] [--points 6000] [--json OUT]
    python -m dispatch.livebench gps [--techs 200] [--fixes 20000] [--concurrency 50]
    python -m dispatch.livebench scale [--techs 1000] [--jobs 5000] [--solve-s 60]
        [--inserts 100] [--worker]
    python -m dispatch.livebench batch [--techs 3] [--jobs 150] [--budget-s 2] [--planned 3]
    python -m dispatch.livebench cold [--techs 3] [--jobs 150] [--cold-s 5] [--solve-s 30]

- ``matrix``: the default provider's travel matrices: sources × points (rectangular) and the
  full square the solver needs, with peak memory.
- ``gps``: GPS ingest through the engine on a real Redis. "lua": the fix rules checked inside
  ``lua/gps.lua`` (one round trip, atomic); "cas": the rules in Python after a read, then a
  compare-and-set script on the last fix time (two round trips; the alternative the design
  weighed). Sequential and concurrent fixes/s, latency percentiles, refused races.
- ``scale``: a region of ``--techs`` technicians and ``--jobs`` open jobs in Redis, a full
  recompute through the engine (load, build with the matrix, solve, publish every offer),
  then ``--inserts`` urgent jobs one by one through the hot path (create → offered), timed
  per stage; with ``--worker`` also through a real arq worker (create → offered event seen).
- ``batch``: a batch of ``--jobs`` windowed jobs for ``--techs`` technicians, the region's
  recompute loop running as in the worker, and an urgent job ``--urgent-after-s`` later: how
  long until the urgent job is offered, until the first plan is published, until the batch is
  all decided; ``--budget-s`` is the pass's insertion budget (0: none, one pass for all);
  ``--planned`` jobs are planned first (0: the batch is solved from scratch instead).
- ``cold``: ``batch`` into a region with nothing planned (``--planned 0``), run until the
  region is idle — the full solve (``--solve-s``) included — and also: when every batch job
  was decided, the planned km (straight lines: position → jobs → home) at the end, offers
  withdrawn. ``--cold-s`` is the quick construction's limit (``Recomputer(cold_s)``); 0: the
  old cold start (the full solve before any offer).

Each run starts a private redis-server unless ``--redis-url`` is given. Run heavy benches
under ``flock /tmp/switchboard-bench.lock`` on shared machines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from redis.asyncio import Redis

from dispatch import gps as gpsrules
from dispatch import keys
from dispatch.engine import Actor, DispatchEngine, NoEnqueuer
from dispatch.errors import FixRejected
from dispatch.geo import GeodesicProvider, haversine_m
from dispatch.model import (
    Action,
    ActionKind,
    DispatchPolicy,
    JobRequest,
    Point,
    RegionConfig,
    Shift,
    TechnicianSpec,
)
from dispatch.recompute import Recomputer
from dispatch.store import Store
from queueing import redisconn

WHO = Actor("bench", "bench")
REGION = "bench"
SKILLS = ("electric", "gas", "water")


def _pcts(ms: Sequence[float]) -> dict[str, float]:
    if not ms:
        return {}
    a = np.asarray(ms)
    return {"p50": round(float(np.percentile(a, 50)), 3),
            "p95": round(float(np.percentile(a, 95)), 3),
            "p99": round(float(np.percentile(a, 99)), 3), "max": round(float(a.max()), 3),
            "mean": round(float(a.mean()), 3), "n": len(ms)}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _city(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return 52.37 + rng.normal(0.0, 0.05, n), 4.90 + rng.normal(0.0, 0.08, n)


# -- matrix -------------------------------------------------------------------------------------

def bench_matrix(args: argparse.Namespace) -> dict[str, Any]:
    lat, lon = _city(args.points, 1)
    p = GeodesicProvider()
    out: dict[str, Any] = {"sources": args.sources, "points": args.points}
    runs: tuple[tuple[str, Callable[[], Any]], ...] = (
        ("rect_s", lambda: p.rect((lat[:args.sources], lon[:args.sources]), (lat, lon), 9)),
        ("square_s", lambda: p.matrices(lat, lon, 9)))
    for label, fn in runs:
        best = float("inf")
        for _ in range(args.repeat):
            t = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t)
        out[label] = round(best, 3)
    out["peak_rss_mb"] = round(_rss_mb(), 1)
    print(f"matrix {args.sources} x {args.points}: {out['rect_s']} s; square {args.points}^2: "
          f"{out['square_s']} s (best of {args.repeat}); peak RSS {out['peak_rss_mb']} MB")
    return out


# -- gps ----------------------------------------------------------------------------------------

CAS = """
local tid, ft, lat, lon, seen = ARGV[4], tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8]
local key = P .. 'tech:' .. tid
if (redis.call('HGET', key, 'fix_ms') or '0') ~= seen then return ok({raced = true}) end
redis.call('HSET', key, 'fix_ms', ft, 'lat', lat, 'lon', lon)
redis.call('GEOADD', P .. 'geo', tonumber(lon), tonumber(lat), tid)
redis.call('XADD', P .. 'gps:' .. tid, 'MAXLEN', '~', 100, '*', 't', ft, 'la', lat, 'lo', lon)
local off = emit('gps', {i = tid, t = ft, la = tonumber(lat), lo = tonumber(lon)})
return ok({offset = off})
"""


async def _setup_region(eng: DispatchEngine, techs: int, now: int) -> list[str]:
    cfg = RegionConfig(timezone="UTC", policy=DispatchPolicy(improve_s=0.5, solve_s=60))
    await eng.put_region(REGION, cfg, WHO)
    lat, lon = _city(techs, 2)
    rng = np.random.default_rng(3)
    ids = []
    for i in range(techs):
        tid = f"{REGION}.t{i}"
        skills = sorted(rng.choice(SKILLS, int(rng.integers(1, 4)), replace=False).tolist())
        await eng.put_tech(tid, TechnicianSpec(name=f"T{i}", skills=skills,
                                               home=Point(float(lat[i]), float(lon[i])),
                                               shift=Shift("00:00", "24:00"), max_jobs=12),
                           WHO)
        await eng.action(tid, Action(f"on{i}", ActionKind.ONLINE, now), WHO)
        ids.append(tid)
    return ids


async def bench_gps(args: argparse.Namespace, redis: Redis) -> dict[str, Any]:
    eng = DispatchEngine(Store(redis), enqueuer=NoEnqueuer(), config_ttl_s=3600)
    techs = await _setup_region(eng, args.techs, eng.clock())
    from dispatch.store import prelude
    from queueing.luafn import script_text
    cas = redis.register_script(script_text(prelude(), CAS))
    pos = {t: [52.37 + 0.0005 * i, 4.9] for i, t in enumerate(techs)}
    out: dict[str, Any] = {"techs": args.techs}
    # Synthetic fix times start a day ago and step 1 s per fix: in order, never "future".
    clock = {t: eng.clock() - 86_400_000 for t in techs}
    rejected = {"n": 0}

    def next_fix(t: str) -> gpsrules.Fix:
        # 5 m and 1 ms per fix: each technician's fixes are in order, plausible, distinct.
        pos[t][0] += 0.00005
        clock[t] += 1000
        return gpsrules.Fix(clock[t], pos[t][0], pos[t][1])

    async def engine_fix(t: str) -> float:
        fix = next_fix(t)
        t0 = time.perf_counter()
        try:
            await eng.gps(t, fix, WHO)
        except FixRejected:
            rejected["n"] += 1
        return 1000 * (time.perf_counter() - t0)

    async def lua_fix(t: str) -> float:
        fix = next_fix(t)
        t0 = time.perf_counter()
        try:
            await eng.store.run("gps", REGION, eng.clock(), WHO.subject, WHO.via, t,
                                fix.t, repr(fix.lat), repr(fix.lon), "", "", 10, 200, 100)
        except FixRejected:
            rejected["n"] += 1
        return 1000 * (time.perf_counter() - t0)

    async def cas_fix(t: str) -> tuple[float, bool]:
        fix = next_fix(t)
        t0 = time.perf_counter()
        p = keys.prefix(REGION) + "tech:" + t
        seen, la, lo = await redis.hmget(p, ["fix_ms", "lat", "lon"])  # type: ignore[misc]
        last = gpsrules.Fix(int(seen), float(la), float(lo)) if seen and int(seen) else None
        raced = False
        if gpsrules.check(fix, last, eng.clock(), 10, 200) is not None:
            rejected["n"] += 1
        else:
            r = await cas(keys=[keys.events(REGION)], args=[
                eng.clock(), WHO.subject, WHO.via, t, fix.t, repr(fix.lat), repr(fix.lon),
                (seen or b"0").decode()])
            raced = b"raced" in r[1]
        return 1000 * (time.perf_counter() - t0), raced

    async def run(kind: str, concurrency: int) -> dict[str, Any]:
        lat_ms: list[float] = []
        raced = 0
        rejected["n"] = 0
        per = args.fixes // concurrency

        async def worker(k: int) -> None:
            nonlocal raced
            for i in range(per):
                t = techs[(k * per + i) % len(techs)]
                if kind == "lua":
                    lat_ms.append(await lua_fix(t))
                elif kind == "engine":
                    lat_ms.append(await engine_fix(t))
                else:
                    ms, r = await cas_fix(t)
                    lat_ms.append(ms)
                    raced += r
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        el = time.perf_counter() - t0
        return {"fixes_per_s": round(len(lat_ms) / el), "latency_ms": _pcts(lat_ms),
                "raced": raced, "rejected": rejected["n"]}

    for kind in ("lua", "cas", "engine"):
        for conc in (1, args.concurrency):
            r = await run(kind, conc)
            out[f"{kind}_c{conc}"] = r
            print(f"gps {kind:6} concurrency {conc:3}: {r['fixes_per_s']:6d} fixes/s, latency "
                  f"p50 {r['latency_ms']['p50']} ms p99 {r['latency_ms']['p99']} ms, "
                  f"raced {r['raced']}, rejected {r['rejected']}")
    return out


# -- scale --------------------------------------------------------------------------------------

async def _jobs(eng: DispatchEngine, n: int, now: int) -> None:
    lat, lon = _city(n, 4)
    rng = np.random.default_rng(5)
    rows = []
    for k in range(n):
        win = ""
        start = 0
        if rng.random() < 0.5:
            start = now + int(rng.integers(0, 6 * 3600)) * 1000
            win = str(start + 4 * 3600_000)
        need = str(rng.choice(SKILLS)) if rng.random() < 0.5 else ""
        rows.append({"id": f"{REGION}.j-{k:06d}", "lat": float(lat[k]), "lon": float(lon[k]),
                     "address": "", "skills": need, "duration_s": int(rng.integers(15, 46)) * 60,
                     "win_start": start if win else "", "win_end": win,
                     "priority": int(rng.integers(0, 3)), "org": "", "customer": "",
                     "note": ""})
    for i in range(0, n, 1000):
        await eng.store.run("job_create", REGION, now, WHO.subject, WHO.via,
                            json.dumps(rows[i:i + 1000]), "")


async def bench_scale(args: argparse.Namespace, redis: Redis) -> dict[str, Any]:
    eng = DispatchEngine(Store(redis), enqueuer=NoEnqueuer(), config_ttl_s=3600)
    now = eng.clock()
    t0 = time.perf_counter()
    await _setup_region(eng, args.techs, now)
    cfg = RegionConfig(timezone="UTC", policy=DispatchPolicy(improve_s=0.0,
                                                             solve_s=args.solve_s))
    await eng.put_region(REGION, cfg, WHO)
    await _jobs(eng, args.jobs, now)
    setup_s = time.perf_counter() - t0
    # The full solve before any offer, as this bench has always measured it (a cold start's
    # quick construction first is the ``cold`` bench).
    rc = Recomputer(eng, seed=1, cold_s=None)
    t0 = time.perf_counter()
    reports = await rc.run(REGION, "bench")
    full_s = time.perf_counter() - t0
    first = reports[0]
    counts = await _counts(redis)
    out: dict[str, Any] = {"techs": args.techs, "jobs": args.jobs, "setup_s": round(setup_s, 1),
                           "full_recompute_s": round(full_s, 2), "full_stages_ms": first.ms,
                           "planned": counts.get("offered", 0),
                           "unassignable": counts.get("unassignable", 0),
                           "peak_rss_mb": round(_rss_mb(), 1)}
    print(f"scale {args.techs} technicians x {args.jobs} jobs: full recompute {full_s:.1f} s "
          f"(stages ms {first.ms}); offered {out['planned']}, unassignable "
          f"{out['unassignable']}")
    rng = np.random.default_rng(7)
    e2e, stages = [], []
    for _ in range(args.inserts):
        lat, lon = 52.37 + rng.normal(0, 0.05), 4.9 + rng.normal(0, 0.08)
        t = time.perf_counter()
        await eng.create_job(REGION, JobRequest(location=Point(lat, lon), priority=90,
                                                duration_s=1800), WHO)
        reps = await rc.run(REGION, "urgent")
        e2e.append(1000 * (time.perf_counter() - t))
        stages.append(reps[0].ms)
    out["insert_e2e_ms"] = _pcts(e2e)
    out["insert_stage_ms_p95"] = {k: round(float(np.percentile([s.get(k, 0) for s in stages],
                                                               95)), 3)
                                  for k in ("load", "build", "matrix", "insert", "publish")}
    print(f"urgent insert through the engine (create -> offer published): {out['insert_e2e_ms']}"
          f"; stage p95 {out['insert_stage_ms_p95']}")
    if args.worker:
        out["worker"] = await _through_worker(args, redis, eng)
    return out


async def _counts(redis: Redis) -> dict[str, int]:
    raw = await redis.smembers(keys.prefix(REGION) + "open")  # type: ignore[misc]
    pipe = redis.pipeline(transaction=False)
    for j in raw:
        pipe.hget(keys.prefix(REGION) + "job:" + j.decode(), "status")
    out: dict[str, int] = {}
    for s in await pipe.execute():
        out[s.decode()] = out.get(s.decode(), 0) + 1
    return out


async def _through_worker(args: argparse.Namespace, redis: Redis, eng: DispatchEngine
                          ) -> dict[str, Any]:
    """create_job → arq → recompute → the job's ``offered`` event read from the stream."""
    from arq.worker import Worker

    from dispatch import tasks
    pool = tasks.arq_redis(redis)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx[tasks.CTX_KEY] = tasks.services(ctx["redis"])

    out = {}
    for poll in (0.5, 0.05):
        worker = Worker(functions=tasks.FUNCTIONS, redis_pool=pool, on_startup=startup,
                        handle_signals=False, poll_delay=poll, keep_result=0)
        run = asyncio.create_task(worker.async_run())
        weng = DispatchEngine(Store(redis), enqueuer=tasks.ArqEnqueuer(pool), config_ttl_s=3600)
        rng = np.random.default_rng(11)
        lat_ms = []
        for _ in range(args.worker_inserts):
            last = (await redis.xrevrange(keys.events(REGION), count=1))[0][0]
            t = time.perf_counter()
            job = await weng.create_job(REGION, JobRequest(
                location=Point(52.37 + rng.normal(0, 0.05), 4.9 + rng.normal(0, 0.08)),
                priority=90, duration_s=1800), WHO)
            seen = False
            while not seen:
                rows = await redis.xread({keys.events(REGION): last}, block=5000, count=100)
                for _, entries in rows or ():
                    for eid, f in entries:
                        last = eid
                        if f[b"t"] == b"offered" and job["id"].encode() in f[b"d"]:
                            seen = True
            lat_ms.append(1000 * (time.perf_counter() - t))
            await asyncio.sleep(0.2)
        run.cancel()
        await asyncio.gather(run, *worker.tasks.values(), return_exceptions=True)
        out[f"poll_{poll}_s"] = _pcts(lat_ms)
        print(f"urgent insert through an arq worker (poll {poll} s): {out[f'poll_{poll}_s']}")
    return out


# -- batch ---------------------------------------------------------------------------------------

async def bench_batch(args: argparse.Namespace, redis: Redis) -> dict[str, Any]:
    eng = DispatchEngine(Store(redis), enqueuer=NoEnqueuer(), config_ttl_s=3600)
    now = eng.clock()
    cold = args.bench == "cold"
    if cold:
        args.planned = 0
    policy = DispatchPolicy(improve_s=0.0, solve_s=args.solve_s) if cold else DispatchPolicy(
        improve_s=0.0)
    await eng.put_region(REGION, RegionConfig(timezone="UTC", policy=policy), WHO)
    lat, lon = _city(args.techs + args.jobs, 6)
    for i in range(args.techs):
        tid = f"{REGION}.t{i}"
        await eng.put_tech(tid, TechnicianSpec(name=f"T{i}", home=Point(float(lat[i]),
                                                                        float(lon[i])),
                                               shift=Shift("00:00", "24:00")), WHO)
        await eng.action(tid, Action(f"on{i}", ActionKind.ONLINE, now), WHO)
    # Eight one-hour slots from the next hour, as a partner's day of bookings arrives.
    slot0 = (now // 3600_000 + 1) * 3600_000
    rows = [{"id": f"{REGION}.b-{k:05d}", "lat": float(lat[args.techs + k]),
             "lon": float(lon[args.techs + k]), "address": "", "skills": "",
             "duration_s": 900, "win_start": slot0 + (k % 8) * 3600_000,
             "win_end": slot0 + (k % 8 + 1) * 3600_000, "priority": 0, "org": "",
             "customer": "", "note": ""} for k in range(args.jobs)]
    cold_s = (args.cold_s or None) if cold else 5.0
    rc = Recomputer(eng, seed=1, insert_budget_s=args.budget_s or None, cold_s=cold_s)
    ids = [str(r["id"]) for r in rows]
    for k in range(args.planned):
        # Work planned before the batch: the batch goes through the hot path's insertion.
        # (A region with nothing planned solves a large batch from scratch instead, for up
        # to the policy's solve_s.)
        await eng.create_job(REGION, JobRequest(location=Point(float(lat[k]), float(lon[k])),
                                                duration_s=900), WHO)
    if args.planned:
        await rc.run(REGION, "before")
    p = keys.prefix(REGION)
    before = await redis.hget(p + "plan", "version")  # type: ignore[misc]
    t0 = time.perf_counter()
    await eng.store.run("job_create", REGION, now, WHO.subject, WHO.via, json.dumps(rows), "")
    loop = asyncio.create_task(rc.run(REGION, "batch"))
    urgent: str | None = None
    t_urgent = 0.0
    first = offered = decided = None
    reports: list[Any] = []
    deadline = t0 + args.max_s
    while time.perf_counter() < deadline:
        if urgent is None and time.perf_counter() - t0 >= args.urgent_after_s:
            urgent = (await eng.create_job(REGION, JobRequest(
                location=Point(52.37, 4.9), priority=90, duration_s=1800), WHO))["id"]
            t_urgent = time.perf_counter()
        if first is None and await redis.hget(p + "plan", "version") != before:  # type: ignore[misc]
            first = time.perf_counter() - t0
        if cold and decided is None and b"new" not in await _statuses(redis, ids):
            decided = time.perf_counter() - t0
        if urgent is not None and offered is None and await redis.hget(  # type: ignore[misc]
                p + "job:" + urgent, "status") not in (None, b"new"):
            offered = time.perf_counter() - t_urgent
        if loop.done():
            reports += loop.result()
            if urgent is not None and not await rc.has_work(REGION):
                break
            loop = asyncio.create_task(rc.run(REGION, "again"))  # as the worker's next job
        await asyncio.sleep(0.05)
    if not loop.done():
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
    done_s = time.perf_counter() - t0
    counts = await _counts(redis)
    out: dict[str, Any] = {
        "techs": args.techs, "jobs": args.jobs, "planned_before": args.planned,
        "budget_s": args.budget_s, "cold_s": cold_s,
        "urgent_after_s": args.urgent_after_s,
        "urgent_offered_s": None if offered is None else round(offered, 2),
        "first_plan_s": None if first is None else round(first, 2),
        "batch_decided_s": round(done_s, 2), "passes": len(reports),
        "statuses": counts, "peak_rss_mb": round(_rss_mb(), 1)}
    if cold:
        out.update({"solve_s": args.solve_s,
                    "batch_all_decided_s": None if decided is None else round(decided, 2),
                    "planned_km": round(await _planned_m(redis) / 1000, 1),
                    "withdrawn": await _withdrawn(redis),
                    "improved": any(r.improved for r in reports)})
        print(f"cold: every batch job decided at {out['batch_all_decided_s']} s; planned "
              f"{out['planned_km']} km at the end; offers withdrawn: {out['withdrawn']}")
    print(f"batch of {args.jobs} for {args.techs} technicians, insertion budget "
          f"{args.budget_s or 'none'}: urgent job offered {out['urgent_offered_s']} s after it "
          f"came; first plan at {out['first_plan_s']} s; all decided at {out['batch_decided_s']}"
          f" s in {len(reports)} passes; {counts}")
    return out


async def _statuses(redis: Redis, ids: list[str]) -> list[bytes]:
    pipe = redis.pipeline(transaction=False)
    for j in ids:
        pipe.hget(keys.prefix(REGION) + "job:" + j, "status")
    return list(await pipe.execute())


async def _planned_m(redis: Redis) -> float:
    """Straight-line metres of every route: the technician's position, its jobs, home."""
    p = keys.prefix(REGION)
    total = 0.0
    for tid in sorted(t.decode() for t in await redis.smembers(p + "techs")):  # type: ignore[misc]
        t = await redis.hgetall(p + "tech:" + tid)  # type: ignore[misc]
        raw = await redis.get(p + "route:" + tid)
        stops = json.loads(raw).get("stops") or [] if raw else []
        at = (float(t[b"lat"]), float(t[b"lon"]))
        for s in stops:
            if s.get("j"):
                la, lo = await redis.hmget(p + "job:" + s["j"], ["lat", "lon"])  # type: ignore[misc]
                nxt = (float(la), float(lo))
                total += haversine_m(at, nxt)
                at = nxt
        total += haversine_m(at, (float(t[b"home_lat"]), float(t[b"home_lon"])))
    return total


async def _withdrawn(redis: Redis) -> dict[str, int]:
    """Offers withdrawn, by the event's reason and the plan that withdrew them."""
    out: dict[str, int] = {}
    plan = ""
    for _, f in await redis.xrange(keys.events(REGION)):
        d = json.loads(f.get(b"d") or b"{}")
        if f.get(b"t") == b"plan":
            plan = str(d.get("reason") or "")
        elif f.get(b"t") == b"offer_withdrawn":
            k = f"{d.get('reason')} ({plan})"
            out[k] = out.get(k, 0) + 1
    return out


# -- command line -------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m dispatch.livebench", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="bench", required=True)
    m = sub.add_parser("matrix")
    m.add_argument("--sources", type=int, default=1000)
    m.add_argument("--points", type=int, default=6000)
    m.add_argument("--repeat", type=int, default=3)
    g = sub.add_parser("gps")
    g.add_argument("--techs", type=int, default=200)
    g.add_argument("--fixes", type=int, default=20000)
    g.add_argument("--concurrency", type=int, default=50)
    s = sub.add_parser("scale")
    s.add_argument("--techs", type=int, default=1000)
    s.add_argument("--jobs", type=int, default=5000)
    s.add_argument("--solve-s", type=float, default=60.0)
    s.add_argument("--inserts", type=int, default=100)
    s.add_argument("--worker", action="store_true")
    s.add_argument("--worker-inserts", type=int, default=30)
    b = sub.add_parser("batch")
    b.add_argument("--planned", type=int, default=3)
    c = sub.add_parser("cold")
    c.add_argument("--solve-s", type=float, default=30.0)
    c.add_argument("--cold-s", type=float, default=5.0)
    for p in (b, c):
        p.add_argument("--techs", type=int, default=3)
        p.add_argument("--jobs", type=int, default=150)
        p.add_argument("--budget-s", type=float, default=2.0)
        p.add_argument("--urgent-after-s", type=float, default=1.0)
        p.add_argument("--max-s", type=float, default=600.0)
    for p in (m, g, s, b, c):
        p.add_argument("--json")
        p.add_argument("--redis-url")
    return top


async def _with_redis(args: argparse.Namespace, url: str) -> dict[str, Any]:
    redis = redisconn.connect(url)
    try:
        for k in [k async for k in redis.scan_iter(match=keys.prefix(REGION) + "*")]:
            await redis.delete(k)
        if args.bench == "gps":
            return await bench_gps(args, redis)
        if args.bench in ("batch", "cold"):
            return await bench_batch(args, redis)
        return await bench_scale(args, redis)
    finally:
        await redis.aclose()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parser().parse_args(argv)
    if args.bench == "matrix":
        out = bench_matrix(args)
    elif args.redis_url:
        out = asyncio.run(_with_redis(args, args.redis_url))
    else:
        from dispatch.simulate import private_redis
        with private_redis() as url:
            out = asyncio.run(_with_redis(args, url))
    out["machine"] = {"python": sys.version.split()[0], "platform": platform.platform(),
                      "numpy": np.__version__}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
