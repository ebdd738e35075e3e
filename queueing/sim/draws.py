"""Random draws of a simulated day: arrivals from an hourly profile and call durations."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from queueing.sim.config import ServiceSpec, ServiceTime

HOUR_MS = 3_600_000


def arrival_times(rng: random.Random, spec: ServiceSpec, open_h: float, close_h: float,
                  day_ms: int) -> list[int]:
    """A non-homogeneous Poisson process: constant rate within each hour of the profile."""
    times: list[int] = []
    hour = math.floor(open_h)
    while hour < close_h:
        start = max(float(hour), open_h)
        end = min(float(hour + 1), close_h)
        rate = spec.arrivals_per_hour[hour % 24]  # per hour
        if rate > 0:
            t = start + rng.expovariate(rate)
            while t < end:
                times.append(day_ms + round(t * HOUR_MS))
                t += rng.expovariate(rate)
        hour += 1
    return times


def duration_sampler(rng: random.Random, st: ServiceTime) -> Callable[[], float]:
    """A function drawing one call duration in seconds."""
    if st.dist == "exponential":
        rate = 1.0 / st.mean_s
        return lambda: rng.expovariate(rate)
    if st.dist == "lognormal":
        sigma2 = math.log1p(st.cv * st.cv)
        mu = math.log(st.mean_s) - sigma2 / 2.0
        sigma = math.sqrt(sigma2)
        return lambda: rng.lognormvariate(mu, sigma)
    samples = list(st.samples_s)
    return lambda: rng.choice(samples)


def class_picker(rng: random.Random, mix: dict[str, float]) -> Callable[[], str]:
    classes = list(mix)
    weights = [mix[c] for c in classes]
    return lambda: rng.choices(classes, weights)[0]
