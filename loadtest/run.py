"""Run one scenario against one target and gather the numbers.

Phases: start the target (or use ``--url``); build the plan (site, tickets); measure the
server's idle memory; open the connections from the generator processes; measure memory
again (the difference per connection is the per-connection cost); open the window, drive
the changes, wait for the last deliveries to arrive; close the window; merge the
generators' histograms and loss counts with the server's CPU and memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing
import os
import platform
import resource
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from loadtest import generator, scenarios
from loadtest.backends import Publisher, SwitchboardAPI
from loadtest.servers import NeedsError, Sampler, Target

# One generator process holds at most this many connections (the open-files limit is
# 20,000 per process here) and is sized for about this many messages per second.
CONNS_PER_PROC = 9000
MSGS_PER_PROC = 15_000
BURST_PER_PROC = 2500
MAX_PROCS = 8
SATURATED_CPU_PCT = 85.0
SATURATED_LAG_MS = 250.0


@dataclass
class Options:
    scenario: str
    target: str = "switchboard"
    workers: int = 2
    url: str | None = None
    secret: str | None = None
    procs: int = 0  # generator processes; 0 = sized from connections and rate
    duration: float = 30.0
    settle_s: float = 2.0
    drain_max_s: float = 30.0
    quiet: bool = False
    profile: str | None = None  # a folder: py-spy records each server process there
    params: dict[str, Any] = field(default_factory=dict)


def run(opts: Options, console: Console | None = None) -> dict[str, Any]:
    console = console or Console(stderr=True, quiet=opts.quiet)
    target = Target(opts.target, workers=opts.workers, url=opts.url)
    if opts.secret:
        target.secret = opts.secret
    if opts.url and not opts.secret:
        raise NeedsError("--url needs --secret (the server's SWITCHBOARD_SECRET) to mint "
                         "tokens for the screens, counters and admin set-up")
    console.log(f"starting {opts.target}" + (f" ({opts.workers} workers)"
                                             if opts.target != "bare" and not opts.url else ""))
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        target.start()
        result: dict[str, Any] = _run_loop(_run(opts, target, console))
        return result
    finally:
        target.stop()
        signal.signal(signal.SIGTERM, previous)


def _terminated(signum: int, frame: Any) -> None:
    # SIGTERM (timeout, CI) unwinds like Ctrl-C, so the servers and Redis are stopped.
    raise KeyboardInterrupt


def _run_loop(coro: Any) -> Any:
    try:
        import uvloop
        return uvloop.run(coro)
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)


async def _build(opts: Options, target: Target, backend: Any) -> scenarios.Plan:
    p, d = opts.params, opts.duration
    if opts.scenario == "boards":
        return await scenarios.boards(target, backend, p["screens"], p["calls_per_s"], d,
                                      p.get("counters", 0))
    if opts.scenario == "trackers":
        return await scenarios.trackers(target, backend, p["trackers"], p["calls_per_s"], d,
                                        p.get("services", 10), p.get("counters", 0))
    if opts.scenario == "mixed":
        return await scenarios.mixed(target, backend, d, p.get("clinics", 8),
                                     p.get("scale", 1.0))
    if opts.scenario == "devices":
        return await scenarios.devices(target, backend, p["devices"], p["hz"], d,
                                       p.get("jobs_per_s", 0.0))
    raise ValueError(f"unknown scenario {opts.scenario}")


def generator_procs(opts: Options, conns: int, rate: float, burst: int = 0
                    ) -> tuple[int, str]:
    """Generator processes: enough for the connections (open-files limit), the message
    rate, and the largest burst (a call reaching N screens at once is read by one process
    at a time per connection; split, the last screen's latency is not N reads long)."""
    if opts.procs:
        return opts.procs, "as asked (--procs)"
    by_conns = math.ceil(conns / CONNS_PER_PROC)
    by_rate = math.ceil(rate / MSGS_PER_PROC)
    by_burst = math.ceil(burst / BURST_PER_PROC)
    n = max(1, min(MAX_PROCS, max(by_conns, by_rate, by_burst)))
    why = []
    if by_conns > 1:
        why.append(f"{conns} connections at most {CONNS_PER_PROC} per process")
    if by_rate > 1:
        why.append(f"~{rate:,.0f} messages/s at about {MSGS_PER_PROC:,} per process")
    if by_burst > 1:
        why.append(f"bursts of {burst:,} messages at about {BURST_PER_PROC:,} per process")
    return n, "; ".join(why) or "one process is enough"


class Gens:
    """The generator processes and their pipes."""

    def __init__(self, slices: list[dict[str, Any]]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        for spec in slices:
            parent, child = ctx.Pipe()
            p = ctx.Process(target=generator.main, args=(spec, child), daemon=True)
            p.start()
            child.close()
            self.pipes.append(parent)
            self.procs.append(p)

    async def recv_all(self, kind: str, timeout_s: float,
                       on_other: Callable[[Any], None] | None = None) -> list[Any]:
        loop = asyncio.get_running_loop()
        out: list[Any] = [None] * len(self.pipes)
        deadline = loop.time() + timeout_s
        for i, pipe in enumerate(self.pipes):
            while out[i] is None:
                left = deadline - loop.time()
                if left <= 0:
                    raise TimeoutError(f"generator {i} did not answer {kind!r}")
                if not await asyncio.to_thread(pipe.poll, min(left, 0.5)):
                    if not self.procs[i].is_alive():
                        raise RuntimeError(f"generator process {i} died "
                                           f"(exit {self.procs[i].exitcode})")
                    continue
                msg = pipe.recv()
                if msg[0] == kind:
                    out[i] = msg[1]
                elif on_other is not None:
                    on_other(msg)
        return out

    def send(self, *cmd: Any) -> None:
        for pipe in self.pipes:
            pipe.send(cmd)

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("close",))
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join()


async def _run(opts: Options, target: Target, console: Console) -> dict[str, Any]:
    if target.name == "switchboard":
        backend: Any = SwitchboardAPI(target.base, target.secret)
    else:
        backend = Publisher(target.dialect, target.host, target.port)
        await backend.open()
    try:
        return await _measure(opts, target, backend, console)
    finally:
        await backend.close()


async def _measure(opts: Options, target: Target, backend: Any,
                   console: Console) -> dict[str, Any]:
    if opts.scenario == "rush":
        return await _rush(opts, target, backend, console)
    t_setup = time.monotonic()
    plan = await _build(opts, target, backend)
    setup_s = time.monotonic() - t_setup
    n_conns = len(plan.conns)
    n_procs, why = generator_procs(opts, n_conns, plan.rate_hint, plan.burst)
    console.log(f"{opts.scenario}: {n_conns:,} connections; generator: {n_procs} "
                f"process{'es' if n_procs > 1 else ''} ({why}); set-up took {setup_s:.1f} s")
    sampler = Sampler(target.processes())
    await asyncio.sleep(opts.settle_s)
    rss_idle = sampler.rss()
    slices = generator.split(plan.conns, n_procs)
    per_proc_open = max(20, 200 // n_procs)
    gens = Gens([{"dialect": target.dialect, "host": target.host, "port": target.port,
                  "conns": s, "open_concurrency": per_proc_open, **plan.generator}
                 for s in slices])
    try:
        return await _window(opts, target, plan, gens, sampler, rss_idle, n_procs, why,
                             setup_s, console)
    finally:
        gens.close()


async def _window(opts: Options, target: Target, plan: scenarios.Plan, gens: Gens,
                  sampler: Sampler, rss_idle: dict[int, int], n_procs: int, why: str,
                  setup_s: float, console: Console) -> dict[str, Any]:
    n_conns = len(plan.conns)
    t_open = time.monotonic()
    with _bar(console, opts.quiet) as bar:
        task = bar.add_task("connecting", total=n_conns)
        progress: dict[int, int] = {}

        def on_progress(msg: Any) -> None:
            if msg[0] == "progress":
                progress[msg[1]["pid"]] = msg[1]["open"]
                bar.update(task, completed=sum(progress.values()))

        ready = await gens.recv_all("ready", 600, on_progress)
        bar.update(task, completed=sum(r["open"] for r in ready))
    open_s = time.monotonic() - t_open
    opened = sum(r["open"] for r in ready)
    failed = sum(r["failed"] for r in ready)
    console.log(f"{opened:,} connections open in {open_s:.1f} s" +
                (f", {failed:,} failed" if failed else ""))
    await asyncio.sleep(opts.settle_s)
    rss_conn = sampler.rss()
    per_conn_kb = ((sum(rss_conn.values()) - sum(rss_idle.values())) / max(1, opened) / 1024)

    gens.send("start")
    await gens.recv_all("started", 60)  # every generator counts before the first change
    sampler.start()
    spies = _profile(opts, target) if opts.profile else []
    cpu0 = _self_cpu()
    t0 = time.monotonic()
    with _bar(console, opts.quiet) as bar:
        task = bar.add_task(f"{opts.scenario} ({opts.duration:g} s)", total=1.0)
        await plan.drive(opts.duration, lambda f: bar.update(task, completed=f))
    drive_s = time.monotonic() - t0
    gens.send("pause")  # devices stop sending fixes: what is in flight can now drain
    for spy in spies:
        spy.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
    for spy in spies:
        await asyncio.to_thread(spy.wait, 60)
    await _drain(gens, plan, opts.drain_max_s)
    server_rows = sampler.stop()
    driver_cpu = 100 * (_self_cpu() - cpu0) / max(1e-9, time.monotonic() - t0)
    gens.send("stop")
    results = await gens.recv_all("result", 120)
    return summarize(opts, target, plan, results, server_rows, ready, per_conn_kb,
                     drive_s, n_procs, why, driver_cpu, setup_s, open_s)


async def _rush(opts: Options, target: Target, api: Any, console: Console) -> dict[str, Any]:
    """The booking rush: HTTP attempts first, then the winners' phones (loadtest.rush)."""
    from loadtest import rush
    if not isinstance(api, SwitchboardAPI):
        raise NeedsError("rush runs against Switchboard only (the peers have no bookings)")
    p = opts.params
    attempts, slots = int(p["attempts"]), int(p["slots"])
    concurrency = int(p.get("concurrency") or 64)
    t_setup = time.monotonic()
    day, ids = await rush.prepare(api, slots)
    setup_s = time.monotonic() - t_setup
    console.log(f"rush: {attempts:,} attempts on {slots:,} one-place slots through "
                f"{concurrency} connections")
    sampler = Sampler(target.processes())
    sampler.start()
    cpu0 = _self_cpu()
    t0 = time.monotonic()
    with _bar(console, opts.quiet) as bar:
        task = bar.add_task(f"rush ({attempts:,} attempts)", total=1.0)
        codes, hist, booked, secs = await rush.attempt_all(
            target, api, ids, attempts, concurrency, lambda f: bar.update(task, completed=f))
    server_rows = sampler.stop()
    driver_cpu = 100 * (_self_cpu() - cpu0) / max(1e-9, time.monotonic() - t0)
    taken, capacity, over = await rush.inventory(api, day)
    conns = [(f"booking:{b['id']}", b["token"]) for b in booked]
    ready: list[Any] = []
    if conns:
        n_procs, _ = generator_procs(opts, len(conns), 0)
        gens = Gens([{"dialect": "switchboard", "host": target.host, "port": target.port,
                      "conns": s, "open_concurrency": 100}
                     for s in generator.split(conns, n_procs)])
        try:
            ready = await gens.recv_all("ready", 600)
        finally:
            gens.close()
    confirmed = sum(r["statuses"].get("confirmed", 0) for r in ready)
    n = sum(codes.values())
    refused = {k: v for k, v in codes.items() if k != "booked"}
    unexpected = sum(v for k, v in refused.items()
                     if k not in ("slot_full", "channel_quota", "too_many_bookings",
                                  "conflict"))
    error_samples = {f"winner: {k}": v for r in ready for k, v in r["errors"].items()}
    error_samples.update({f"attempt: {k}": v for k, v in refused.items()
                          if k not in ("slot_full", "channel_quota", "too_many_bookings",
                                       "conflict")})
    booked_n = codes.get("booked", 0)
    return {
        "scenario": "rush", "target": target.name, "workers": opts.workers,
        "params": {"attempts": attempts, "slots": slots, "concurrency": concurrency},
        "latency_of": "booking request round trip (sent → answered)",
        "connections": concurrency + sum(r["open"] for r in ready),
        "connections_wanted": concurrency + len(conns),
        "p50_ms": percentile(hist, n, 0.50), "p95_ms": percentile(hist, n, 0.95),
        "p99_ms": percentile(hist, n, 0.99), "max_ms": float(max(hist)) if hist else None,
        "delivered": n, "delivered_per_s": round(n / max(1e-9, secs), 1),
        "booked": booked_n, "places": capacity, "taken_in_inventory": taken,
        "refused": refused,
        # Lost: a booking answered but not in the inventory (or the other way round), a
        # slot over its place, or a winner whose phone does not see the booking confirmed.
        "lost": abs(booked_n - taken) + over + (len(conns) - confirmed),
        "expected_counted": booked_n, "merged": 0, "unordered": 0, "resyncs": 0,
        "reconnects": 0, "errors": unexpected + sum(r["failed"] for r in ready),
        "error_samples": error_samples,
        "server_rss_mb": round(sum(r["rss_mb"] for r in server_rows), 1),
        "server_cpu_pct": round(sum(r["cpu_pct"] for r in server_rows), 1),
        "server_hub_cpu_pct": round(sum(r["cpu_pct"] for r in server_rows
                                        if r["role"] in ("server", "supervisor", "worker")), 1),
        "server_processes": server_rows, "rss_per_conn_kb": None,
        "generator_procs": 1, "generator_procs_why": "the rush is driven from one process",
        "generator_cpu_pct": [round(driver_cpu, 1)], "generator_max_lag_ms": [],
        "generator_saturated": driver_cpu > SATURATED_CPU_PCT,
        "driver_cpu_pct": round(driver_cpu, 1), "driver": {},
        "duration_s": round(secs, 2), "setup_s": round(setup_s, 1), "open_s": 0.0,
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
        "versions": target.versions(),
    }


def _profile(opts: Options, target: Target) -> list[subprocess.Popen[bytes]]:
    """py-spy on every Python server process for the window (collapsed stacks)."""
    exe = shutil.which("py-spy")
    if exe is None or opts.profile is None:
        raise NeedsError("--profile needs py-spy (pip install py-spy)")
    out = Path(opts.profile)
    out.mkdir(parents=True, exist_ok=True)
    spies = []
    for role, p in target.processes():
        if role == "redis" or "python" not in p.name():
            continue
        if role == "supervisor":
            continue
        path = out / f"{opts.scenario}-{target.name}-{role}-{p.pid}.txt"
        spies.append(subprocess.Popen([exe, "record", "--pid", str(p.pid), "--rate", "250",
                                       "--format", "raw", "--nonblocking", "-o", str(path)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return spies


async def _drain(gens: Gens, plan: scenarios.Plan, max_s: float) -> None:
    """Wait until deliveries stop growing (the last messages are in) or ``max_s``."""
    deadline = time.monotonic() + max_s
    last, still = -1, 0
    while time.monotonic() < deadline:
        gens.send("stat")
        stats = await gens.recv_all("stat", 60)
        n = sum(s["delivered"] for s in stats)
        if n == last:
            still += 1
            if still >= 3:
                return
        else:
            still = 0
        last = n
        await asyncio.sleep(0.5)


@contextlib.contextmanager
def _bar(console: Console, quiet: bool) -> Any:
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True, disable=quiet) as bar:
        yield bar


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def percentile(hist: dict[int, int], total: int, q: float) -> float | None:
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for ms in sorted(hist):
        seen += hist[ms]
        if seen >= rank:
            return float(ms)
    return float(max(hist))


def summarize(opts: Options, target: Target, plan: scenarios.Plan, results: list[Any],
              server_rows: list[dict[str, Any]], ready: list[Any], per_conn_kb: float,
              drive_s: float, n_procs: int, why: str, driver_cpu: float, setup_s: float,
              open_s: float) -> dict[str, Any]:
    hist: dict[int, int] = {}
    for r in results:
        for k, v in r["hist"].items():
            hist[int(k)] = hist.get(int(k), 0) + v
    delivered = sum(r["delivered"] for r in results)
    expected = plan.expected()
    merges = target.dialect == "switchboard"
    lost = merged = unordered = 0
    want = 0
    for r in results:
        for topic, (n, got, gaps, unord, _open) in r["per_topic"].items():
            e = expected.get(topic, 0) * n
            want += e
            unordered += unord
            # A ticket's place is state: a client that fell behind gets the newest place
            # (latest wins), so skipped places are merged, not lost. Events are never merged.
            if merges and topic.startswith("ticket:"):
                merged += gaps
                lost += max(0, e - got - gaps)
            else:
                lost += max(0, e - got)
    # Devices: a technician whose last fix never came back on its own topic lost it.
    lost += sum(r.get("stale_positions", 0) for r in results)
    errors = sum(r["errors"] for r in results)
    error_samples: dict[str, int] = {}
    for samples in [r["error_samples"] for r in results] + [r["errors"] for r in ready]:
        for k, v in samples.items():
            error_samples[k] = error_samples.get(k, 0) + v
    driver = plan.driver.stats.summary() if plan.driver is not None else {}
    gen_cpu = [r["cpu_pct"] for r in results]
    gen_lag = [r["max_lag_ms"] for r in results]
    saturated = any(c > SATURATED_CPU_PCT for c in gen_cpu) or \
        any(lag > SATURATED_LAG_MS for lag in gen_lag)
    conns = sum(r["open"] for r in results)
    hubs = [r for r in server_rows if r["role"] in ("server", "supervisor", "worker")]
    return {
        "scenario": opts.scenario, "target": opts.target,
        "workers": 1 if opts.target == "bare" else opts.workers,
        "params": plan.params, "connections": conns,
        "connections_wanted": len(plan.conns),
        "p50_ms": percentile(hist, delivered, 0.50), "p95_ms": percentile(hist, delivered, 0.95),
        "p99_ms": percentile(hist, delivered, 0.99),
        "max_ms": float(max(hist)) if hist else None,
        "delivered": delivered, "delivered_per_s": round(delivered / max(1e-9, drive_s), 1),
        "expected_counted": want, "lost": lost, "merged": merged, "unordered": unordered,
        "fixes_sent": sum(r.get("fixes_sent", 0) for r in results),
        "resyncs": sum(r["resyncs"] for r in results),
        "reconnects": sum(r["reconnects"] for r in results),
        "errors": errors + driver.get("errors", 0) + sum(r["failed"] for r in ready),
        "error_samples": {**error_samples, **{f"driver {k}": v for k, v in
                                               driver.get("error_samples", {}).items()}},
        "server_rss_mb": round(sum(r["rss_mb"] for r in server_rows), 1),
        "server_cpu_pct": round(sum(r["cpu_pct"] for r in server_rows), 1),
        "server_hub_cpu_pct": round(sum(r["cpu_pct"] for r in hubs), 1),
        "server_processes": server_rows,
        "rss_per_conn_kb": round(per_conn_kb, 1),
        "server_cpu_pct_per_1k_conns": round(sum(r["cpu_pct"] for r in server_rows) /
                                             max(1, conns) * 1000, 2),
        "generator_procs": n_procs, "generator_procs_why": why,
        "generator_cpu_pct": gen_cpu, "generator_max_lag_ms": gen_lag,
        "generator_saturated": saturated, "driver_cpu_pct": round(driver_cpu, 1),
        "driver": driver, "duration_s": round(drive_s, 2), "setup_s": round(setup_s, 1),
        "open_s": round(open_s, 1),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(), "versions": target.versions(),
    }


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo"):  # noqa: SIM115
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpus": os.cpu_count(), "cpu": cpu, "kernel": platform.release(),
            "load_avg_1m": round(load[0], 2),
            "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0]}
