"""When each counter was open on a local day, from the day log's counter records (pure).

The day log files a counter's state changes (``o`` opened, ``p`` paused, ``q`` closed;
queueing/daylog.py) under the local day of the change. A counter open at midnight has no
record that morning, and one left alone for days has none for days (opening an open counter
records nothing): ``states_at_start`` finds its state when the day began from the last change
of the day before, else the state its first change of the day left (``f``), else its live
state if that has not changed since before the day began; the caller passes it as ``start``.
A counter in none of them is unknown, not closed.

Times are epoch ms; a local day is ``[day_start, day_end)`` (``day_window``), cut at ``now``
for today (the rest has not happened).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

STATES = {"o": "open", "p": "paused", "q": "closed"}


@dataclass(frozen=True, slots=True)
class Span:
    """One stretch of a counter in one state."""

    counter: str
    state: str  # open | paused | closed
    start: int
    end: int


def is_counter_record(r: dict[str, Any]) -> bool:
    return r.get("k") in STATES and bool(r.get("ctr"))


def local_ms(day: str, hour: int, timezone: str) -> int:
    """Epoch ms of ``hour``:00 local on ``day`` (hour 24: the next midnight)."""
    d = Date.fromisoformat(day) + timedelta(days=hour // 24)
    return int(datetime(d.year, d.month, d.day, hour % 24, tzinfo=ZoneInfo(timezone))
               .timestamp() * 1000)


def day_window(day: str, timezone: str, now: int | None = None) -> tuple[int, int]:
    """The local day as ``[start, end)`` epoch ms, ended at ``now`` if that comes first."""
    start, end = local_ms(day, 0, timezone), local_ms(day, 24, timezone)
    if now is not None:
        end = max(start, min(end, now))
    return start, end


def states_at_end(records: list[dict[str, Any]]) -> dict[str, str]:
    """Each counter's state after the last of ``records`` that changed it."""
    out: dict[str, str] = {}
    for r in sorted((r for r in records if is_counter_record(r)), key=_when):
        out[r["ctr"]] = STATES[r["k"]]
    return out


def states_at_start(before: dict[str, str], records: list[dict[str, Any]],
                    live: dict[str, tuple[str, int]], day_start: int) -> dict[str, str]:
    """Each counter's state when the day began, where known (a counter not named: unknown).

    ``before``: the states at the end of the day before (``states_at_end``); ``records``: the
    day's; ``live``: each counter's state now and since when (ms).
    """
    out = {c: s for c, (s, since) in live.items() if s in STATES.values() and since < day_start}
    for r in sorted((r for r in records if is_counter_record(r)), key=_when, reverse=True):
        if r.get("f") in STATES.values():  # the earliest change of each counter wins
            out[r["ctr"]] = r["f"]
    return out | before


def spans(records: list[dict[str, Any]], start: dict[str, str], window: tuple[int, int]
          ) -> list[Span]:
    """Every counter's stretches in each state within ``window``, from the state it was in
    when the window began (``start``; a counter not named there: the state its first
    record left, else closed until then; unknown and left out if it has none) and its
    records."""
    lo, hi = window
    state = dict(start)
    since = dict.fromkeys(state, lo)
    out: list[Span] = []
    for r in sorted((r for r in records if is_counter_record(r)), key=_when):
        c, t = r["ctr"], min(max(int(r["t"]), lo), hi)
        if c not in state and r.get("f") in STATES.values():  # the state its first left
            state[c], since[c] = r["f"], lo
        if c in state and t > since[c]:
            out.append(Span(c, state[c], since[c], t))
        state[c], since[c] = STATES[r["k"]], t
    out += [Span(c, s, since[c], hi) for c, s in state.items() if hi > since[c]]
    return out


def overlap(span: Span, lo: int, hi: int) -> int:
    """Milliseconds of ``span`` within ``[lo, hi)``."""
    return max(0, min(span.end, hi) - max(span.start, lo))


def _when(r: dict[str, Any]) -> tuple[int, int, int]:
    """Time of the change, then stream order (two changes in one millisecond)."""
    ms, _, seq = str(r.get("o") or "0-0").partition("-")
    return int(r.get("t") or 0), int(ms or 0), int(seq or 0)
