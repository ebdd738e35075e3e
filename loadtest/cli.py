"""``switchboard loadtest SCENARIO``: the load generator.

    switchboard loadtest boards --screens 2000 --calls-per-s 10 --duration 30
    switchboard loadtest trackers --trackers 10000 --calls-per-s 10 --duration 30
    switchboard loadtest devices --devices 500 --hz 1 --duration 30
    switchboard loadtest rush --attempts 5000 --slots 200
    switchboard loadtest mixed --duration 60
    switchboard loadtest compare --out reports/loadtest     # the side-by-side report
    switchboard loadtest queue ...                          # queue ops/s (queue_bench)

Common options: ``--target`` (switchboard, bare, python-socketio, node-socketio),
``--workers`` (server processes), ``--url``/``--secret`` (a running Switchboard instead
of one started on loopback), ``--procs`` (generator processes; sized automatically),
``--json FILE``. Every run stops by itself at its duration and count limits.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from queueing.argtypes import number, whole

SCENARIOS = ("boards", "trackers", "devices", "rush", "mixed")
MAX_DURATION_S = 600.0


def _common(p: argparse.ArgumentParser, duration: bool = True) -> None:
    from loadtest.servers import TARGETS
    p.add_argument("--target", choices=TARGETS, default="switchboard",
                   help="server under test (default switchboard)")
    p.add_argument("--workers", type=whole(1), default=2,
                   help="server processes for switchboard and the socket.io peers (default 2)")
    p.add_argument("--url", help="a running Switchboard (http://127.0.0.1:PORT) instead of "
                                 "starting one")
    p.add_argument("--secret", help="with --url: the server's token secret")
    p.add_argument("--procs", type=whole(0), default=0,
                   help="generator processes (default: sized from connections and rate)")
    if duration:
        p.add_argument("--duration", type=number(0), default=30.0, help="seconds (default 30)")
    p.add_argument("--json", help="write the results to this file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--profile", metavar="DIR",
                   help="record each server process with py-spy during the run (into DIR)")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="switchboard loadtest", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="scenario", required=True)
    p = sub.add_parser("boards", help="N screens on one board while counters call")
    p.add_argument("--screens", type=whole(1), required=True)
    p.add_argument("--calls-per-s", type=number(0), required=True)
    p.add_argument("--counters", type=whole(0), default=0,
                   help="counters calling (default: one per call, at most 500)")
    _common(p)
    p = sub.add_parser("trackers", help="M ticket holders, each on its own ticket")
    p.add_argument("--trackers", type=whole(1), required=True)
    p.add_argument("--calls-per-s", type=number(0), required=True)
    p.add_argument("--services", type=whole(1), default=10,
                   help="queues the holders are spread over (default 10); each call "
                        "moves trackers/services tickets")
    p.add_argument("--counters", type=whole(0), default=0,
                   help="counters calling (default 2 per service)")
    _common(p)
    p = sub.add_parser("devices", help="K technicians sending GPS fixes over msgpack")
    p.add_argument("--devices", type=whole(1), required=True)
    p.add_argument("--hz", type=number(0), required=True)
    p.add_argument("--jobs-per-s", type=number(0, above=False), default=0.0,
                   help="jobs created per second (default devices/120, at least 0.2)")
    _common(p)
    p = sub.add_parser("rush", help="a booking rush: N attempts on K slots")
    p.add_argument("--attempts", type=whole(1), required=True)
    p.add_argument("--slots", type=whole(1), required=True)
    p.add_argument("--concurrency", type=whole(1), default=64,
                   help="HTTP connections attempting at once (default 64)")
    _common(p, duration=False)
    p = sub.add_parser("mixed", help="a clinic-plus-city mix")
    p.add_argument("--clinics", type=whole(1), default=8)
    p.add_argument("--scale", type=number(0), default=1.0, help="multiplies the phones")
    _common(p)
    p = sub.add_parser("compare", help="the side-by-side report (all targets, a sweep)")
    from loadtest.report import add_arguments
    add_arguments(p)
    sub.add_parser("queue", help="queue operations per second (loadtest.queue_bench)",
                   add_help=False)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["queue"]:
        from loadtest.queue_bench import main as queue_main
        return queue_main(argv[1:])
    args = parser().parse_args(argv)
    if args.scenario == "compare":
        from loadtest.report import compare
        return compare(args)
    return run_scenario(args)


def params_of(args: argparse.Namespace) -> dict[str, Any]:
    keys = {"boards": ("screens", "calls_per_s", "counters"),
            "trackers": ("trackers", "calls_per_s", "services", "counters"),
            "devices": ("devices", "hz", "jobs_per_s"),
            "rush": ("attempts", "slots", "concurrency"),
            "mixed": ("clinics", "scale")}[args.scenario]
    return {k: getattr(args, k) for k in keys}


def run_scenario(args: argparse.Namespace) -> int:
    from rich.console import Console

    from loadtest.run import Options, run
    from loadtest.servers import NeedsError
    console = Console(stderr=True, quiet=args.quiet)
    duration = getattr(args, "duration", 30.0)
    if not 0 < duration <= MAX_DURATION_S:
        console.print(f"--duration must be in (0, {MAX_DURATION_S:g}] seconds")
        return 2
    opts = Options(args.scenario, target=args.target, workers=args.workers, url=args.url,
                   secret=args.secret, procs=args.procs, duration=duration,
                   quiet=args.quiet, profile=args.profile, params=params_of(args))
    try:
        result = run(opts, console)
    except NeedsError as exc:
        # Said even with --quiet: a scenario that cannot run must say what it needs.
        print(f"switchboard loadtest {args.scenario}: {exc}", file=sys.stderr)
        return 3
    print_result(result, console)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    print(json.dumps({k: result[k] for k in SUMMARY_KEYS}))
    if not result.get("expected_counted"):
        # Nothing was sent that could be measured (every driver call refused, say): a
        # latency table of nothing must not pass for a result.
        print(f"switchboard loadtest {args.scenario}: nothing was measured "
              f"(errors: {result.get('error_samples') or result.get('errors')})", file=sys.stderr)
        return 4
    return 0


SUMMARY_KEYS = ("scenario", "target", "connections", "p50_ms", "p95_ms", "p99_ms", "max_ms",
                "delivered_per_s", "lost", "resyncs", "errors", "server_rss_mb",
                "server_cpu_pct")


def print_result(r: dict[str, Any], console: Any) -> None:
    from rich.table import Table
    t = Table(title=f"{r['scenario']} on {r['target']} — {r['params']}", show_header=False)

    def ms(v: float | None) -> str:
        return "—" if v is None else f"{v:,.0f} ms"

    rows = [
        ("connections held", f"{r['connections']:,} of {r['connections_wanted']:,}"),
        ("latency p50 / p95 / p99 / max",
         " / ".join(ms(r[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))),
        ("delivered", f"{r['delivered']:,} messages, {r['delivered_per_s']:,.0f}/s over "
                      f"{r['duration_s']:g} s"),
        *([("latency of", r["latency_of"])] if r.get("latency_of") else []),
        *([("booked", f"{r['booked']:,} of {r['places']:,} places; refused {r['refused']}")]
          if "booked" in r else []),
        ("lost (from offsets)", f"{r['lost']:,} of {r['expected_counted']:,} counted"
                                + (f"; {r['merged']:,} state updates merged" if r["merged"]
                                   else "")),
        ("out of order", f"{r['unordered']:,}"),
        ("resyncs / reconnects", f"{r['resyncs']:,} / {r['reconnects']:,}"),
        ("errors", f"{r['errors']:,}" + (f" {dict(list(r['error_samples'].items())[:3])}"
                                         if r["errors"] else "")),
        ("server CPU", f"{r['server_cpu_pct']:.0f} % (100 % = one core)"),
        ("server RSS", f"{r['server_rss_mb']:,.0f} MB" + (
            f"; {r['rss_per_conn_kb']:.1f} KB per connection"
            if r.get("rss_per_conn_kb") is not None else "")),
        ("server processes", ", ".join(f"{p['role']} {p['cpu_pct']:.0f}% "
                                       f"{p['rss_mb']:.0f}MB" for p in r["server_processes"])),
        ("generator", f"{r['generator_procs']} process(es) ({r['generator_procs_why']}); "
                      f"CPU {r['generator_cpu_pct']} %; max loop lag "
                      f"{r['generator_max_lag_ms']} ms; driver {r['driver_cpu_pct']:.0f} %"),
    ]
    for k, v in rows:
        t.add_row(k, v)
    console.print(t)
    if r["generator_saturated"]:
        console.print("[yellow]the generator was saturated: latencies include its own "
                      "queueing; run with more --procs or fewer connections[/]")
