"""Published accuracy: realised against announced waits, per service and local day.

The server feeds ``observe`` when a ticket is called, with the estimate it announced at
issue; the HTTP endpoint serves ``to_dict``. The same ``Score`` scores predictors in the
simulator, so the live numbers and docs/estimates.md mean the same thing: error is
announced minus actual (positive: we said longer than it took).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from queueing.estimate.types import Estimate


@dataclass(slots=True)
class Score:
    """Running sums for MAE, RMSE, bias, P(actual > announced) and range coverage."""

    n: int = 0
    abs_sum: float = 0.0
    sq_sum: float = 0.0
    err_sum: float = 0.0
    over: int = 0  # actual > announced
    ranged: int = 0
    covered: int = 0  # low <= actual <= high

    def add(self, estimate: float, actual: float, low: float | None = None,
            high: float | None = None) -> None:
        err = estimate - actual
        self.n += 1
        self.abs_sum += abs(err)
        self.sq_sum += err * err
        self.err_sum += err
        self.over += actual > estimate
        if low is not None and high is not None:
            self.ranged += 1
            self.covered += low <= actual <= high

    def merge(self, other: Score) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def to_dict(self) -> dict[str, Any]:
        n = max(self.n, 1)
        out: dict[str, Any] = {
            "n": self.n,
            "mae_s": round(self.abs_sum / n, 2),
            "rmse_s": round(math.sqrt(self.sq_sum / n), 2),
            "bias_s": round(self.err_sum / n, 2),
            "p_over": round(self.over / n, 4),
        }
        if self.ranged:
            out["coverage_p10_p90"] = round(self.covered / self.ranged, 4)
        return out


class AccuracyTracker:
    """Scores per (service, day), keeping the last ``keep_days`` days.

    ``day`` is the site's local date as the server computes it (ISO, ``2026-11-23``), so this
    class needs no time zone and no clock.
    """

    def __init__(self, keep_days: int = 31) -> None:
        self.keep_days = keep_days
        self._days: dict[str, dict[str, Score]] = {}

    def observe(self, service: str, day: str, announced: Estimate, actual_s: float) -> None:
        """A called ticket: the estimate it was given at issue and the wait it had."""
        per = self._days.get(day)
        if per is None:
            per = self._days[day] = {}
            for old in sorted(self._days)[: -self.keep_days]:
                del self._days[old]
            if day not in self._days:
                return  # older than everything kept
        score = per.get(service)
        if score is None:
            score = per[service] = Score()
        score.add(announced.wait_s, actual_s, announced.low_s, announced.high_s)

    def score(self, service: str, day: str) -> Score:
        return self._days.get(day, {}).get(service, Score())

    def days(self) -> list[str]:
        return sorted(self._days)

    def to_dict(self, day: str) -> dict[str, Any]:
        """``{"day", "services": {id: {n, mae_s, rmse_s, bias_s, p_over, coverage_p10_p90}},
        "all": {...}}`` for one day."""
        per = self._days.get(day, {})
        total = Score()
        for score in per.values():
            total.merge(score)
        return {
            "day": day,
            "services": {sid: per[sid].to_dict() for sid in sorted(per)},
            "all": total.to_dict(),
        }
