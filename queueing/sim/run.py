"""Running a scenario for its days and collecting one report."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from queueing.estimate.rates import RateTracker
from queueing.sim.config import Scenario, ScenarioError
from queueing.sim.engine import Day as _Day
from queueing.sim.engine import DayResult
from queueing.sim.erlang import erlang_c, mmc_mean_wait
from queueing.sim.metrics import PREDICTORS, Score


def simulate(sc: Scenario, seed: int | None = None, days: int | None = None,
             on_day: Callable[[int], None] | None = None, oracle_every: int = 0,
             oracle_reps: int = 100) -> dict[str, Any]:
    """All days of ``sc`` with one tracker (as one live server would keep), as a report.

    With ``oracle_every`` = k, every k-th estimated ticket also gets the Monte Carlo floor
    (``oracle.py``, ``oracle_reps`` continuations each): slow, for the validation runs.
    """
    seed = sc.seed if seed is None else seed
    days = sc.days if days is None else days
    tracker = RateTracker()
    total = DayResult()
    waits: list[float] = []
    for index in range(days):
        day = _Day(sc, index, tracker, seed, oracle_every, oracle_reps).run()
        for name in PREDICTORS:
            total.scores[name].merge(day.scores[name])
        for cls, score in day.by_class.items():
            total.by_class.setdefault(cls, Score()).merge(score)
        for name, score in day.oracle.items():
            total.oracle.setdefault(name, Score()).merge(score)
        waits.extend(day.waits_s)
        for attr in ("issued", "called_at_once", "no_shows", "abandoned", "unserved",
                     "unestimated", "events"):
            setattr(total, attr, getattr(total, attr) + getattr(day, attr))
        if on_day is not None:
            on_day(index)
    return _report(sc, seed, days, total, waits)


def _report(sc: Scenario, seed: int, days: int, total: DayResult,
            waits: list[float]) -> dict[str, Any]:
    waits.sort()
    report: dict[str, Any] = {
        "scenario": sc.name,
        "seed": seed,
        "days": days,
        "tickets": total.scores["switchboard"].n,
        "mean_wait_s": round(sum(waits) / len(waits), 2) if waits else 0.0,
        "p90_wait_s": round(waits[int(0.9 * (len(waits) - 1))], 2) if waits else 0.0,
        "predictors": {name: total.scores[name].to_dict() for name in PREDICTORS},
        "switchboard_by_class": {c: s.to_dict() for c, s in sorted(total.by_class.items())},
        "counts": {
            "issued": total.issued,
            "called": len(waits),
            "called_at_once": total.called_at_once,
            "no_shows": total.no_shows,
            "abandoned": total.abandoned,
            "unserved": total.unserved,
            "unestimated": total.unestimated,
            "events": total.events,
        },
    }
    if total.oracle:
        report["oracle"] = {name: s.to_dict() for name, s in total.oracle.items()}
    if sc.erlang_check:
        report["erlang_c"] = erlang_report(sc, report["mean_wait_s"], len(waits))
    return report


def erlang_report(sc: Scenario, mean_wait_s: float, n: int) -> dict[str, Any]:
    """The M/M/c formula for the scenario beside the simulated mean wait."""
    if len(sc.services) != 1 or sc.services[0].service_time.dist != "exponential":
        raise ScenarioError("erlang_check needs one service with exponential times")
    svc = sc.services[0]
    hours = range(math.floor(sc.open_h), math.ceil(sc.close_h))
    rates = {svc.arrivals_per_hour[h] for h in hours}
    if len(rates) != 1 or sc.no_show_rate or sc.abandon_mean_s is not None:
        raise ScenarioError("erlang_check needs constant arrivals, no no-shows or abandonment")
    lam = rates.pop() / 3600.0
    mu = 1.0 / svc.service_time.mean_s
    c = len(sc.counters)
    formula = mmc_mean_wait(lam, mu, c)
    return {
        "servers": c,
        "arrivals_per_hour": lam * 3600.0,
        "mean_service_s": svc.service_time.mean_s,
        "utilisation": round(lam / (c * mu), 4),
        "p_wait_formula": round(erlang_c(c, lam / mu), 4),
        "mean_wait_formula_s": round(formula, 2),
        "mean_wait_sim_s": mean_wait_s,
        "relative_error": round(mean_wait_s / formula - 1.0, 4),
        "within_5pct": abs(mean_wait_s / formula - 1.0) <= 0.05,
        "tickets": n,
    }
