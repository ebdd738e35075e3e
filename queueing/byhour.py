"""A day by local hour: arrivals, waits and open counters, per service and for the site (pure).

Built from one local day's day-log records (queueing/daylog.py), which hold the tickets
*issued* that day and the counters' state changes of that day:

- ``issued`` and the wait (``wait_s``: n, mean, p90 of the tickets called) count in the hour
  the ticket was issued: "people who arrived at 10 waited this long", whenever they were
  called;
- ``called``, ``served`` and ``no_shows`` count in the hour the step happened; a step after
  the day's end (a ticket issued before midnight, called after it) is in no hour but in
  ``after_day``;
- ``counters_open`` is the time-weighted mean number of counters open (not paused, not
  closed) in the hour, for the site and, per service, of the counters serving it (the
  site's current counters); null when the day log holds no counter state at all (days
  recorded before counter changes were);
- ``arrivals_per_counter`` is ``issued`` divided by the unrounded ``counters_open``; null
  when counters were open less than 5 counter-minutes in the hour (one minute open would
  read as 60 times the arrivals).

The current hour of today counts up to ``now`` only. On a day the clocks change, an hour
that happens twice is one row.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from queueing.estimate.daystats import summary
from queueing.openings import day_window, is_counter_record, local_ms, overlap, spans

MIN_OPEN_MS = 5 * 60_000  # counter-minutes in an hour below which arrivals per counter is null


@dataclass(slots=True)
class _Cell:
    issued: int = 0
    called: int = 0
    served: int = 0
    no_shows: int = 0
    waits_s: list[float] = field(default_factory=list)
    open_ms: int = 0

    def empty(self) -> bool:
        return not (self.issued or self.called or self.served or self.no_shows or self.open_ms)

    def to_dict(self, length_ms: int, known: bool) -> dict[str, Any]:
        ctrs = self.open_ms / length_ms if known and length_ms else None
        # Per counter open, from the unrounded mean; too little open time says nothing.
        per = (round(self.issued / ctrs, 2) if ctrs and self.open_ms >= MIN_OPEN_MS
               else None)
        return {"issued": self.issued, "called": self.called, "served": self.served,
                "no_shows": self.no_shows, "wait_s": summary(self.waits_s),
                "counters_open": None if ctrs is None else round(ctrs, 2),
                "arrivals_per_counter": per}


class _Hours:
    """The local hours of a day, ``[lo, hi)`` each, cut at the window's end."""

    def __init__(self, day: str, timezone: str, window: tuple[int, int]) -> None:
        self.rows: list[tuple[int, int, int]] = []
        for h in range(24):
            lo, hi = local_ms(day, h, timezone), min(local_ms(day, h + 1, timezone), window[1])
            if hi > lo and (not self.rows or lo >= self.rows[-1][2]):
                self.rows.append((h, lo, hi))
        self.starts = [lo for _, lo, _ in self.rows]

    def index(self, t: int) -> int | None:
        i = bisect.bisect_right(self.starts, t) - 1
        return i if i >= 0 and t < self.rows[i][2] else None


def by_hour(records: list[dict[str, Any]], day: str, timezone: str,
            counters: dict[str, list[str]], start: dict[str, str], now: int | None = None
            ) -> dict[str, Any]:
    """The day's hours that saw a ticket or an open counter, and the ones between them.

    ``counters``: each counter's services (the site's configuration); ``start``: each
    counter's state when the day began, where known (``openings.states_at_start``);
    ``now``: today's figures stop there.
    """
    window = day_window(day, timezone, now)
    hours = _Hours(day, timezone, window)
    cells: dict[tuple[int, str], _Cell] = defaultdict(_Cell)  # (hour index, service or "")
    after = {"called": 0, "served": 0, "no_shows": 0}

    def add(t: int, svc: str, what: str, wait: float | None = None) -> None:
        i = hours.index(t)
        if i is None:
            if t >= window[1] and what in after:
                after[what] += 1
            return
        for key in ((i, ""), (i, svc)):
            if wait is None:
                setattr(cells[key], what, getattr(cells[key], what) + 1)
            else:
                cells[key].waits_s.append(wait)

    for r in records:
        k, svc = r.get("k"), r.get("s") or ""
        if k == "i":
            add(r["t"], svc, "issued")
        elif k == "c":
            add(r["t"], svc, "called")
            add(r["i"], svc, "waits_s", (r["t"] - r["i"]) / 1000)
        elif k == "d":
            add(r["b"], svc, "served")
        elif k == "n":
            add(r["b"] or r["a"], svc, "no_shows")
    known = bool(start) or any(is_counter_record(r) for r in records)
    for s in spans(records, start, window):
        if s.state != "open":
            continue
        for i, (_, lo, hi) in enumerate(hours.rows):
            ms = overlap(s, lo, hi)
            for svc in ["", *counters.get(s.counter, [])] if ms else ():
                cells[(i, svc)].open_ms += ms
    return {"date": day, "timezone": timezone, "hours": _rows(hours, cells, known),
            "after_day": after}


def _rows(hours: _Hours, cells: dict[tuple[int, str], _Cell], known: bool
          ) -> list[dict[str, Any]]:
    used = [i for i in range(len(hours.rows)) if not cells.get((i, ""), _Cell()).empty()]
    if not used:
        return []
    out = []
    for i in range(used[0], used[-1] + 1):
        h, lo, hi = hours.rows[i]
        services = sorted(svc for (j, svc) in cells if j == i and svc)
        out.append({"hour": h, "start_ms": lo, "minutes": round((hi - lo) / 60_000, 1)}
                   | cells.get((i, ""), _Cell()).to_dict(hi - lo, known)
                   | {"services": {svc: cells[(i, svc)].to_dict(hi - lo, known)
                                   for svc in services}})
    return out
