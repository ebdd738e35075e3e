"""A soak test: does a server stay healthy over a long day?

    python -m loadtest.soak --duration 2100 --sample-every 15 --out /tmp/hC/soak

Starts ``switchboard serve`` (one process) on 127.0.0.1 with its own ``redis-server`` and an
arq ``worker`` (or attaches to a running server: ``--url``, ``--secret``, ``--redis-url``),
drives a bounded mixed load for ``--duration`` seconds (loadtest/soak_load.py: tickets at a
few sites, boards, consoles and phones that come and go, GPS from devices, bad input,
revocations), and every ``--sample-every`` seconds samples each server process's RSS,
descriptors and threads, the server's ``/metrics`` (including the hub's table sizes) and
Redis (memory, keys, the longest stream/zset/hash of every key pattern). After the load, it
samples a quiet ``--cooldown`` to see that what clients left behind is gone.

Writes ``soak.json`` (every sample, the growth table, the driver's tallies) and ``soak.png``
into ``--out``; prints growth per hour after ``--warmup`` for every metric with a verdict
(loadtest/soak_stats.py). Exit 0; with ``--fail-on-growth``, 5 if anything still grows
that does not expire. Loopback only; every loop stops at the duration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from queueing.argtypes import number, whole

MAX_DURATION_S = 4 * 3600.0
# Shown first in the printed table (the rest follow when they grow).
HEADLINE = ("server_rss_mb", "server_fds", "server_threads", "metrics_rss_mb",
            "hub_asyncio_tasks", "hub_connections", "hub_subscribers", "hub_topic_state",
            "hub_tracked_tickets", "hub_view_tickets", "hub_estimates_sent", "hub_token_cache",
            "hub_python_blocks", "redis_rss_mb",
            "redis_fds", "worker_rss_mb", "worker_fds", "redis_used_mb", "redis_keys",
            "redis_keys_persistent", "redis_keys_with_ttl", "revoked_tokens")
HUB_LEFTOVERS = ("hub_connections", "hub_subscribers", "hub_topics", "hub_topic_state",
                 "hub_tracked_tickets", "metrics_connections", "metrics_subscriptions")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m loadtest.soak", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=number(0), default=120.0,
                    help=f"seconds of load (default 120, at most {MAX_DURATION_S:g})")
    ap.add_argument("--sample-every", type=number(0), default=15.0, help="seconds (15)")
    ap.add_argument("--warmup", type=number(0, above=False), default=None,
                    help="seconds left out of the slopes (default a third, at most 900)")
    ap.add_argument("--cooldown", type=number(0, above=False), default=40.0,
                    help="quiet seconds sampled after the load (default 40)")
    ap.add_argument("--out", default=None, help="folder for soak.json and soak.png "
                                                "(default /tmp/hC/soak-TIME)")
    ap.add_argument("--port", type=whole(1), default=18200, help="server port (18200)")
    ap.add_argument("--url", help="a running Switchboard instead of starting one")
    ap.add_argument("--secret", help="with --url: its SWITCHBOARD_SECRET")
    ap.add_argument("--redis-url", help="with --url: its Redis, to sample")
    ap.add_argument("--sites", type=whole(1), default=3)
    ap.add_argument("--arrivals-per-s", type=number(0), default=0.3, help="per site (0.3)")
    ap.add_argument("--boards", type=whole(0), default=8, help="per site (8)")
    ap.add_argument("--counters", type=whole(1), default=6,
                    help="per site (6); each serves about one ticket every 10 s")
    ap.add_argument("--headless", type=whole(0), default=1,
                    help="sites more with tickets and counters but no websocket client (1)")
    ap.add_argument("--booking-sites", type=whole(0), default=1,
                    help="sites more that only take appointments online (1)")
    ap.add_argument("--bookings-per-s", type=number(0), default=0.1,
                    help="per booking site (0.1)")
    ap.add_argument("--devices", type=whole(0), default=10, help="GPS devices (10; 0: none)")
    ap.add_argument("--max-phones", type=whole(0), default=200)
    ap.add_argument("--day-s", type=number(0), default=900.0,
                    help="each site's day is closed this often (900)")
    ap.add_argument("--no-worker", action="store_true", help="do not start the arq worker")
    ap.add_argument("--fail-on-growth", action="store_true")
    ap.add_argument("--tracemalloc", type=whole(1), default=None, metavar="FRAMES",
                    help="start the server with SWITCHBOARD_TRACEMALLOC=FRAMES (slower) and "
                         "take memory snapshots at --snapshot-at; the first and the last are "
                         "compared into memory.txt (loadtest/soak_memory.py)")
    ap.add_argument("--snapshot-at", default="",
                    help="with --tracemalloc: seconds into the load, comma-separated "
                         "(default: the end of the warm-up and just before the end)")
    ap.add_argument("--quiet", action="store_true", help="no progress display")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not 0 < args.duration <= MAX_DURATION_S:
        print(f"--duration must be in (0, {MAX_DURATION_S:g}]", file=sys.stderr)
        return 2
    if args.url and not args.secret:
        print("--url needs --secret", file=sys.stderr)
        return 2
    out = Path(args.out or f"/tmp/hC/soak-{datetime.now(UTC):%Y%m%d-%H%M%S}")
    out.mkdir(parents=True, exist_ok=True)
    warmup = args.warmup if args.warmup is not None else min(900.0, args.duration / 3)
    args.out = str(out)
    from rich.console import Console

    from loadtest.servers import Target
    console = Console(stderr=True, quiet=args.quiet)
    env = {"SWITCHBOARD_KIOSK_RATE_PER_MIN": "60"}
    if args.tracemalloc:
        env.update({"SWITCHBOARD_TRACEMALLOC": str(args.tracemalloc),
                    "SWITCHBOARD_TRACEMALLOC_DIR": str(out / "memory")})
        args.snapshot_at = _snapshot_times(args.snapshot_at, warmup, args.duration)
    target = Target("switchboard", workers=1, url=args.url, port=args.port,
                    tmp_root=str(out), env=env)
    if args.secret:
        target.secret = args.secret
    previous = signal.signal(signal.SIGTERM, _terminated)
    started = datetime.now(UTC)
    try:
        console.log(f"starting switchboard on 127.0.0.1:{args.port}" if not args.url
                    else f"attaching to {args.url}")
        target.start()
        if args.devices and not args.no_worker:
            target.start_worker()
        result = _run_loop(_soak(args, target, console, warmup))
    finally:
        _keep_logs(target, out)
        target.stop()
        signal.signal(signal.SIGTERM, previous)
    result.update(_about(args, started, warmup, target))
    if args.tracemalloc:
        result["memory"] = _memory_report(out / "memory")
    (out / "soak.json").write_text(json.dumps(result, indent=1))
    plot = _plot(result, out / "soak.png")
    print_report(result, console)
    growing = [r["metric"] for r in result["growth"] if r["verdict"] == "grows"]
    print(json.dumps({"out": str(out), "samples": len(result["samples"]), "plot": plot,
                      "grows": growing, "leftovers": result["leftovers"]}))
    return 5 if args.fail_on_growth and growing else 0


def _snapshot_times(given: str, warmup: float, duration: float) -> list[float]:
    if given:
        return sorted(float(x) for x in given.split(",") if x.strip())
    return [warmup, max(warmup, duration - 30)]


def _memory_report(folder: Path) -> str | None:
    from loadtest.soak_memory import compare, snapshots
    found = snapshots(folder) if folder.exists() else []
    if len(found) < 2:
        return None
    text = compare(found[0], found[-1])
    (folder.parent / "memory.txt").write_text(text + "\n")
    return text


def _terminated(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # unwind: servers and Redis are stopped in ``finally``


def _run_loop(coro: Any) -> Any:
    try:
        import uvloop
        return uvloop.run(coro)
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)


async def _soak(args: argparse.Namespace, target: Any, console: Any,
                warmup: float) -> dict[str, Any]:
    from redis.asyncio import Redis

    from loadtest.backends import SwitchboardAPI
    from loadtest.soak_load import Load, Shape
    from loadtest.soak_probe import processes_of
    api = SwitchboardAPI(target.base, target.secret)
    redis: Redis | None = None
    if target.redis is not None:
        redis = Redis(unix_socket_path=str(target.redis.socket))
    elif args.redis_url:
        redis = Redis.from_url(args.redis_url)
    shape = Shape(sites=args.sites, arrivals_per_s=args.arrivals_per_s, boards=args.boards,
                  counters=args.counters, headless=args.headless,
                  booking_sites=args.booking_sites,
                  bookings_per_s=args.bookings_per_s,
                  devices=args.devices, max_phones=args.max_phones, day_s=args.day_s)
    load = Load(api, target.port, shape, time.monotonic() + args.duration)
    pids = processes_of(target)
    expiring: set[str] = set()
    try:
        await load.prepare()
        load.deadline = time.monotonic() + args.duration
        t0 = time.monotonic()
        samples: list[dict[str, Any]] = []
        sampler = asyncio.create_task(_sampling(samples, t0, args, pids, api, redis,
                                                expiring, load, console))
        await load.run()
        load_s = time.monotonic() - t0
        cooldown_until = time.monotonic() + args.cooldown
        quiet: list[dict[str, Any]] = []
        sampler.cancel()
        while time.monotonic() < cooldown_until:
            await asyncio.sleep(min(args.sample_every, max(0.0, cooldown_until
                                                           - time.monotonic())))
            quiet.append(await _one(time.monotonic() - t0, pids, api, redis, expiring, load))
    finally:
        await api.close()
        if redis is not None:
            await redis.aclose()
    from loadtest.soak_stats import report
    last = quiet[-1]["values"] if quiet else {}
    return {"samples": samples, "cooldown_samples": quiet, "load_s": round(load_s, 1),
            "growth": report(samples, warmup, expiring),
            "leftovers": {k: last[k] for k in HUB_LEFTOVERS if k in last},
            "tally": dict(sorted(load.tally.items())), "expiring": sorted(expiring)}


async def _one(t: float, pids: dict[str, int], api: Any, redis: Any, expiring: set[str],
               load: Any) -> dict[str, Any]:
    from loadtest.soak_probe import sample
    extra: dict[str, float] = {f"driver_open_{k}": float(v) for k, v in load.open_ws.items()}
    extra["driver_phones"] = float(load.phones)
    try:
        r = await api.http.get("/v1/revocations",
                               headers={"Authorization": f"Bearer {load.admin()}"})
        extra["revoked_tokens"] = float(len(r.json().get("tokens", [])))
    except Exception:  # a sample with one value fewer
        pass
    return await sample(t, pids, api.http, redis, expiring, extra)


async def _sampling(samples: list[dict[str, Any]], t0: float, args: argparse.Namespace,
                    pids: dict[str, int], api: Any, redis: Any, expiring: set[str],
                    load: Any, console: Any) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    with Progress(TextColumn("soak"), BarColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=console,
                  disable=args.quiet) as bar:
        task = bar.add_task("", total=args.duration)
        due = time.monotonic()
        snapshot_at = list(args.snapshot_at) if args.tracemalloc else []
        while True:
            if snapshot_at and time.monotonic() - t0 >= snapshot_at[0]:
                snapshot_at.pop(0)
                with contextlib.suppress(OSError, KeyError):
                    os.kill(pids["server"], signal.SIGUSR2)  # realtime.cli.memory_diagnostics
            try:
                s = await _one(time.monotonic() - t0, pids, api, redis, expiring, load)
            except Exception as exc:  # one failed sample must not end the sampling
                load.tally[f"sample_error {type(exc).__name__}"] += 1
                due += args.sample_every
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                continue
            samples.append(s)
            _append(Path(args.out) / "samples.jsonl", s)  # a run cut short keeps them
            v = s["values"]
            bar.update(task, completed=min(args.duration, s["t"]), description=(
                f"RSS {v.get('server_rss_mb', 0):.0f} MB, fds {v.get('server_fds', 0):.0f}, "
                f"ws {v.get('hub_connections', 0):.0f}, keys {v.get('redis_keys', 0):.0f}, "
                f"redis {v.get('redis_used_mb', 0):.1f} MB"))
            due += args.sample_every
            await asyncio.sleep(max(0.0, due - time.monotonic()))


def _append(path: Path, sample: dict[str, Any]) -> None:
    with path.open("a") as f:
        f.write(json.dumps(sample) + "\n")


def _keep_logs(target: Any, out: Path) -> None:
    tmp = getattr(target, "_tmp", None)
    if tmp is None:
        return
    for name in ("server.log", "worker.log"):
        src = Path(tmp.name) / name
        if src.exists():
            shutil.copy(src, out / name)


def _about(args: argparse.Namespace, started: datetime, warmup: float,
           target: Any) -> dict[str, Any]:
    from loadtest.servers import versions
    from realtime.redisproc import _version, find_binary
    about: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "ended": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m loadtest.soak " + " ".join(sys.argv[1:]),
        "params": {k: v for k, v in vars(args).items() if k != "secret"},
        "warmup_s": warmup, "versions": versions("switchboard"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip()}
    try:
        exe = find_binary(None)
        about["versions"]["redis-server"] = ".".join(map(str, _version(exe)))
    except Exception:  # attached to a Redis we did not start
        pass
    return about


def print_report(r: dict[str, Any], console: Any) -> None:
    from rich.table import Table
    t = Table(title=f"soak: {r['load_s']:g} s of load, {len(r['samples'])} samples, "
                    f"slopes after {r['warmup_s']:g} s")
    for col in ("metric", "start", "end", "per hour", "verdict"):
        t.add_column(col, justify="left" if col in ("metric", "verdict") else "right")
    rows = {row["metric"]: row for row in r["growth"]}
    shown = [rows[m] for m in HEADLINE if m in rows]
    shown += [row for row in r["growth"] if row not in shown
              and row["verdict"] in ("grows", "grows, expires", "levels off")]
    for row in shown:
        if row.get("samples", 0) == 0:
            continue
        t.add_row(row["metric"], f"{row['start']:,.1f}", f"{row['end']:,.1f}",
                  f"{row['per_hour']:+,.2f}", row["verdict"])
    console.print(t)
    console.print(f"left after every client went: {r['leftovers']}")
    errors = {k: v for k, v in r["tally"].items() if "driver_error" in k or " 5" in k[-4:]}
    if errors:
        console.print(f"[yellow]driver errors / 5xx: {errors}[/]")


def _plot(r: dict[str, Any], path: Path) -> str | None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    from loadtest.soak_stats import series_of
    series = series_of(r["samples"] + r["cooldown_samples"])
    panels = [("memory (MB)", ["server_rss_mb", "worker_rss_mb", "redis_rss_mb",
                               "redis_used_mb"]),
              ("open descriptors", ["server_fds", "worker_fds", "redis_fds"]),
              ("hub tables", ["hub_connections", "hub_subscribers", "hub_topic_state",
                              "hub_tracked_tickets", "hub_asyncio_tasks",
                              "hub_estimates_sent", "hub_token_cache"]),
              ("server's Python allocated blocks", ["hub_python_blocks"]),
              ("Redis keys", ["redis_keys", "redis_keys_persistent", "redis_keys_with_ttl"]),
              ("event streams (entries)", [n for n in series if n.endswith(":events:len")])]
    fig, axes = plt.subplots(2, 3, figsize=(15, 8))
    for ax, (title, names) in zip(axes.flat, panels, strict=True):
        for name in names:
            pts = series.get(name)
            if pts:
                ax.plot([t / 60 for t, _ in pts], [v for _, v in pts], label=name, lw=1.2)
        ax.axvline(r["load_s"] / 60, color="grey", ls=":", lw=1)
        ax.axvline(r["warmup_s"] / 60, color="grey", ls="--", lw=0.8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("minutes")
        ax.legend(fontsize=7)
        ax.set_ylim(bottom=0)
    fig.suptitle(f"Switchboard soak, {r['started']} ({r['load_s'] / 60:.0f} min of load; "
                 "dashed: end of warm-up, dotted: end of load)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return str(path)


if __name__ == "__main__":
    raise SystemExit(main())
