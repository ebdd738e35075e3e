"""When a new estimate is worth sending: phones should not buzz for every recomputation."""

from __future__ import annotations

from queueing.estimate.types import Estimate


def noticeable(last: Estimate | None, new: Estimate | None, *, abs_s: float = 60.0,
               rel: float = 0.15, soon_s: float = 180.0) -> bool:
    """Whether ``new`` differs enough from ``last`` (the one last sent) to send it.

    Sent: the first estimate; a change between "known" and "unknown" (None: no counter is
    coming); crossing ``soon_s`` either way ("almost your turn"); the point moving by at least
    ``max(abs_s, rel × the larger)``; a range end moving by 1.5 times that. A minute either way
    on a half-hour wait is noise to a person; ten minutes is news.
    """
    if last is None or new is None:
        return last is not new
    if (new.wait_s <= soon_s) != (last.wait_s <= soon_s):
        return True
    return (_moved(last.wait_s, new.wait_s, abs_s, rel)
            or _moved(last.low_s, new.low_s, 1.5 * abs_s, 1.5 * rel)
            or _moved(last.high_s, new.high_s, 1.5 * abs_s, 1.5 * rel))


def _moved(a: float, b: float, abs_s: float, rel: float) -> bool:
    return abs(a - b) >= max(abs_s, rel * max(a, b))
