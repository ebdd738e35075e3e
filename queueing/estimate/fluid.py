"""The mean path of a ticket through its queue, as a fluid, and capacity over time.

Capacity is piecewise constant: counters open and close on the roster, so the service's call
rate ``c(t)`` changes at known times. While the ticket waits, the people ahead of it (``u``)
drain by calls and by abandonment, and grow by overtakers::

    du/dt = -c(t) + lam_over(t) + lam_preempt - h * u

where ``lam_over`` is the arrival rate of higher, non-preempting classes, but only until the
ticket's aging budget is spent (policy.py: a ticket is overtaken at most ``budget`` times),
and ``h`` is the abandonment hazard. With the segment's rates constant the equation has a
closed form, so the walk is a handful of steps. Once ``u`` reaches 0 the ticket still needs
one call of its own, which overtakers can still delay but nobody ahead can abandon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

INF = math.inf


@dataclass(frozen=True, slots=True)
class Path:
    """The fluid solution: wait, calls the service makes meanwhile, overtakers, leavers."""

    wait_s: float
    calls: float  # capacity used until the ticket is called: its own call included
    overtakers: float
    abandoned: float
    exposure: float = 0.0  # budget-bound overtakers expected over the wait, ignoring the cap


# (start offset s, calls/s, calls made at the start, lam_over, lam_preempt). The calls at the
# start are counters opening there: an opening counter calls someone at once.
Segment = tuple[float, float, float, float, float]


def fluid_wait(segments: list[Segment], ahead: float, budget: float, hazard: float,
               horizon_s: float) -> Path | None:
    """Walk ``segments`` (the first starts at 0) until the ticket is called.

    None when it is not called within ``horizon_s`` (no capacity known to come).
    """
    t = calls = over = left = seen = 0.0
    u = float(ahead)
    own = 1.0  # the ticket's own call, needed once nobody is ahead
    i = 0
    jump = segments[0][2]
    while t < horizon_s:
        if jump > 0.0:
            take = min(jump, u)
            u -= take
            rest = min(jump - take, own) if u <= 0.0 else 0.0
            own -= rest
            calls += take + rest
            jump = 0.0
            if own <= 0.0:
                return Path(t, calls, over, left, seen)
        _, rate, _, lam_over, lam_preempt = segments[i]
        seg_end = segments[i + 1][0] if i + 1 < len(segments) else INF
        lam = lam_over if over < budget else 0.0
        budget_at = t + (budget - over) / lam if lam > 0.0 else INF
        end = min(seg_end, budget_at, horizon_s)
        net = rate - lam - lam_preempt  # how fast the line in front of the ticket shrinks
        if u > 0.0:
            h = hazard
            # With net <= 0 the line never empties in this segment (abandonment alone only
            # approaches net/h asymptotically).
            tau = _time_to_empty(u, net, h)
            done = tau <= end - t
            d = tau if done else end - t
            u_new = 0.0 if done else max(_line_after(u, net, h, d), 0.0)
            left += max(0.0, u - u_new - net * d)
            u = u_new
        else:
            tau = own / net if net > 0.0 else INF
            done = tau <= end - t
            d = tau if done else end - t
            own = 0.0 if done else own - net * d
        calls += rate * d
        over = budget if (not done and end == budget_at) else over + lam * d
        seen += lam_over * d
        t += d
        if done and own <= 0.0:
            return Path(t, calls, over, left, seen)
        if not done and end == seg_end:
            i += 1
            jump = segments[i][2]
    return None


def _time_to_empty(u: float, net: float, h: float) -> float:
    """Time for a line of ``u`` draining at ``net``/s plus hazard ``h`` per person to empty."""
    if net <= 0.0:
        return INF
    return math.log1p(h * u / net) / h if h > 0.0 else u / net


def _line_after(u: float, net: float, h: float, d: float) -> float:
    """The line after ``d`` seconds of du/dt = -net - h*u."""
    if h > 0.0:
        return (u + net / h) * math.exp(-h * d) - net / h
    return u - net * d


def time_for_calls(segments: list[Segment], calls: float) -> float | None:
    """When the service will have made ``calls`` calls from now: Λ⁻¹(calls), or None."""
    done = 0.0
    for i, (start, rate, jump, _, _) in enumerate(segments):
        done += jump
        if done >= calls:
            return start
        end = segments[i + 1][0] if i + 1 < len(segments) else INF
        room = rate * (end - start)
        if rate > 0.0 and done + room >= calls:
            return start + (calls - done) / rate
        done += room
    return None


def merge(capacity: list[tuple[float, float, float]],
          arrivals: list[tuple[float, float, float]]) -> list[Segment]:
    """One list of segments from the capacity steps (start, calls/s, calls at the start)
    and the overtaker-rate steps (start, bound/s, preempting/s); both start at 0."""
    points = sorted({c[0] for c in capacity} | {a[0] for a in arrivals})
    out: list[Segment] = []
    i = j = 0
    for p in points:
        jump = 0.0
        while i + 1 < len(capacity) and capacity[i + 1][0] <= p:
            i += 1
            jump = capacity[i][2] if capacity[i][0] == p else 0.0
        if i == 0 and p == 0.0:
            jump = capacity[0][2]
        while j + 1 < len(arrivals) and arrivals[j + 1][0] <= p:
            j += 1
        out.append((p, capacity[i][1], jump, arrivals[j][1], arrivals[j][2]))
    return out


def capped_poisson_mean(mean: float, cap: float) -> float:
    """E[min(cap, N)] for N ~ Poisson(mean): overtakers a budget of ``cap`` lets through.

    The fluid walk caps the mean (min(cap, mean)), which overstates it near the cap: often
    fewer arrive, and the surplus of a busy spell cannot make up for a quiet one.
    """
    if cap <= 0.0 or mean <= 0.0:
        return 0.0
    k_max = math.floor(cap)
    if k_max > mean + 10.0 * math.sqrt(mean) + 10.0:
        return mean  # the cap is never reached in practice
    # sum over k < cap of P(N > k), plus the fractional part of the cap
    pmf = math.exp(-mean)
    cdf = pmf
    total = 0.0
    for k in range(k_max):
        total += 1.0 - cdf
        pmf *= mean / (k + 1)
        cdf += pmf
    return total + (cap - k_max) * (1.0 - cdf)
