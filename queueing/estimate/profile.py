"""Arrivals by time of day, learned over past days.

A clinic's morning peak comes back every morning; a 30-minute window of today's arrivals
sees it late and, for a rare class, sees mostly noise (six priority tickets in half an hour
is a ±40 % estimate). The profile keeps, per class and per slot of the local day, an
exponentially weighted mean of past days' counts; the tracker scales it by how busy today
is compared with the profile so far (``RateTracker``), and the estimator reads the rate for
each future slot of the ticket's wait, so overtakers expected after the peak are not
counted at the peak's rate.
"""

from __future__ import annotations

DAY_MS = 86_400_000


class ArrivalProfile:
    """Per-class arrival counts per slot of the local day, averaged over complete days."""

    __slots__ = ("_below", "_day", "_today", "days", "mean", "memory_days", "offset_ms",
                 "slot_ms", "slots", "total")

    def __init__(self, slot_ms: int = 1_800_000, utc_offset_ms: int = 0,
                 memory_days: int = 20) -> None:
        self.slot_ms = slot_ms
        self.slots = DAY_MS // slot_ms
        self.offset_ms = utc_offset_ms
        self.memory_days = memory_days
        self.mean: dict[int, list[float]] = {}  # rank -> mean count per slot
        self.total = [0.0] * self.slots  # all ranks
        self.days = 0
        self._day: int | None = None
        self._today: dict[int, list[int]] = {}
        self._below: dict[tuple[int, frozenset[int]], tuple[list[float], list[float]]] = {}

    def slot(self, at_ms: int) -> tuple[int, int]:
        """(day number, slot index) of an instant, in the site's local time."""
        local = at_ms + self.offset_ms
        return local // DAY_MS, (local % DAY_MS) // self.slot_ms

    def add(self, rank: int, at_ms: int) -> None:
        day, slot = self.slot(at_ms)
        if day != self._day:
            if self._day is not None and day > self._day:
                self._fold()
            self._day = day
            self._today = {}
        counts = self._today.get(rank)
        if counts is None:
            counts = self._today[rank] = [0] * self.slots
        counts[slot] += 1

    def _fold(self) -> None:
        # A day with no arrival at all never starts, so closed days do not dilute the mean;
        # a class that had none on an open day folds in zeros.
        alpha = max(1.0 / (self.days + 1), 1.0 / self.memory_days)
        zeros = [0] * self.slots
        for rank in set(self.mean) | set(self._today):
            mean = self.mean.setdefault(rank, [0.0] * self.slots)
            today = self._today.get(rank, zeros)
            for i in range(self.slots):
                mean[i] += alpha * (today[i] - mean[i])
        self.total = [sum(m[i] for m in self.mean.values()) for i in range(self.slots)]
        self.days += 1
        self._below.clear()

    def expected(self, start_ms: int, end_ms: int) -> float:
        """Arrivals (all classes) a typical past day had between two instants of the day."""
        if not self.days or end_ms <= start_ms:
            return 0.0
        total = 0.0
        t = start_ms
        while t < end_ms:
            _, slot = self.slot(t)
            slot_end = t - (t + self.offset_ms) % self.slot_ms + self.slot_ms
            part = min(slot_end, end_ms) - t
            total += self.total[slot] * part / self.slot_ms
            t += part
        return total

    def rates_above(self, rank: int, preempt: frozenset[int]) -> tuple[list[float], list[float]]:
        """Per slot, arrivals/s of classes above ``rank``: (budget-bound, preempting)."""
        key = (rank, preempt)
        hit = self._below.get(key)
        if hit is None:
            bound = [0.0] * self.slots
            pre = [0.0] * self.slots
            per_s = 1000.0 / self.slot_ms
            for r, mean in self.mean.items():
                if r >= rank:
                    continue
                target = pre if r in preempt else bound
                for i in range(self.slots):
                    target[i] += mean[i] * per_s
            hit = self._below[key] = (bound, pre)
        return hit
