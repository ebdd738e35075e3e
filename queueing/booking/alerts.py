"""Queue alerts for people who left a phone number or push endpoint: pure rules.

"Almost your turn" goes once per ticket, when its position or its rough estimated wait
crosses the configured threshold: a ticket is *armed* when it joins the queue beyond both
thresholds, and fires when it comes within either. A ticket that joins already within them
is not alerted (it was just told its position). "Your turn" goes with every call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SERVICE_S = 300.0  # mean call length before any call of the service was seen
EWMA = 0.1


@dataclass(frozen=True, slots=True)
class Thresholds:
    position: int  # alert at this position or better (1 = next)
    wait_s: int  # …or when the estimated wait is at most this


def rough_wait_s(position: int, open_counters: int, mean_service_s: float) -> float:
    """People ahead shared over the open counters, times the mean call length."""
    return (position - 1) / max(1, open_counters) * mean_service_s


def almost_due(position: int, wait_s: float, th: Thresholds) -> bool:
    return position <= th.position or wait_s <= th.wait_s


def scan_depth(th: Thresholds, open_counters: int, mean_service_s: float) -> int:
    """How far from the head a ticket can be and still be due (so only those are looked at)."""
    by_wait = math.floor(th.wait_s * max(1, open_counters) / max(mean_service_s, 1.0)) + 1
    return min(500, max(th.position, by_wait))


@dataclass(slots=True)
class CallLengths:
    """Mean call length per service, from ``completed`` events (exponentially weighted)."""

    mean: dict[str, float] = field(default_factory=dict)

    def observe(self, kind: str, data: dict[str, Any]) -> None:
        t = data.get("ticket")
        if kind != "completed" or not t or t.get("called_ms") in (None, "") \
                or t.get("ended_ms") in (None, ""):
            return
        length = max(0.0, (t["ended_ms"] - t["called_ms"]) / 1000)
        svc = t["service"]
        old = self.mean.get(svc)
        self.mean[svc] = length if old is None else old + EWMA * (length - old)

    def get(self, service: str) -> float:
        return self.mean.get(service, DEFAULT_SERVICE_S)
