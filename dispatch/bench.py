"""Benchmarks of the solver set-up: ``python -m dispatch.bench {solomon,churn,scale} ...``.

- ``solomon FILES --time-limit S``: solve Solomon VRPTW instances with ``solve``, re-check every
  route in double precision, print instance/vehicles/distance/seconds/gap and the mean gap to
  the distance-only best known solutions.
- ``churn``: hold jobs of a solved instance back and replay them as "new job" events (cheapest
  insertion, then a warm-started improvement adopted through ``stabilise``); report churn per
  event, the distance against a from-scratch re-solve, and a from-scratch re-solve's churn.
  ``--quiet N`` adds N background improvement ticks after the last event (no new job, same
  policy) and reports the distance after them and every move charged to the events.
- ``scale``: a generated city (lat/lon, haversine × detour / speed), full recompute for many
  technicians and jobs, then latency of inserting one urgent job.

Every loop is bounded by its arguments; each bench stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from dispatch.solomon import SCALE, SolomonInstance, read_bks, read_instance, to_problem
from dispatch.solver import (
    Backend,
    InvalidInstance,
    Plan,
    Problem,
    StabilityPolicy,
    Task,
    Vehicle,
    check_plan,
    churn,
    improve,
    insert,
    solve,
)
from dispatch.solver.frontier import match_vehicles
from dispatch.solver.matrix import travel_matrices
from dispatch.solver.neighbourhood import nearest_vehicles
from dispatch.solver.schedule import build_plan

# The shared benchmark data sits beside the repository clone.
BENCH_DIR = Path(__file__).resolve().parents[2] / "shared" / "bench" / "vrptw"


def _routes(plan: Plan) -> list[list[int]]:
    return [[int(t) for t in r.task_ids] for r in plan.routes.values() if r.task_ids]


def solomon_distance(inst: SolomonInstance, routes: Sequence[Sequence[int]]) -> float:
    """Total route length in double precision (depot → customers → depot)."""
    d = inst.distances()
    return float(sum(d[a, b] for r in routes for a, b in zip([0, *r], [*r, 0], strict=True)))


def _dump(path: str | None, payload: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps(payload) + "\n")


# --- solomon -------------------------------------------------------------------------------


def run_solomon(args: argparse.Namespace) -> dict[str, Any]:
    files = [Path(f) for f in args.files]
    default_bks = files[0].parent / "bks_distance.csv"
    bks = read_bks(args.bks or default_bks) if args.bks or default_bks.is_file() else {}
    if not bks:
        print(f"(no best-known distances: {default_bks} is missing; the gap is not computed)")
    rows: list[dict[str, Any]] = []
    print(f"{'instance':<8} {'veh':>4} {'distance':>10} {'seconds':>8} {'gap %':>7} feasible")
    for path in files:
        inst = read_instance(path)
        problem = to_problem(inst)
        began, cpu_began = time.perf_counter(), time.process_time()
        plan = solve(
            problem,
            args.time_limit,
            seed=args.seed,
            backend=Backend(args.backend),
            cpu_clock=args.clock == "cpu",
        )
        seconds = time.perf_counter() - began
        cpu_seconds = time.process_time() - cpu_began
        routes = _routes(plan)
        violations = check_plan(problem, plan, travel=inst.distances() * SCALE)
        distance = solomon_distance(inst, routes)
        best = bks.get(inst.name)
        gap = None if best is None else 100.0 * (distance / best - 1.0)
        ok = not violations and not plan.unassigned
        rows.append(
            {
                "instance": inst.name,
                "seconds": round(seconds, 3),
                "cpu_seconds": round(cpu_seconds, 3),
                "distance": round(distance, 4),
                "vehicles": len(routes),
                "routes": routes,
                "gap_percent": None if gap is None else round(gap, 4),
                "bks_distance": best,
                "feasible": ok,
            }
        )
        gap_text = "   n/a" if gap is None else f"{gap:+7.2f}"
        print(f"{inst.name:<8} {len(routes):>4} {distance:>10.2f} {seconds:>8.2f} {gap_text} {ok}")
        sys.stdout.flush()
    gaps = [r["gap_percent"] for r in rows if r["gap_percent"] is not None]
    mean = statistics.fmean(gaps) if gaps else None
    feasible = all(r["feasible"] for r in rows)
    said = "no best-known distance for these instances" if mean is None else (
        f"mean gap {mean:+.3f}% over {len(gaps)} instances")
    print(f"{said}; all feasible: {feasible}")
    out = {"time_limit_s": args.time_limit, "seed": args.seed, "backend": args.backend}
    out |= {"clock": args.clock, "load_average_end": os.getloadavg()}
    out |= {"mean_gap_percent": mean, "all_feasible": feasible, "instances": rows}
    _dump(args.json, out)
    return out


# --- churn ---------------------------------------------------------------------------------


def relabel(plan: Plan, reference: Plan, problem: Problem) -> Plan:
    """Give a from-scratch plan of identical vehicles the labels that keep most tasks where
    ``reference`` had them (so the baseline churn is not inflated by route numbering)."""
    ids = [v.id for v in problem.vehicles]
    seqs = [list(r.sequence) for r in plan.routes.values() if r.sequence]
    matched = match_vehicles(ids, seqs, dict(reference.assignment))
    return build_plan(problem, matched, plan.unassigned)


def run_churn(args: argparse.Namespace) -> dict[str, Any]:
    inst = read_instance(args.instance)
    full = to_problem(inst)
    rng = np.random.default_rng(args.seed)
    held = [int(c) for c in rng.permutation(np.arange(1, inst.customers + 1))[: args.events]]
    base = full.with_tasks(tuple(t for t in full.tasks if int(t.id) not in set(held)))
    policy = StabilityPolicy(
        reassignment_penalty=int(args.penalty * SCALE),
        max_changes_per_hour=args.cap,
        max_moved_ratio=args.max_moved,
        burst_ratio=args.burst,
    )
    carry = 0.0
    cpu = args.clock == "cpu"
    current = solve(base, args.initial_s, seed=args.seed, cpu_clock=cpu)
    problem: Problem = base
    history: dict[str, tuple[int, ...]] = {}
    events = []
    for k, customer in enumerate(held):
        now = (k + 1) * args.event_gap_s
        task = full.task_by_id[str(customer)]
        problem = problem.with_tasks((*problem.tasks, task))
        began_cpu = time.process_time()
        began = time.perf_counter()
        inserted = insert(current, problem, task)
        insert_ms = 1000 * (time.perf_counter() - began)
        near = None
        if args.neighbours:
            near = nearest_vehicles(problem, inserted.plan, task.location, args.neighbours)
        result = improve(
            problem,
            inserted.plan,
            policy,
            history,
            now,
            args.improve_s,
            args.seed + k,
            vehicles=near,
            carry=carry,
            cpu_clock=cpu,
        )
        history, carry = result.history, result.carry
        event = {
            "customer": customer,
            "cpu_s": round(time.process_time() - began_cpu, 2),
            "insert_ms": round(insert_ms, 2),
            "inserted_on": inserted.vehicle_id,
            "moved": result.churn.moved,
            "planned": result.churn.planned,
            "churn": round(result.churn.ratio, 4),
            "distance": round(solomon_distance(inst, _routes(result.plan)), 3),
            "feasible": not check_plan(problem, result.plan, travel=inst.distances() * SCALE),
        }
        if args.baseline_every and k % args.baseline_every == 0:
            fresh = solve(problem, args.improve_s, seed=args.seed + 1000 + k, cpu_clock=cpu)
            scratch = relabel(fresh, current, problem)
            event["scratch_churn"] = round(churn(current, scratch).ratio, 4)
            event["scratch_distance"] = round(solomon_distance(inst, _routes(scratch)), 3)
        events.append(event)
        current = result.plan
        print(_event_line(k, event))
        sys.stdout.flush()
    after_events = current
    quiet = []
    for q in range(args.quiet):
        # A quiet period after the stream: background improvement every event gap with no new
        # job, under the same policy (the token bucket accrues per tick as it does per event).
        now = (len(held) + q + 1) * args.event_gap_s
        began_cpu = time.process_time()
        result = improve(
            problem,
            current,
            policy,
            history,
            now,
            args.quiet_s,
            args.seed + 5000 + q,
            carry=carry,
            cpu_clock=cpu,
        )
        history, carry = result.history, result.carry
        tick = {
            "moved": result.churn.moved,
            "planned": result.churn.planned,
            "churn": round(result.churn.ratio, 4),
            "cpu_s": round(time.process_time() - began_cpu, 2),
            "distance": round(solomon_distance(inst, _routes(result.plan)), 3),
            "feasible": not check_plan(problem, result.plan, travel=inst.distances() * SCALE),
        }
        quiet.append(tick)
        current = result.plan
        print(
            f"quiet {q + 1:>3}  moved {tick['moved']:>2}/{tick['planned']:<3} "
            f"distance {tick['distance']:9.2f}"
        )
        sys.stdout.flush()
    return _churn_summary(args, inst, full, after_events, events, current, quiet)


def _event_line(k: int, e: dict[str, Any]) -> str:
    base = f"event {k + 1:>3} customer {e['customer']:>3} insert {e['insert_ms']:6.2f} ms"
    base += f"  moved {e['moved']:>2}/{e['planned']:<3} distance {e['distance']:9.2f}"
    if "scratch_churn" in e:
        base += f"  scratch churn {100 * e['scratch_churn']:5.1f}%"
        base += f" distance {e['scratch_distance']:9.2f}"
    return base


def _churn_summary(
    args: argparse.Namespace,
    inst: SolomonInstance,
    full: Problem,
    final: Plan,
    events: list[Any],
    settled: Plan | None = None,
    quiet: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """``final`` is the plan right after the last event; ``settled`` the plan after the quiet
    period (``--quiet`` ticks), if any."""
    fresh_plan = solve(full, args.resolve_s, seed=args.seed + 7, cpu_clock=args.clock == "cpu")
    scratch = relabel(fresh_plan, final, full)
    running = solomon_distance(inst, _routes(final))
    fresh = solomon_distance(inst, _routes(scratch))
    churns = [e["churn"] for e in events]
    quiet_moved = sum(t["moved"] for t in quiet)
    planned = sum(e["planned"] for e in events)
    settled_distance = solomon_distance(inst, _routes(settled)) if quiet and settled else None
    baseline = [e["scratch_churn"] for e in events if "scratch_churn" in e]
    # Running plan vs a from-scratch re-solve with the same time budget, event by event.
    same_budget = [
        100.0 * (e["distance"] / e["scratch_distance"] - 1.0)
        for e in events
        if "scratch_distance" in e
    ]
    out = {
        "instance": inst.name,
        "events": len(events),
        "penalty": args.penalty,
        "max_moved": args.max_moved,
        "burst": args.burst,
        "neighbours": args.neighbours,
        "improve_s": args.improve_s,
        "clock": args.clock,
        "load_average_end": os.getloadavg(),
        "mean_churn": statistics.fmean(churns) if churns else 0.0,
        "max_churn": max(churns, default=0.0),
        "mean_scratch_churn": statistics.fmean(baseline) if baseline else None,
        "max_scratch_churn": max(baseline, default=None),
        "final_scratch_churn": churn(final, scratch).ratio,
        "mean_gap_vs_same_budget_resolve_percent": statistics.fmean(same_budget)
        if same_budget
        else None,
        "final_gap_vs_same_budget_resolve_percent": same_budget[-1] if same_budget else None,
        "running_distance": running,
        "scratch_distance": fresh,
        "distance_gap_percent": 100.0 * (running / fresh - 1.0),
        "insert_ms_p95": float(np.percentile([e["insert_ms"] for e in events], 95))
        if events
        else None,
        "all_feasible": all(e["feasible"] for e in events) and all(t["feasible"] for t in quiet),
        "event_cpu_s_mean": statistics.fmean(e["cpu_s"] for e in events) if events else None,
        "quiet_ticks": len(quiet),
        "quiet_s": args.quiet_s,
        "quiet_moved": quiet_moved,
        # Every move, the quiet period's included, charged to the new-job events.
        "churn_with_quiet": (sum(e["moved"] for e in events) + quiet_moved) / planned
        if planned
        else 0.0,
        "settled_distance": settled_distance,
        "settled_gap_percent": None
        if settled_distance is None
        else 100.0 * (settled_distance / fresh - 1.0),
        "routes": {v: list(r.task_ids) for v, r in final.routes.items() if r.task_ids},
        "per_event": events,
        "per_quiet_tick": list(quiet),
    }
    print(
        f"{inst.name}: churn mean {100 * out['mean_churn']:.2f}% max {100 * out['max_churn']:.2f}%"
        f" | from-scratch churn mean {_pct(out['mean_scratch_churn'])}"
        f" max {_pct(out['max_scratch_churn'])} final {_pct(out['final_scratch_churn'])}"
        f" | distance {running:.2f} vs {args.resolve_s:g} s re-solve {fresh:.2f}"
        f" ({out['distance_gap_percent']:+.2f}%); vs same-budget re-solve: mean"
        f" {_signed(out['mean_gap_vs_same_budget_resolve_percent'])}"
        f" last {_signed(out['final_gap_vs_same_budget_resolve_percent'])}"
    )
    if settled_distance is not None:
        print(
            f"after {len(quiet)} quiet ticks: distance {settled_distance:.2f}"
            f" ({out['settled_gap_percent']:+.2f}%), {quiet_moved} more moves; every move per"
            f" event: {100 * out['churn_with_quiet']:.2f}%"
        )
    _dump(args.json, out)
    return out


def _signed(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.2f}%"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


# --- scale ---------------------------------------------------------------------------------

SHIFT = (8 * 3600, 18 * 3600)
SKILLS = ("electric", "gas", "water")


def city(vehicles: int, tasks: int, extra: int, skills: bool, seed: int) -> Problem:
    """A generated city of ``vehicles`` technicians at home and ``tasks`` open jobs; ``extra``
    more locations (for urgent jobs later) are already in the matrix after the tasks."""
    rng = np.random.default_rng(seed)
    n = vehicles + tasks + extra
    lat = 52.37 + rng.normal(0.0, 0.05, n)
    lon = 4.90 + rng.normal(0.0, 0.08, n)
    duration, distance = travel_matrices(lat, lon)
    fleet = tuple(
        Vehicle(
            id=f"t{i}",
            start=i,
            end=i,
            shift=SHIFT,
            skills=frozenset(rng.choice(SKILLS, rng.integers(1, 4), replace=False).tolist())
            if skills
            else frozenset(),
            max_tasks=12,
        )
        for i in range(vehicles)
    )
    jobs = tuple(_job(rng, f"j{k}", vehicles + k, skills) for k in range(tasks))
    return Problem(fleet, jobs, duration, distance)


def _job(rng: np.random.Generator, job_id: str, location: int, skills: bool) -> Task:
    windows: tuple[tuple[int, int], ...] = ()
    if rng.random() < 0.5:
        start = int(rng.integers(SHIFT[0], SHIFT[1] - 4 * 3600))
        windows = ((start, start + 4 * 3600),)
    need = frozenset([str(rng.choice(SKILLS))]) if skills and rng.random() < 0.5 else frozenset()
    service = int(rng.integers(15, 46)) * 60
    return Task(job_id, location, service, windows, need, priority=int(rng.integers(0, 3)))


def run_scale(args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    problem = city(args.vehicles, args.tasks, args.inserts, args.skills, args.seed)
    build_s = time.perf_counter() - began
    began = time.perf_counter()
    plan = solve(problem, args.time_limit, seed=args.seed, backend=Backend(args.backend))
    solve_s = time.perf_counter() - began
    bad = check_plan(problem, plan)
    print(
        f"city {args.vehicles} technicians x {args.tasks} jobs: matrix {build_s:.1f} s, "
        f"recompute {solve_s:.1f} s (limit {args.time_limit} s), planned {plan.planned}, "
        f"unassigned {len(plan.unassigned)}, travel {plan.cost / 1000:.0f} km, "
        f"violations {len(bad)}"
    )
    rng = np.random.default_rng(args.seed + 1)
    stream, independent = [], []
    current, grown = plan, problem
    for k in range(args.inserts):
        now = SHIFT[0] + 3600
        task = replace(
            _job(rng, f"u{k}", args.vehicles + args.tasks + k, args.skills),
            time_windows=((now, now + 2 * 3600),),
            priority=100,
        )
        grown = grown.with_tasks((*grown.tasks, task))
        t0 = time.perf_counter()
        insert(plan, grown, task)
        independent.append(1000 * (time.perf_counter() - t0))
        t0 = time.perf_counter()
        current = insert(current, grown, task).plan
        stream.append(1000 * (time.perf_counter() - t0))
    out = {
        "vehicles": args.vehicles,
        "tasks": args.tasks,
        "backend": args.backend,
        "matrix_s": build_s,
        "recompute_s": solve_s,
        "time_limit_s": args.time_limit,
        "planned": plan.planned,
        "unassigned": len(plan.unassigned),
        "travel_km": plan.cost / 1000,
        "violations": len(bad),
        "insert_into_solved_plan_ms": _latency(independent),
        "insert_stream_ms": _latency(stream),
        "stream_violations": len(check_plan(grown, current)),
    }
    for name in ("insert_into_solved_plan_ms", "insert_stream_ms"):
        lat = out[name]
        print(f"{name}: p50 {lat['p50']:.2f}  p95 {lat['p95']:.2f}  max {lat['max']:.2f}")
    _dump(args.json, out)
    return out


def _latency(ms: list[float]) -> dict[str, float]:
    if not ms:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0, "first": 0.0}
    return {
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "max": max(ms),
        "first": ms[0],
    }


# --- command line --------------------------------------------------------------------------


CLOCK_HELP = "time limits in wall-clock or in this process's CPU time (for a loaded machine)"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m dispatch.bench", description=__doc__)
    sub = top.add_subparsers(dest="bench", required=True)
    sol = sub.add_parser("solomon", help="solve Solomon VRPTW instances")
    sol.add_argument("files", nargs="+")
    sol.add_argument("--time-limit", type=float, required=True)
    sol.add_argument("--json")
    sol.add_argument("--seed", type=int, default=1)
    sol.add_argument("--backend", choices=[b.value for b in Backend], default="auto")
    sol.add_argument("--bks", help="bks csv (default: bks_distance.csv beside the files)")
    sol.add_argument("--clock", choices=["wall", "cpu"], default="wall", help=CLOCK_HELP)
    ch = sub.add_parser("churn", help="replay new-job events into a running plan")
    ch.add_argument("--instance", default=str(BENCH_DIR / "RC105.txt"))
    ch.add_argument("--events", type=int, default=20)
    ch.add_argument("--initial-s", type=float, default=10.0)
    ch.add_argument("--improve-s", type=float, default=1.0)
    ch.add_argument("--resolve-s", type=float, default=10.0)
    ch.add_argument("--penalty", type=float, default=1.0, help="distance units per moved job")
    ch.add_argument("--cap", type=int, default=6, help="plan changes per technician per hour")
    ch.add_argument("--max-moved", type=float, default=0.02, help="mean moved share per event")
    ch.add_argument("--burst", type=float, default=0.05, help="max moved share in one event")
    ch.add_argument("--neighbours", type=int, default=0, help="routes re-solved (0: all)")
    ch.add_argument("--event-gap-s", type=int, default=300)
    ch.add_argument("--baseline-every", type=int, default=1)
    ch.add_argument("--seed", type=int, default=1)
    ch.add_argument("--clock", choices=["wall", "cpu"], default="wall", help=CLOCK_HELP)
    ch.add_argument("--quiet", type=int, default=0, help="improvement ticks after the last event")
    ch.add_argument("--quiet-s", type=float, default=1.0, help="improvement budget per quiet tick")
    ch.add_argument("--json")
    sc = sub.add_parser("scale", help="generated city: full recompute and insertion latency")
    sc.add_argument("--vehicles", type=int, default=1000)
    sc.add_argument("--tasks", type=int, default=5000)
    sc.add_argument("--time-limit", type=float, default=60.0)
    sc.add_argument("--inserts", type=int, default=200)
    sc.add_argument("--skills", action=argparse.BooleanOptionalAction, default=True)
    sc.add_argument("--backend", choices=[b.value for b in Backend], default="auto")
    sc.add_argument("--seed", type=int, default=1)
    sc.add_argument("--json")
    return top


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    ap = parser()
    args = ap.parse_args(argv)
    if args.bench == "solomon":  # usage errors, not tracebacks (exit 2)
        if args.time_limit <= 0:
            ap.error(f"--time-limit must be above 0 seconds, not {args.time_limit}")
        missing = [f for f in [*args.files, *([args.bks] if args.bks else [])]
                   if not Path(f).is_file()]
        if missing:
            ap.error(f"no such file: {', '.join(missing)}")
        try:  # every file before the first solve: not a traceback ten minutes in
            for f in args.files:
                read_instance(f)
            if args.bks:
                read_bks(args.bks)
        except InvalidInstance as exc:
            ap.error(f"{exc.path}: not a Solomon instance ({exc.detail})")
    runner = {"solomon": run_solomon, "churn": run_churn, "scale": run_scale}[args.bench]
    return runner(args)


if __name__ == "__main__":
    main()
