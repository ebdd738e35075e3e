"""Queue alerts for people who left a phone number or push endpoint: pure rules.

"Almost your turn" goes once per ticket, when its position crosses the configured threshold
or its wait is *surely* within the wait threshold: the likely-longest wait (the P90 of
``wait_p90_s``), not the mean, must be within it, and the mean call length is the prior
(``DEFAULT_SERVICE_S``) until enough calls were seen (``CallLengths``): one 3-second visit
must not make "6 ahead" look like 18 seconds and spend the only alert half an hour early.
A ticket is *armed* when it joins the queue beyond both thresholds, and fires when it comes
within either. A ticket that joins already within them is not alerted (it was just told its
position). "Your turn" goes with every call.

Where the worker is given the server's own estimator (``WaitEstimates``: realtime/worker.py
wires ``realtime.estimates.LiveEstimator``, the one the ticket page and the SMS desk's STATUS
reply use), the wait rule is that estimate's P90 instead of ``wait_p90_s``: "almost" must not
go while STATUS says "likely 15-23 min", nor wait while it says "up to 4 min". Its P90, not
its median plus the window: the text promises "almost", so the honest rule is an upper bound
within the window (the median is the likely wait; a median of 4 min has a P90 of 8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

from queueing.estimate.gamma import gamma_ppf

DEFAULT_SERVICE_S = 300.0  # mean call length before any call of the service was seen
EWMA = 0.1
# The prior counts as this many calls: the first ones move the mean by 1/(PRIOR_CALLS + n),
# until that is less than EWMA (then it follows the latest calls).
PRIOR_CALLS = 5
SCAN_MAX = 500  # a queue is looked at this far from its head at most
ALERT_QUANTILE = 0.9  # "almost" by wait only when this quantile of the wait is within it


class SiteState(Protocol):
    """What a watcher of a site's stream holds: its key, live view and stream offset."""

    key: str
    view: Any  # queueing.view.SiteView
    offset: str


class WaitEstimates(Protocol):
    """A wait estimator that follows the site's events (queueing must not import realtime:
    realtime/worker.py adapts ``LiveEstimator`` to this)."""

    def observe(self, site: SiteState, kind: str, data: dict[str, Any], eid: str,
                via: str = "") -> None:
        """One event of the site's stream, after ``site.view`` applied it."""

    def wait(self, site: SiteState, ticket_id: str,
             position: int) -> tuple[float, float] | None:
        """The ticket's wait, (median, P90) in seconds, at ``position`` (1 = next); None
        when no estimate can be given (no counter known to come)."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    position: int  # alert at this position or better (1 = next)
    wait_s: int  # …or when the estimated wait is at most this


def rough_wait_s(position: int, open_counters: int, mean_service_s: float) -> float:
    """People ahead shared over the open counters, times the mean call length."""
    return (position - 1) / max(1, open_counters) * mean_service_s


def wait_p90_s(position: int, open_counters: int, mean_service_s: float) -> float:
    """The wait a ticket at ``position`` will likely (``ALERT_QUANTILE``) not exceed: the
    time to the completions of those ahead, each counter ending calls at random times of
    mean ``mean_service_s`` (a gamma of shape people ahead, scale mean / counters)."""
    ahead = position - 1
    if ahead <= 0:
        return 0.0
    return gamma_ppf(ALERT_QUANTILE, ahead) * mean_service_s / max(1, open_counters)


def almost_due(position: int, wait_s: float, th: Thresholds) -> bool:
    """By position, or by ``wait_s`` (give it ``wait_p90_s``: a mean is due too early)."""
    return position <= th.position or wait_s <= th.wait_s


def scan_depth(th: Thresholds, open_counters: int, mean_service_s: float) -> int:
    """How far from the head a ticket can be and still be due (so only those are looked at)."""
    by_wait = math.floor(th.wait_s * max(1, open_counters) / max(mean_service_s, 1.0)) + 1
    return min(SCAN_MAX, max(th.position, by_wait))


@dataclass(slots=True)
class CallLengths:
    """Mean call length per service, from ``completed`` events: the prior blended with the
    calls seen (``PRIOR_CALLS``), then exponentially weighted."""

    mean: dict[str, float] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)

    def observe(self, kind: str, data: dict[str, Any]) -> None:
        t = data.get("ticket")
        if kind != "completed" or not t or t.get("called_ms") in (None, "") \
                or t.get("ended_ms") in (None, ""):
            return
        length = max(0.0, (t["ended_ms"] - t["called_ms"]) / 1000)
        svc = t["service"]
        n = self.seen[svc] = self.seen.get(svc, 0) + 1
        old = self.mean.get(svc, DEFAULT_SERVICE_S)
        self.mean[svc] = old + max(EWMA, 1 / (PRIOR_CALLS + n)) * (length - old)

    def get(self, service: str) -> float:
        return self.mean.get(service, DEFAULT_SERVICE_S)
