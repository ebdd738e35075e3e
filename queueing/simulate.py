"""Simulate days of a site and score every wait predictor against what happened.

    python -m queueing.simulate --config queueing/scenarios/clinic.json [--seed N] \
        [--days N] [--json OUT]

Prints, per predictor, MAE, RMSE, bias (estimate - actual), P(actual > announced) and, for
predictors that give one, the share of realised waits inside the P10–P90 range; with
``"erlang_check": true`` also the simulated mean wait beside Erlang C. Deterministic by seed.
The scenario format and the recorded results are in docs/estimates.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from queueing.argtypes import whole
from queueing.sim.config import ScenarioError, load
from queueing.sim.run import simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m queueing.simulate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="scenario JSON file")
    parser.add_argument("--seed", type=int, help="overrides the scenario's seed")
    parser.add_argument("--days", type=whole(1), help="overrides the scenario's days")
    parser.add_argument("--json", dest="json_out", help="write the report to this file")
    parser.add_argument("--quiet", action="store_true", help="no table, no progress")
    parser.add_argument("--oracle-every", type=whole(0), default=0, metavar="K",
                        help="also score the Monte Carlo floor on every K-th estimated ticket")
    parser.add_argument("--oracle-reps", type=whole(1), default=100, metavar="R",
                        help="continuations per oracle estimate (default 100)")
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    try:
        sc = load(args.config)
    except (OSError, ScenarioError) as exc:
        console.print(f"[red]{escape(str(exc))}[/red]", soft_wrap=True)
        return 2
    days = args.days if args.days is not None else sc.days
    started = time.perf_counter()
    with Progress(console=console, transient=True, disable=args.quiet) as progress:
        task = progress.add_task(f"{sc.name or args.config}", total=days)
        report = simulate(sc, seed=args.seed, days=days,
                          on_day=lambda _: progress.advance(task),
                          oracle_every=args.oracle_every, oracle_reps=args.oracle_reps)
    elapsed = time.perf_counter() - started
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n")
    if not args.quiet:
        print_report(report, elapsed)
    return 0


def print_report(report: dict[str, Any], elapsed_s: float) -> None:
    out = Console()
    c = report["counts"]
    out.print(f"[bold]{report['scenario']}[/bold]  seed {report['seed']}, {report['days']} "
              f"day(s), {elapsed_s:.1f} s — {c['issued']} issued, {c['called']} called "
              f"({c['called_at_once']} at once), {report['tickets']} scored, "
              f"{c['no_shows']} no-shows, {c['abandoned']} abandoned; "
              f"mean wait {report['mean_wait_s']:.0f} s, p90 {report['p90_wait_s']:.0f} s")
    table = Table("predictor", "MAE s", "RMSE s", "bias s", "P(over)", "P10–P90 cover",
                  "MAE / best baseline")
    preds = report["predictors"]
    best = min(v["mae_s"] for k, v in preds.items() if k != "switchboard") or 1.0
    for name, m in preds.items():
        cover = m.get("coverage_p10_p90")
        table.add_row(name, f"{m['mae_s']:.1f}", f"{m['rmse_s']:.1f}", f"{m['bias_s']:+.1f}",
                      f"{m['p_over']:.3f}", "" if cover is None else f"{cover:.3f}",
                      f"{m['mae_s'] / best:.3f}")
    out.print(table)
    orc = report.get("oracle")
    if orc:
        n = orc["oracle"]["n"]
        parts = ", ".join(f"{k} {v['mae_s']:.1f}" for k, v in orc.items())
        out.print(f"On the {n} tickets the Monte Carlo oracle scored, MAE s: {parts}")
    erl = report.get("erlang_c")
    if erl:
        verdict = "[green]within 5 %[/green]" if erl["within_5pct"] else "[red]off by > 5 %[/red]"
        out.print(f"Erlang C (c={erl['servers']}, ρ={erl['utilisation']}): formula "
                  f"{erl['mean_wait_formula_s']:.1f} s, simulated {erl['mean_wait_sim_s']:.1f} s "
                  f"({erl['relative_error']:+.2%}) {verdict}")


if __name__ == "__main__":
    sys.exit(main())
