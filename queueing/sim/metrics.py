"""Scoring predictors against realised waits."""

from __future__ import annotations

import math
from dataclasses import dataclass

PREDICTORS = ("switchboard", "ql", "les", "hol", "hol_refined", "rolling")


@dataclass(slots=True)
class Score:
    """Running error sums of one predictor. Error = estimate - actual (positive: too long)."""

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
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_dict(self) -> dict[str, float | int | None]:
        n = max(self.n, 1)
        out: dict[str, float | int | None] = {
            "n": self.n,
            "mae_s": round(self.abs_sum / n, 2),
            "rmse_s": round(math.sqrt(self.sq_sum / n), 2),
            "bias_s": round(self.err_sum / n, 2),
            "p_over": round(self.over / n, 4),
        }
        if self.ranged:
            out["coverage_p10_p90"] = round(self.covered / self.ranged, 4)
        return out
