"""A sliding window of timestamped values with running sums: O(1) to add, amortised O(1) to
age out. Time comes in as an argument, so the same window serves the hub and the simulator."""

from __future__ import annotations

from collections import deque


class Window:
    """Events ``(at_ms, value)`` younger than ``span_ms`` and at most ``maxlen`` of them."""

    __slots__ = ("events", "maxlen", "span_ms", "total", "total_sq")

    def __init__(self, span_ms: int, maxlen: int = 1_000) -> None:
        self.span_ms = span_ms
        self.maxlen = maxlen
        self.events: deque[tuple[int, float]] = deque()
        self.total = 0.0
        self.total_sq = 0.0

    def add(self, at_ms: int, value: float = 1.0) -> None:
        events = self.events
        events.append((at_ms, value))
        self.total += value
        self.total_sq += value * value
        if len(events) > self.maxlen:
            self._drop()
        # Also forget what the span already excludes, so a window holds its span even when
        # nobody asks (``evict`` before a question drops the same and more: now >= at_ms).
        # Without this a window read only now and then, like the tracker's arrivals of
        # today before its profile has a past day, grew to its maxlen (soak test).
        cutoff = at_ms - self.span_ms
        while events and events[0][0] < cutoff:
            self._drop()

    def evict(self, now_ms: int) -> None:
        """Forget events older than the span (relative to ``now_ms``)."""
        self.evict_before(now_ms - self.span_ms)

    def evict_before(self, cutoff: int) -> None:
        """Forget events older than ``cutoff`` (ms)."""
        events = self.events
        while events and events[0][0] < cutoff:
            self._drop()
        if not events:
            # Running sums drift by rounding; an empty window is a free chance to reset them.
            self.total = self.total_sq = 0.0

    def _drop(self) -> None:
        _, value = self.events.popleft()
        self.total -= value
        self.total_sq -= value * value

    def __len__(self) -> int:
        return len(self.events)

    def mean(self) -> float | None:
        n = len(self.events)
        return self.total / n if n else None

    def cv2(self) -> float | None:
        """Squared coefficient of variation of the values (None with fewer than 3)."""
        n = len(self.events)
        if n < 3 or self.total <= 0.0:
            return None
        mean = self.total / n
        var = max(0.0, (self.total_sq - n * mean * mean) / (n - 1))
        return var / (mean * mean)

    def first(self) -> tuple[int, float] | None:
        return self.events[0] if self.events else None

    def last(self) -> tuple[int, float] | None:
        return self.events[-1] if self.events else None
