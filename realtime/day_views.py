"""The day by hour, by counter and by staff: ``?by=`` on ``GET /v1/sites/{site}/stats`` and
``GET /v1/sites/{site}/report.csv`` (docs/reports.md).

Reads a local day's day log, the day before's counter changes and the counters' live state
(the state each counter was in at midnight: ``queueing.openings.states_at_start``), and hands
them to the pure ``queueing.byhour`` / ``queueing.bycounter``.
Who may ask: ``hour`` as the day's figures (stats: agents, supervisors, displays, kiosks;
CSV: agents, supervisors); ``counter`` agents and supervisors (a counter's pace is staff
business, not the waiting room's); ``staff`` supervisors and admins only, because it names
staff tokens, like the audit trail.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import hashlib
import sys
from collections.abc import Callable, Coroutine, Hashable
from concurrent.futures import ThreadPoolExecutor
from datetime import date as Date
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import msgspec

from queueing.bycounter import by_counter, by_staff
from queueing.byhour import by_hour
from queueing.daylog import taken_back
from queueing.errors import BadRequest
from queueing.model import SiteConfig
from queueing.numbering import local_day
from queueing.openings import STATES, day_window, states_at_start
from realtime.auth import Principal

T = TypeVar("T")

VIEWS = ("hour", "counter", "staff")
ROLES = {"hour": ("agent", "supervisor", "display", "kiosk"), "counter": ("agent", "supervisor"),
         "staff": ("supervisor",)}


def parse_by(raw: str | None) -> str | None:
    """``by`` as asked (None: the day's figures as before); anything else is a bad request."""
    if raw is None or raw == "":
        return None
    if raw not in VIEWS:
        raise BadRequest("by is hour, counter or staff", field="by", allowed=list(VIEWS))
    return raw


def require(p: Principal, by: str, site: str, roles: tuple[str, ...]) -> None:
    """The endpoint's roles (``roles``) that may also read this view."""
    p.require(*[r for r in roles if r in ROLES[by]], site=site)


class DaySource(Protocol):
    """A site's day log as the views read it (realtime/stats.py ``DayLog``)."""

    site: str

    async def length(self, day: str) -> int:
        """How many records ``day`` has (the recorder only appends)."""

    async def rows(self, day: str, n: int) -> list[bytes]:
        """The first ``n`` records of ``day``, encoded."""

    async def end_states(self, day: str) -> dict[str, str]:
        """Each counter's state after the last change recorded on ``day``."""

    async def live(self) -> dict[str, tuple[str, int]]:
        """Each counter's state now, and since when (ms)."""

    async def kept(self, day: str, by: str) -> Any:
        """What ``keep`` kept for ``day``'s view ``by``, if anything."""

    async def keep(self, day: str, by: str, value: Any) -> None:
        """Keep ``value`` for ``day``'s view ``by`` (as long as the day's records live)."""


async def view(src: DaySource, cfg: SiteConfig, day: str, by: str, now: int) -> dict[str, Any]:
    """One view of ``day`` (a local date), up to ``now`` (``computed``: off the event loop,
    and a past day's kept while what it is computed from stays the same)."""
    past = day < local_day(now, cfg.timezone)
    if by == "staff":
        n = await src.length(day)
        return await computed(src, day, by, past, [n], n, by_staff, day)
    before = (Date.fromisoformat(day) - timedelta(1)).isoformat()
    # Lengths first: the states and records read after them are at least as new, so what is
    # kept is never older than its stamp says (a record landing meanwhile: computed again).
    n, n_before = await src.length(day), await src.length(before)
    start_ms = day_window(day, cfg.timezone)[0]
    live = {c: v for c, v in (await src.live()).items()
            if v[0] in STATES.values() and v[1] < start_ms}  # what states_at_start uses
    # Once for requests alike (``once``): the day before's last states read its records
    # when nothing is kept. Keyed by its length as read above, so what is joined is as new.
    states = await once((src.site, "end", before, n_before), lambda: src.end_states(before))
    counters = {c.id: list(c.services) for c in cfg.counters}
    # A past day's view changes only with its records, the day before's (its closing counter
    # states), a counter untouched since before the day began, or the site's counters.
    inputs = [n, n_before, sorted((c, s) for c, (s, _) in live.items()), cfg.timezone,
              list(counters.items())]
    return await computed(src, day, by, past, inputs, n, _view, by, day, cfg.timezone,
                          counters, states, live, start_ms, now)


def _view(records: list[dict[str, Any]], by: str, day: str, timezone: str,
          counters: dict[str, list[str]], before: dict[str, str],
          live: dict[str, tuple[str, int]], start_ms: int, now: int) -> dict[str, Any]:
    start = states_at_start(before, records, live, start_ms)
    if by == "hour":
        return by_hour(records, day, timezone, counters, start, now)
    return by_counter(records, day, timezone, list(counters), start, now)


async def computed(src: DaySource, day: str, by: str, past: bool, inputs: list[Any], n: int,
                   fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """``fn(records, *args)`` of ``day``'s first ``n`` records, decoded and computed in the
    day views' worker thread (``off_loop``).

    A past day (before the site's local today) is kept (``src.keep``) with a digest of
    ``inputs`` — everything the view depends on besides ``fn``: the record counts the
    records were read to, and so on — and served from there while they are the same: the
    recorder only appends, so a late record changes a count and the day is computed again.
    Requests for the same past day's view with the same digest meanwhile share one reading
    and computation (``once``).
    """
    if not past:  # today: depends on the moment asked (``now``), computed each time
        return await _compute(src, day, n, fn, args)
    stamp = hashlib.blake2b(msgspec.json.encode([code(), inputs]),
                            digest_size=12).hexdigest()
    return dict(await once((src.site, day, by, stamp),
                           lambda: _kept_or_computed(src, day, by, stamp, n, fn, args)))


async def _compute(src: DaySource, day: str, n: int, fn: Callable[..., dict[str, Any]],
                   args: tuple[Any, ...]) -> dict[str, Any]:
    rows = await src.rows(day, n)
    return await off_loop(len(rows), decoded, fn, rows, *args)


async def _kept_or_computed(src: DaySource, day: str, by: str, stamp: str, n: int,
                            fn: Callable[..., dict[str, Any]], args: tuple[Any, ...]
                            ) -> dict[str, Any]:
    kept = await src.kept(day, by)
    if isinstance(kept, dict) and kept.get("stamp") == stamp:
        return dict(kept["view"])
    v = await _compute(src, day, n, fn, args)
    await src.keep(day, by, {"stamp": stamp, "n": n, "view": v})
    return v


_flights: dict[Hashable, asyncio.Task[Any]] = {}


async def once(key: Hashable, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``make()``, awaited once however many ask for ``key`` meanwhile (single flight): two
    managers opening last week at once, or a report and a view of the same day, compute it
    once. The computation is a task of its own, so a waiter that goes away (a closed
    connection) neither cancels it for the others nor stops it being kept; its failure is
    every waiter's (the same exception), and it is forgotten with the flight: nothing is
    kept, and the next request computes again.

    In this process only. Server processes (``--workers``) sharing a Redis may each compute
    the same day once: at most one computation per process, each on its own core and GIL,
    and the same result written twice. A Redis lock would save that CPU but make every
    other process poll for the result, and wait out the lock's expiry when the process
    holding it dies mid-computation."""
    loop = asyncio.get_running_loop()
    task = _flights.get(key)
    if task is None or task.get_loop() is not loop:
        task = _flights[key] = loop.create_task(make())
        task.add_done_callback(functools.partial(_landed, key))
    return cast(T, await asyncio.shield(task))


def _landed(key: Hashable, task: asyncio.Task[Any]) -> None:
    if _flights.get(key) is task:
        del _flights[key]
    if not task.cancelled():
        task.exception()  # the waiters raise it; no "never retrieved" log if all had left


@functools.cache
def code() -> str:
    """A digest of the code that computes the views and the day's figures: a release that
    changes how a figure is counted computes the kept days again rather than serving what
    the one before it computed."""
    import queueing.bycounter
    import queueing.byhour
    import queueing.daylog
    import queueing.estimate.accuracy
    import queueing.estimate.daystats
    import queueing.openings
    import realtime.stats
    h = hashlib.blake2b(digest_size=12)
    for m in (queueing.bycounter, queueing.byhour, queueing.daylog, queueing.estimate.accuracy,
              queueing.estimate.daystats, queueing.openings, realtime.stats, sys.modules[__name__]):
        h.update(Path(m.__file__).read_bytes() if m.__file__ else m.__name__.encode())
    return h.hexdigest()


_dec = msgspec.json.Decoder()
OFF_LOOP = 2_000  # fewer rows are decoded and computed on the loop (about a millisecond)


def decode_rows(rows: list[bytes]) -> list[dict[str, Any]]:
    """The records ``rows`` hold. One call per row: as fast as one call for the day as a
    JSON array (60,000 rows: 75-100 ms CPU either way with msgspec 0.23; building the dicts
    is the cost), and a thread decoding row by row hands the GIL to the event loop within
    5 ms, while msgspec holds it through one buffer."""
    return taken_back([_dec.decode(r) for r in rows])


def decoded(fn: Callable[..., T], rows: list[bytes], *args: Any) -> T:
    """``fn`` of the records ``rows`` hold, with the cyclic garbage collector paused: the
    day's tens of thousands of dicts would set off full passes over the whole heap, each one
    holding the GIL — and so the event loop — for 100 ms and more (a pass cannot be
    interrupted). The records are freed (they hold no cycles) before it resumes, a slice at
    a time: freeing 60,000 at once holds the GIL for ~20 ms."""
    paused = gc.isenabled()
    gc.disable()
    records: list[dict[str, Any]] = []
    try:
        records = decode_rows(rows)
        return fn(records, *args)
    finally:
        while records:
            del records[-2_000:]
        if paused:
            gc.enable()


_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="day-views")


async def off_loop(size: int, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in the day views' worker thread when ``size`` (rows) makes it worth it,
    else here. The event loop — every websocket of the process — keeps being served: the
    interpreter hands the GIL over every 5 ms (``sys.getswitchinterval``). One thread: a
    report of many days queues its days, rather than several threads taking turns with the
    loop for the GIL."""
    if size < OFF_LOOP:
        return fn(*args)
    return await asyncio.get_running_loop().run_in_executor(_worker, functools.partial(fn, *args))


# CSV layouts, one per view (docs/reports.md). ``service`` "*" is the whole site.
COLUMNS = {
    "hour": ("date", "hour", "service", "issued", "called", "served", "no_shows", "waits",
             "wait_mean_s", "wait_p90_s", "counters_open", "arrivals_per_counter"),
    "counter": ("date", "counter", "calls", "served", "no_shows", "service_n",
                "service_mean_s", "service_median_s", "open_s", "paused_s", "busy_s",
                "busy_share"),
    "staff": ("date", "staff", "calls", "served", "no_shows", "service_n", "service_mean_s",
              "service_median_s", "busy_s", "counters"),
}


def csv_rows(by: str, day: str, v: dict[str, Any]) -> list[list[Any]]:
    """The rows of one day's view ``v``, in ``COLUMNS[by]`` order (cells not yet escaped)."""
    if by == "hour":
        return [_hour_row(day, h["hour"], svc, f) for h in v["hours"]
                for svc, f in [("*", h), *sorted(h["services"].items())]]
    key, extra = ("counter", ("open_s", "paused_s", "busy_s", "busy_share")) if by == "counter" \
        else ("staff", ("busy_s", "counters"))
    rows = []
    for r in v["counters" if by == "counter" else "staff"]:
        s = r["service_s"]
        rows.append([day, r[key], r["calls"], r["served"], r["no_shows"], s["n"], s["mean"],
                     s["median"]] + [" ".join(r[x]) if x == "counters" else r[x] for x in extra])
    return rows


def _hour_row(day: str, hour: int, svc: str, f: dict[str, Any]) -> list[Any]:
    w = f["wait_s"]
    return [day, f"{hour:02d}:00", svc, f["issued"], f["called"], f["served"], f["no_shows"],
            w["n"], w["mean"], w["p90"], f["counters_open"], f["arrivals_per_counter"]]
