"""The day's operations per service, for the dashboard endpoint.

Fed from the events the server already emits (issued, called, served, no-show, abandoned),
keyed by the site's local date, which the server computes. Pure: no clock, no I/O.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class _Day:
    by_channel: Counter[str] = field(default_factory=Counter)
    by_priority: Counter[str] = field(default_factory=Counter)
    waits_s: list[float] = field(default_factory=list)
    service_s: list[float] = field(default_factory=list)
    issued: int = 0
    called: int = 0
    no_shows: int = 0
    no_shows_returned: int = 0
    abandoned: int = 0
    closed_unserved: int = 0
    cancelled_after_call: int = 0
    transferred_in: int = 0
    transferred_out: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "tickets": self.issued,
            "by_channel": dict(sorted(self.by_channel.items())),
            "by_priority": dict(sorted(self.by_priority.items())),
            "called": self.called,
            "wait_s": summary(self.waits_s),
            "service_s": summary(self.service_s),
            # No-shows among calls; abandonment among tickets issued.
            "no_show_rate": round(self.no_shows / self.called, 4) if self.called else None,
            "abandon_rate": round(self.abandoned / self.issued, 4) if self.issued else None,
            # A no-show that sent the ticket back to its place (policy), not in the rate.
            "no_shows_returned": self.no_shows_returned,
            # Still open when the day was closed (policy day_close): neither served nor left.
            "closed_unserved": self.closed_unserved,
            # Called, then cancelled (the person said they are not coming): neither a no-show
            # nor left before the call.
            "cancelled_after_call": self.cancelled_after_call,
            "transferred_in": self.transferred_in, "transferred_out": self.transferred_out,
        }


def summary(values: list[float]) -> dict[str, float | int | None]:
    """n, mean and p90 (nearest rank: the smallest value with at least 90 % of the values at
    or below it), 1 decimal; null figures with no values."""
    if not values:
        return {"n": 0, "mean": None, "p90": None}
    ordered = sorted(values)
    n = len(ordered)
    return {
        "n": n,
        "mean": round(sum(ordered) / n, 1),
        "p90": round(ordered[math.ceil(0.9 * n) - 1], 1),
    }


class DayStats:
    """Per (local day, service) counts and distributions, keeping ``keep_days`` days."""

    def __init__(self, keep_days: int = 31) -> None:
        self.keep_days = keep_days
        self._days: dict[str, dict[str, _Day]] = {}

    def _get(self, service: str, day: str) -> _Day:
        per = self._days.get(day)
        if per is None:
            per = self._days[day] = {}
            for old in sorted(self._days)[: -self.keep_days]:
                del self._days[old]
        stats = per.get(service)
        if stats is None:
            stats = per[service] = _Day()
        return stats

    def issued(self, service: str, day: str, channel: str, priority: str) -> None:
        s = self._get(service, day)
        s.issued += 1
        s.by_channel[channel] += 1
        s.by_priority[priority] += 1

    def called(self, service: str, day: str, wait_s: float) -> None:
        """A ticket's first call, after ``wait_s`` in the queue."""
        s = self._get(service, day)
        s.called += 1
        s.waits_s.append(max(0.0, wait_s))

    def served(self, service: str, day: str, duration_s: float) -> None:
        self._get(service, day).service_s.append(max(0.0, duration_s))

    def called_again(self, service: str, day: str) -> None:
        """A call in a queue the ticket was transferred to after an earlier call elsewhere:
        a call here (no-shows and service here are counted against it), no wait of its own."""
        self._get(service, day).called += 1

    def no_show(self, service: str, day: str) -> None:
        self._get(service, day).no_shows += 1

    def abandoned(self, service: str, day: str) -> None:
        """A ticket left before its call (cancelled or timed out)."""
        self._get(service, day).abandoned += 1

    def no_show_returned(self, service: str, day: str) -> None:
        self._get(service, day).no_shows_returned += 1

    def closed_unserved(self, service: str, day: str) -> None:
        self._get(service, day).closed_unserved += 1

    def cancelled_after_call(self, service: str, day: str) -> None:
        self._get(service, day).cancelled_after_call += 1

    def transferred(self, to_service: str, from_service: str | None, day: str) -> None:
        self._get(to_service, day).transferred_in += 1
        if from_service:
            self._get(from_service, day).transferred_out += 1

    def to_dict(self, day: str) -> dict[str, Any]:
        """``{"day", "services": {id: {tickets, by_channel, by_priority, called, wait_s,
        service_s, no_show_rate, abandon_rate}}}``."""
        per = self._days.get(day, {})
        return {"day": day, "services": {sid: per[sid].to_dict() for sid in sorted(per)}}
