"""Calibrating the range on realised waits (a conformal-style correction per service).

The model gives a median ``m`` and a log-spread ``sigma`` for each ticket at issue. When the
ticket is called, its realised wait ``w`` becomes a standardised error
``z = (ln w - ln m) / sigma``. If the model were exact, the recent z's would sit where the
model's own quantiles put them; where they do not (service times more variable than measured,
overtaking the model missed, a roster it was not told about), their empirical P10/P50/P90
replace the model's. Using log-scale errors divided by the model's own spread lets a ticket
with 2 people ahead and one with 40 share one correction: their relative uncertainty differs,
their standardised error does not (much).

Before enough waits are known the correction is shrunk towards the model (weight
``n / (n + prior_n)``), so the first tickets of a fresh server get the model's range.
"""

from __future__ import annotations

import math
from collections import deque

from queueing.estimate.types import Estimate

LOG_FLOOR_S = 1.0  # waits under a second are "now"; the log needs a floor
MIN_SIGMA = 0.05  # a very narrow model range must not turn small errors into huge z's
Z90 = 1.2815515655446004  # standard normal P90


def model_spread(p10: float, p90: float) -> float:
    """The log-spread ``sigma`` a P10–P90 range implies (normal in log space)."""
    lo, hi = max(p10, LOG_FLOOR_S), max(p90, LOG_FLOOR_S)
    return max(MIN_SIGMA, (math.log(hi) - math.log(lo)) / (2.0 * Z90))


class Calibrator:
    """Recent standardised errors of one service and the correction they imply."""

    __slots__ = ("_dirty", "_q", "maxlen", "prior_n", "zs")

    def __init__(self, maxlen: int = 300, prior_n: int = 30) -> None:
        self.maxlen = maxlen
        self.prior_n = prior_n
        self.zs: deque[float] = deque(maxlen=maxlen)
        self._q = (0.0, 0.0, 0.0)
        self._dirty = False

    def observe(self, announced: Estimate, actual_s: float) -> None:
        """Learn from one called ticket: what its estimate at issue was, and what happened."""
        median, sigma = announced.model
        if median <= 0.0 or sigma <= 0.0:
            return  # "called at once" or no model: nothing to learn
        z = (math.log(max(actual_s, LOG_FLOOR_S)) - math.log(max(median, LOG_FLOOR_S))) / sigma
        self.zs.append(z)
        self._dirty = True

    def quantiles(self) -> tuple[float, float, float]:
        """Empirical P10, P50, P90 of the stored z's (linear interpolation)."""
        if self._dirty:
            ordered = sorted(self.zs)
            self._q = (_quantile(ordered, 0.1), _quantile(ordered, 0.5), _quantile(ordered, 0.9))
            self._dirty = False
        return self._q

    def target(self, z_raw: tuple[float, float, float],
               parent: Calibrator | None = None) -> tuple[float, float, float]:
        """Standardised P10, P50, P90 to use: the model's ``z_raw`` moved towards what the
        errors show, by ``n / (n + prior_n)``; from the ``parent``'s target, if given."""
        base = z_raw if parent is None else parent.target(z_raw)
        n = len(self.zs)
        if n == 0:
            return base
        weight = n / (n + self.prior_n)
        q = self.quantiles()
        return (base[0] + weight * (q[0] - base[0]), base[1] + weight * (q[1] - base[1]),
                base[2] + weight * (q[2] - base[2]))

    def adjust(self, p10: float, p50: float, p90: float,
               parent: Calibrator | None = None) -> Estimate:
        """The calibrated estimate for a model range (P10, median, P90 in seconds).

        ``parent`` is the service-wide calibrator when this one is for one class: a class
        with few tickets borrows the service's correction until it has its own.
        """
        sigma = model_spread(p10, p90)
        if p50 <= 0.0:
            return Estimate(p50, p10, p90, (p50, sigma))
        log_m = math.log(max(p50, LOG_FLOOR_S))
        z_raw = ((math.log(max(p10, LOG_FLOOR_S)) - log_m) / sigma, 0.0,
                 (math.log(max(p90, LOG_FLOOR_S)) - log_m) / sigma)
        z10, z50, z90 = self.target(z_raw, parent)
        return Estimate(
            math.exp(log_m + z50 * sigma),
            math.exp(log_m + z10 * sigma),
            math.exp(log_m + z90 * sigma),
            (p50, sigma),
        )


def _quantile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
