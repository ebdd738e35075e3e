"""``switchboard loadtest compare``: the same scenarios against every server, side by side.

    switchboard loadtest compare --out reports/loadtest            # the full sweep
    switchboard loadtest compare --out reports/loadtest --render   # tables and plots again

Sweeps (each point is one ``switchboard loadtest`` run, its own server started fresh):

- ``boards``: N screens on one room at 10 messages/s each (``--screens``), and 5,000
  screens at 1 call/s;
- ``trackers``: 10,000 ticket holders each on its own room (``--trackers``), at
  ``--update-rates`` position updates per second in all (R calls/s × holders/services);
- ``hold``: ``--hold`` connections held idle on Switchboard (memory per connection, and
  the 20,000 goal: spread over ``--workers`` hub processes and generator processes).

Writes ``results.json`` after every run (an interrupted sweep keeps what it measured),
then ``report.md`` (a table per scenario with each server's ratio to Switchboard, and the
goals met or missed) and PNG plots: latency percentiles and delivered messages/s against N.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from loadtest.servers import TARGETS
from queueing.argtypes import number, whole

LABEL = {"switchboard": "Switchboard", "bare": "bare websockets (ceiling)",
         "python-socketio": "python-socketio + Redis", "node-socketio": "Node socket.io + Redis"}
P99_OK_MS = 100.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="reports/loadtest", help="report folder")
    p.add_argument("--targets", default=",".join(TARGETS),
                   help="servers to compare (default: all four)")
    p.add_argument("--screens", default="1000,2000,5000",
                   help="boards sweep: screens at 10 messages/s each")
    p.add_argument("--trackers", type=whole(1), default=10_000)
    p.add_argument("--update-rates", default="2000,5000,10000",
                   help="trackers sweep: position updates per second in all")
    p.add_argument("--hold", type=whole(0), default=20_000,
                   help="idle connections held on Switchboard (0: skip)")
    p.add_argument("--duration", type=number(0), default=20.0, help="seconds per run")
    p.add_argument("--workers", type=whole(1), default=2)
    p.add_argument("--only", choices=["boards", "trackers", "hold"], action="append",
                   help="run only these sweeps (repeatable)")
    p.add_argument("--render", action="store_true",
                   help="no runs: render report.md and the plots from results.json")


def plan(args: argparse.Namespace) -> list[dict[str, Any]]:
    targets = [t for t in args.targets.split(",") if t]
    runs: list[dict[str, Any]] = []
    only = set(args.only or ["boards", "trackers", "hold"])
    if "boards" in only:
        for n in (int(x) for x in args.screens.split(",") if x):
            for t in targets:
                runs.append({"scenario": "boards", "target": t, "sweep": "boards@10/s",
                             "n": n, "params": {"screens": n, "calls_per_s": 10.0}})
        for t in targets:
            runs.append({"scenario": "boards", "target": t, "sweep": "boards@1/s", "n": 5000,
                         "params": {"screens": 5000, "calls_per_s": 1.0}})
    if "trackers" in only:
        services = 10
        for u in (int(x) for x in args.update_rates.split(",") if x):
            for t in targets:
                rate = u * services / args.trackers
                runs.append({"scenario": "trackers", "target": t, "sweep": "trackers",
                             "n": u, "params": {"trackers": args.trackers,
                                                "calls_per_s": rate, "services": services}})
    if "hold" in only and args.hold:
        runs.append({"scenario": "boards", "target": "switchboard", "sweep": "hold",
                     "n": args.hold, "params": {"screens": args.hold, "calls_per_s": 0.2}})
    return runs


def compare(args: argparse.Namespace) -> int:
    from rich.console import Console

    from loadtest.run import Options, run
    from loadtest.servers import NeedsError
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    store = out / "results.json"
    results: list[dict[str, Any]] = json.loads(store.read_text()) if store.exists() else []
    console = Console(stderr=True)
    if not args.render:
        todo = plan(args)
        for i, r in enumerate(todo):
            console.rule(f"[{i + 1}/{len(todo)}] {r['scenario']} {r['target']} {r['params']}")
            opts = Options(r["scenario"], target=r["target"], workers=args.workers,
                           duration=args.duration, params=dict(r["params"]))
            try:
                res = run(opts, console)
            except NeedsError as exc:
                console.print(f"skipped: {exc}")
                continue
            except Exception as exc:  # one server failing must not lose the others' runs
                console.print(f"[red]failed: {type(exc).__name__}: {exc}[/]")
                res = {"scenario": r["scenario"], "target": r["target"], "failed": str(exc)}
            res.update({"sweep": r["sweep"], "n": r["n"]})
            results = [x for x in results if not (x.get("sweep") == r["sweep"] and
                                                   x.get("n") == r["n"] and
                                                   x.get("target") == r["target"])]
            results.append(res)
            store.write_text(json.dumps(results, indent=1))
            time.sleep(2)  # let the sockets of the last run close
    (out / "report.md").write_text(render(results, out))
    console.print(f"report: {out / 'report.md'}")
    return 0


# -- rendering ---------------------------------------------------------------------------------

def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.0f}{unit}" if abs(v) >= 10 else f"{v:,.1f}{unit}"
    return f"{v:,}{unit}"


def _row(r: dict[str, Any], base: dict[str, Any] | None) -> str:
    if r.get("failed"):
        return f"| {LABEL.get(r['target'], r['target'])} | failed: {r['failed'][:80]} |" + \
            " |" * 11
    ratio = "—"
    if base is not None and base.get("delivered_per_s") and r is not base:
        ratio = f"{r['delivered_per_s'] / base['delivered_per_s']:.2f}×"
        if r.get("p99_ms") and base.get("p99_ms"):
            ratio += f" / p99 {r['p99_ms'] / max(1.0, base['p99_ms']):.1f}×"
    sat = " ⚠" if r.get("generator_saturated") else ""
    counted = r.get("expected_counted", 0) / max(1e-9, r.get("duration_s") or 1e-9)
    return (f"| {LABEL.get(r['target'], r['target'])} | {_fmt(r['connections'])} | "
            f"{_fmt(r['p50_ms'])} | {_fmt(r['p95_ms'])} | {_fmt(r['p99_ms'])} | "
            f"{_fmt(r['max_ms'])} | {_fmt(r['delivered_per_s'])}{sat} | "
            f"{_fmt(round(counted, 1))} | {_fmt(r['lost'])} | "
            f"{_fmt(r['errors'])} | {_fmt(r['server_cpu_pct'], ' %')} | "
            f"{_fmt(r['rss_per_conn_kb'], ' KB')} | {ratio} |")


HEADER = ("| server | conns | p50 ms | p95 ms | p99 ms | max ms | delivered/s | checked/s "
          "| lost | errors | server CPU | RSS/conn | vs Switchboard (msgs/s / p99) |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")


def best_ok(results: list[dict[str, Any]], sweep: str, target: str) -> float:
    """The most messages/s a server delivered in a sweep with p99 under 100 ms, nothing
    lost and no error."""
    ok = [r["delivered_per_s"] for r in results
          if r.get("sweep") == sweep and r.get("target") == target and not r.get("failed")
          and r.get("p99_ms") is not None and r["p99_ms"] < P99_OK_MS and r["lost"] == 0
          and r["errors"] == 0]
    return max(ok, default=0.0)


def render(results: list[dict[str, Any]], out: Path, plots: bool = True) -> str:
    lines: list[str] = []
    sweeps = [("boards@10/s", "Boards: N screens on one room, 10 messages/s each",
               "screens"),
              ("boards@1/s", "Boards: 5,000 screens, 1 call/s", "screens"),
              ("trackers", "Trackers: 10,000 holders, each on its own room", "updates/s"),
              ("hold", "Connections held (Switchboard)", "connections")]
    for sweep, title, unit in sweeps:
        rows = [r for r in results if r.get("sweep") == sweep]
        if not rows:
            continue
        lines.append(f"### {title}\n")
        for n in sorted({r["n"] for r in rows}):
            at = [r for r in rows if r["n"] == n]
            base = next((r for r in at if r["target"] == "switchboard" and
                         not r.get("failed")), None)
            lines.append(f"**{n:,} {unit}**\n\n{HEADER}")
            order = {t: i for i, t in enumerate(TARGETS)}
            for r in sorted(at, key=lambda x: order.get(x["target"], 9)):
                lines.append(_row(r, base))
            lines.append("")
        if sweep in ("boards@10/s", "trackers"):
            lines.append("Most messages/s delivered at p99 < 100 ms with nothing lost: " +
                         ", ".join(f"{LABEL[t]} {best_ok(results, sweep, t):,.0f}"
                                   for t in TARGETS if any(r["target"] == t for r in rows))
                         + "\n")
    made = plot(results, out) if plots else []
    if made:
        lines.append("### Plots\n")
        lines += [f"![{p.stem}]({p.name})" for p in made]
    lines.append("\ndelivered/s: every message received; checked/s: the changes the loss "
                 "check follows (calls on a board, place changes of a ticket), which every "
                 "server must deliver. Switchboard's trackers also get wait-estimate updates, "
                 "so it delivers more than it is checked for.\n\n⚠: the generator was "
                 "saturated in that run (its numbers include its own queueing).")
    return "\n".join(lines) + "\n"


def plot(results: list[dict[str, Any]], out: Path) -> list[Path]:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover
        return []
    made: list[Path] = []
    for sweep, xlabel in (("boards@10/s", "screens (10 messages/s each)"),
                          ("trackers", "position updates/s offered (10,000 holders)")):
        rows = [r for r in results if r.get("sweep") == sweep and not r.get("failed")]
        if not rows:
            continue
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
        for t in TARGETS:
            pts = sorted((r["n"], r) for r in rows if r["target"] == t)
            if not pts:
                continue
            xs = [n for n, _ in pts]
            line = ax1.plot(xs, [r["p99_ms"] or 0 for _, r in pts], marker="o",
                            label=f"{LABEL[t]} p99")[0]
            ax1.plot(xs, [r["p50_ms"] or 0 for _, r in pts], marker=".", linestyle="--",
                     color=line.get_color(), alpha=0.6, label=f"{LABEL[t]} p50")
            ax2.plot(xs, [r["delivered_per_s"] for _, r in pts], marker="o", label=LABEL[t])
        ax1.axhline(P99_OK_MS, color="grey", linewidth=0.8, linestyle=":")
        ax1.set_yscale("log")
        ax1.set_xlabel(xlabel)
        ax1.set_ylabel("delivery latency, ms (log)")
        ax1.set_title("latency p50 (dashed) and p99")
        ax1.legend(fontsize=7)
        ax2.set_xlabel(xlabel)
        ax2.set_ylabel("messages delivered per second")
        ax2.set_title("delivered messages/s")
        ax2.legend(fontsize=7)
        fig.tight_layout()
        path = out / f"{sweep.replace('@', '-').replace('/', '')}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path)
    return made
