"""How many estimates per second the estimator makes, the way the hub would use it.

    python -m queueing.sim.bench [--config queueing/scenarios/government.json] [--days 10]

Runs the scenario and, after every arrival, re-estimates every ticket waiting in that
service (what a hub does when a queue changes), timing only the ``estimate`` calls. The
first call after an event rebuilds the service's rates; the rest of the burst reuses them.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from queueing.estimate.predictor import estimate
from queueing.estimate.rates import RateTracker
from queueing.sim.config import load
from queueing.sim.engine import Day


class _TimedDay(Day):
    spent_s = 0.0
    calls = 0

    def _predict(self, ticket: Any, ahead: int, budget: int, now: int) -> None:
        super()._predict(ticket, ahead, budget, now)
        queue = self.queues[ticket.service]
        views = [self._view(self.tickets[e.id], i, e.budget, now)
                 for i, e in enumerate(queue.entries)]
        started = time.perf_counter()
        for view in views:
            estimate(view, self.tracker)
        _TimedDay.spent_s += time.perf_counter() - started
        _TimedDay.calls += len(views)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m queueing.sim.bench")
    parser.add_argument("--config", default="queueing/scenarios/government.json")
    parser.add_argument("--days", type=int, default=10)
    args = parser.parse_args(argv)
    sc = load(args.config)
    tracker = RateTracker()
    for index in range(args.days):
        _TimedDay(sc, index, tracker, sc.seed).run()
    result = {
        "scenario": sc.name,
        "days": args.days,
        "estimates": _TimedDay.calls,
        "seconds": round(_TimedDay.spent_s, 3),
        "estimates_per_s": round(_TimedDay.calls / _TimedDay.spent_s),
        "us_per_estimate": round(1e6 * _TimedDay.spent_s / _TimedDay.calls, 1),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
