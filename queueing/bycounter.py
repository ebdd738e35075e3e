"""A day by counter and by member of staff: served, absent, service times, busy share (pure).

Built from one local day's day-log records (queueing/daylog.py): the tickets issued that day
and the counters' state changes of that day.

Per counter: ``calls`` (first calls, calls after a transfer, and calls of a ticket a no-show
sent back to the queue or that was parked: each a call at that counter), ``served``, ``no_shows``
(terminal), ``service_s`` (n, mean, median: from the call, or from start when the agent
pressed it, to completion), ``open_s`` and ``paused_s`` (time in each state within the day,
up to ``now`` today), ``handed_on`` (tickets transferred or parked from the counter,
with the time it had them: from the last call, or start, to the transfer or park),
``busy_s`` (the sum of the service times and of those times; records from before the day
log kept the latter count none) and ``busy_share`` =
``busy_s / open_s`` (null when the counter was never open). A ticket served while its
counter was paused is busy time outside open time, so a share can pass 1. A counter whose
state that day is unknown (``start`` does not name it and it has no record that day: days
before the day log kept counter changes) has null ``open_s``, ``paused_s`` and share.

Per member of staff (``staff``: the subject of the token that called, completed or marked
absent; records from before the day log kept it have none, and are under ``null``):
``calls``, ``served``, ``no_shows``, ``handed_on``, ``service_s``, ``busy_s`` and the
counters used.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from queueing.daylog import CALL_KINDS
from queueing.openings import day_window, is_counter_record, spans


@dataclass(slots=True)
class _Tally:
    calls: int = 0
    served: int = 0
    no_shows: int = 0
    service_s: list[float] = field(default_factory=list)
    handed_on_s: list[float] = field(default_factory=list)
    counters: set[str] = field(default_factory=set)

    def add(self, r: dict[str, Any]) -> None:
        k = r.get("k")
        if k in CALL_KINDS:
            self.calls += 1
        elif k == "d":
            self.served += 1
            self.service_s.append(max(0, r["b"] - r["a"]) / 1000)
        elif k == "n":
            self.no_shows += 1
        elif k in _HANDED_ON:
            self.handed_on_s.append(max(0, r["b"] - r["a"]) / 1000)
        if r.get("ctr"):
            self.counters.add(r["ctr"])

    def figures(self) -> dict[str, Any]:
        v = self.service_s
        busy = round(sum(v) + sum(self.handed_on_s), 1)
        return {"calls": self.calls, "served": self.served, "no_shows": self.no_shows,
                "handed_on": len(self.handed_on_s),
                "service_s": {"n": len(v), "mean": round(statistics.fmean(v), 1) if v else None,
                              "median": round(statistics.median(v), 1) if v else None},
                "busy_s": busy}


_HANDED_ON = ("t", "h")  # transferred or parked from a counter, with its time there


def _tallied(r: dict[str, Any]) -> bool:
    k = r.get("k")
    return k in CALL_KINDS or k in ("d", "n") or (k in _HANDED_ON and "a" in r and "b" in r)


def by_counter(records: list[dict[str, Any]], day: str, timezone: str, order: list[str],
               start: dict[str, str], now: int | None = None) -> dict[str, Any]:
    """One row per counter that was open or paused, called or served that day; in ``order``
    (the site's counters) first, then any other (a counter since removed)."""
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for r in records:
        if _tallied(r) and r.get("ctr"):
            tallies[r["ctr"]].add(r)
    time: dict[str, dict[str, int]] = defaultdict(lambda: {"open": 0, "paused": 0})
    for s in spans(records, start, day_window(day, timezone, now)):
        if s.state != "closed":
            time[s.counter][s.state] += s.end - s.start
    seen = set(tallies) | {c for c, t in time.items() if t["open"] or t["paused"]}
    known = set(start) | {r["ctr"] for r in records if is_counter_record(r)}
    ids = [c for c in order if c in seen] + sorted(seen - set(order))
    rows = []
    for c in ids:
        f = tallies[c].figures()
        if c not in known:  # no state at all: how long it was open is unknown, not 0
            rows.append({"counter": c} | f | dict.fromkeys(("open_s", "paused_s", "busy_share")))
            continue
        open_s, paused_s = time[c]["open"] / 1000, time[c]["paused"] / 1000
        share = round(f["busy_s"] / open_s, 3) if open_s else None
        rows.append({"counter": c} | f | {"open_s": round(open_s, 1),
                                          "paused_s": round(paused_s, 1),
                                          "busy_share": share})
    return {"date": day, "counters": rows}


def by_staff(records: list[dict[str, Any]], day: str) -> dict[str, Any]:
    """One row per staff subject that called, completed or marked absent (null: unknown)."""
    tallies: dict[str | None, _Tally] = defaultdict(_Tally)
    for r in records:
        if _tallied(r):
            tallies[r.get("u") or None].add(r)
    keys = sorted(tallies, key=lambda u: (u is None, u or ""))
    return {"date": day, "staff": [
        {"staff": u} | tallies[u].figures() | {"counters": sorted(tallies[u].counters)}
        for u in keys]}
