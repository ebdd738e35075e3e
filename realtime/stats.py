"""The day's accuracy and operations per site and service.

``StatsRecorder`` runs in every server process: it reads each site's event stream through
the consumer group ``stats`` and appends day-log and audit records exactly once
(queueing/daylog.py, queueing/audit.py, queueing/lua/record.lua); entries a crashed
process left pending are claimed after a minute.
``GET /v1/sites/{site}/stats?date=YYYY-MM-DD`` rebuilds the day from its records with the
pure ``AccuracyTracker`` and ``DayStats``.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import os
import socket
import time
from datetime import date as Date
from datetime import timedelta
from typing import Any

import msgspec
from redis.exceptions import RedisError, ResponseError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from queueing import keys
from queueing.audit import audit_for, score
from queueing.daylog import KEEP_DAYS, announced, record_for
from queueing.engine import Engine
from queueing.errors import BadRequest, SwitchboardError
from queueing.estimate import AccuracyTracker, DayStats
from queueing.numbering import local_day
from queueing.openings import states_at_end
from realtime import day_views
from realtime.context import ctx, principal
from realtime.docs import Operation, register
from realtime.hub.entry import decode_entry

log = logging.getLogger("switchboard.stats")
GROUP = "stats"
_dec = msgspec.json.Decoder()


WARN_EVERY_S = 60.0


class StatsRecorder:
    def __init__(self, engine: Engine, interval_s: float = 1.0,
                 audit_keep_days: int = KEEP_DAYS) -> None:
        self.engine = engine
        self.audit_keep_s = audit_keep_days * 86400
        self.redis = engine.store.redis
        self.interval_s = interval_s
        self.consumer = f"{socket.gethostname()}:{os.getpid()}"
        self._groups: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="stats-recorder")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        # A store that stays down (a full disk: every write refused) fails every second:
        # the same warning once a minute at most, with how often it recurred, not 60 lines.
        last: tuple[str, float] | None = None
        repeats = 0
        while True:
            try:
                await self.run_once()
                if last is not None:
                    log.info("stats recorder: recording again")
                    last, repeats = None, 0
            except (RedisError, OSError) as exc:
                msg, now = str(exc), time.monotonic()
                if last is None or last[0] != msg or now - last[1] >= WARN_EVERY_S:
                    more = f" (and {repeats} times more)" if repeats else ""
                    log.warning("stats recorder: %s%s", msg, more)
                    last, repeats = (msg, now), 0
                else:
                    repeats += 1
            except Exception:
                log.exception("stats recorder failed; continuing")
            await asyncio.sleep(self.interval_s)

    async def run_once(self) -> int:
        """Record what is new (and what a dead consumer left); the number of events done."""
        done = 0
        for raw in await self.redis.smembers(keys.SITES):  # type: ignore[misc]
            site = raw.decode()
            try:
                done += await self._site(site)
            except SwitchboardError:
                continue
        return done

    async def record_site(self, site: str) -> int:
        """Record ``site``'s events now (an erasure, before it deletes entries); the number
        done."""
        return await self._site(site)

    async def _site(self, site: str) -> int:
        stream = keys.events(site)
        if site not in self._groups:
            with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists
                await self.redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
            self._groups.add(site)
        tz = (await self.engine.config(site)).timezone
        entries: list[Any] = []
        claimed = await self.redis.xautoclaim(stream, GROUP, self.consumer, 60_000, "0-0",
                                              count=200)
        entries += claimed[1]
        for _, rows in await self.redis.xreadgroup(GROUP, self.consumer, {stream: ">"},
                                                   count=500) or ():
            entries += rows
        for eid, fields in entries:
            if not fields:  # trimmed while pending: nothing left to record
                await self.redis.xack(stream, GROUP, eid)
                continue
            e = decode_entry(eid, fields)
            rec = record_for(e.type, e.data, e.id, tz, ts=e.ts, actor=e.actor)
            audit = audit_for(e.type, e.data, e.id, e.ts, e.actor, e.via, tz)
            args: list[str | int] = (
                [audit[0], score(e.id), msgspec.json.encode(audit[1]).decode()]
                if audit is not None else ["", 0, ""])
            if rec is not None:
                args += [rec[0], msgspec.json.encode(rec[1]).decode()]
            await self.engine.store.run("record", site, 0, "", "", GROUP, e.id,
                                        KEEP_DAYS * 86400, self.audit_keep_s, *args)
        return len(entries)


ROWS_PER_READ = 5_000  # rows of a day's list per LRANGE: each reply parsed in ~2 ms


async def day_rows(redis: Any, key: str, n: int | None = None) -> list[bytes]:
    """The first ``n`` rows of the day list ``key`` (None: all), ``ROWS_PER_READ`` at a
    time, so that no one reply holds the event loop while it is parsed."""
    if n is None:
        n = int(await redis.llen(key))
    rows: list[bytes] = []
    while len(rows) < n:
        got = await redis.lrange(key, len(rows), min(n, len(rows) + ROWS_PER_READ) - 1)
        if not got:  # expired meanwhile
            break
        rows += got
    return rows


async def day_records(engine: Engine, site: str, day: str, n: int | None = None
                      ) -> list[dict[str, Any]]:
    """``day``'s records (the first ``n``: None, all), decoded off the event loop."""
    rows = await day_rows(engine.store.redis, keys.prefix(site) + "daylog:" + day, n)
    return await day_views.off_loop(len(rows), day_views.decode_rows, rows)


def _end_states(rows: list[bytes]) -> dict[str, str]:
    # Counter records have no service ("s": ""): decode those only.
    return states_at_end(day_views.decode_rows([r for r in rows if b'"s":""' in r]))


class DayLog:
    """One site's day log for the day views (``day_views.DaySource``)."""

    def __init__(self, engine: Engine, site: str) -> None:
        self.engine, self.site = engine, site
        self.base = keys.prefix(site)

    async def records(self, day: str, n: int | None = None) -> list[dict[str, Any]]:
        return await day_records(self.engine, self.site, day, n)

    async def rows(self, day: str, n: int) -> list[bytes]:
        return await day_rows(self.engine.store.redis, self.base + "daylog:" + day, n)

    async def length(self, day: str) -> int:
        return int(await self.engine.store.redis.llen(self.base + "daylog:" + day))  # type: ignore[misc]

    async def end_states(self, day: str) -> dict[str, str]:
        """Kept in Redis (``dayend:<day>``) with the length of the day's list they were read
        from: the recorder only appends (queueing/lua/record.lua), so a late record — a
        recorder catching up, a call after midnight of a ticket issued that day — changes
        the length and the states are read again, from the counter records alone."""
        redis, base = self.engine.store.redis, self.base
        pipe = redis.pipeline(transaction=False)
        pipe.llen(base + "daylog:" + day)
        pipe.get(base + "dayend:" + day)
        n, kept = await pipe.execute()
        if kept is not None:
            got = _dec.decode(kept)
            if got.get("n") == n:
                return dict(got["states"])
        rows = await day_rows(redis, base + "daylog:" + day, n)
        states = await day_views.off_loop(len(rows), _end_states, rows)
        await redis.set(base + "dayend:" + day,
                        msgspec.json.encode({"n": len(rows), "states": states}),
                        ex=KEEP_DAYS * 86400)
        return states

    async def kept(self, day: str, by: str) -> Any:
        """What ``keep`` kept for ``day``'s view ``by`` (None: nothing)."""
        raw = await self.engine.store.redis.get(self.base + f"dayview:{day}:{by}")
        return None if raw is None else _dec.decode(raw)

    async def keep(self, day: str, by: str, value: Any) -> None:
        """Keep ``value`` (a past day's view and what it was computed from) as long as the
        day's list lives (``dayview:<day>:<by>``; the list's own expiry, renewed by each
        record: a view is never kept longer than its records)."""
        redis = self.engine.store.redis
        ttl = await redis.pttl(self.base + "daylog:" + day)
        if ttl == -2:  # no records at all: nothing worth keeping
            return
        await redis.set(self.base + f"dayview:{day}:{by}", msgspec.json.encode(value),
                        px=ttl if ttl > 0 else KEEP_DAYS * 86_400_000)

    async def live(self) -> dict[str, tuple[str, int]]:
        ids = [c.id for c in (await self.engine.config(self.site)).counters]
        pipe = self.engine.store.redis.pipeline(transaction=False)
        for c in ids:
            pipe.hmget(keys.prefix(self.site) + "cs:" + c, ["state", "since"])
        out = {}
        for c, (state, since) in zip(ids, await pipe.execute(), strict=True):
            if state and since:
                out[c] = (state.decode(), int(since))
        return out


async def day_summary(src: DayLog, day: str, now: int, timezone: str) -> dict[str, Any]:
    """``summarise`` of ``day``: computed off the event loop, and a past day's kept with
    its records' count (``day_views.computed``)."""
    n = await src.length(day)
    return await day_views.computed(src, day, "day", day < local_day(now, timezone), [n],
                                    n, summarise, day)


def summarise(records: list[dict[str, Any]], day: str) -> dict[str, Any]:
    """Accuracy and operations for one day, from its records (pure)."""
    acc, ops = AccuracyTracker(), DayStats()
    for r in records:
        svc, k = r["s"], r["k"]
        if k == "i":
            ops.issued(svc, day, r.get("c") or "", r.get("p") or "")
        elif k == "c":
            wait = (r["t"] - r["i"]) / 1000
            ops.called(svc, day, wait)
            if r.get("e"):
                acc.observe(svc, day, announced(r["e"]), wait)
        elif k == "x":
            ops.called_again(svc, day)
        elif k == "d":
            ops.served(svc, day, (r["b"] - r["a"]) / 1000)
        elif k == "n":
            ops.no_show(svc, day)
        elif k == "a":
            ops.abandoned(svc, day)
        elif k == "r":
            ops.no_show_returned(svc, day)
        elif k == "z":
            ops.closed_unserved(svc, day)
        elif k == "l":
            ops.cancelled_after_call(svc, day)
        elif k == "t":
            ops.transferred(svc, r.get("f"), day)
    a, o = acc.to_dict(day), ops.to_dict(day)
    services = sorted(set(a["services"]) | set(o["services"]))
    return {"date": day, "accuracy": _unscored(a["all"]), "services": {
        s: {"operations": o["services"].get(s), "accuracy": _unscored(a["services"].get(s))}
        for s in services}}


_METRICS = ("mae_s", "rmse_s", "bias_s", "p_over", "coverage_p10_p90")


def _unscored(acc: dict[str, Any] | None) -> dict[str, Any] | None:
    """No scored estimate is no accuracy: null metrics, not zeros that read as perfect."""
    if acc is None or acc.get("n"):
        return acc
    return acc | dict.fromkeys(_METRICS)


def parse_day(raw: str, field: str = "date") -> str:
    """``raw`` as a calendar date, normalised to ``YYYY-MM-DD`` (the day-log key).

    ``date.fromisoformat`` also takes ``20261205`` and ``2026-W49-6``; those are accepted and
    normalised, anything else is a bad request (naming ``field``).
    """
    try:
        return Date.fromisoformat(raw).isoformat()
    except ValueError as exc:
        raise BadRequest(f"{field} must be YYYY-MM-DD", field=field) from exc


def near(day: Date, today: Date, field: str) -> Date:
    """``day`` if within the last year (to tomorrow), else a bad request naming ``field``.

    The day log keeps 31 days: a year back is generous, and no date is near the calendar's
    ends (where date arithmetic overflows)."""
    if not today - timedelta(366) <= day <= today + timedelta(1):
        raise BadRequest(f"{field} must be within the last year", field=field)
    return day


STATS_ROLES = ("agent", "supervisor", "display", "kiosk")
REPORT_ROLES = ("agent", "supervisor")


async def stats_endpoint(request: Request) -> Response:
    """The day's figures; ``by=hour|counter|staff`` one of its views instead
    (realtime/day_views.py)."""
    site = request.path_params["site"]
    p = principal(request)
    p.require(*STATS_ROLES, site=site)
    by = day_views.parse_by(request.query_params.get("by"))
    if by is not None:
        day_views.require(p, by, site, STATS_ROLES)
    c = ctx(request)
    cfg = await c.engine.config(site)
    day = parse_day(request.query_params.get("date") or local_day(c.engine.clock(),
                                                                  cfg.timezone))
    if by is None:
        body = await day_summary(DayLog(c.engine, site), day, c.engine.clock(),
                                 cfg.timezone) | {"site": site}
    else:
        # A view reads the day before and local hours: keep clear of the calendar's ends.
        today = Date.fromisoformat(local_day(c.engine.clock(), cfg.timezone))
        near(Date.fromisoformat(day), today, "date")
        body = {"site": site, "by": by} | await day_views.view(
            DayLog(c.engine, site), cfg, day, by, c.engine.clock())
    return Response(msgspec.json.encode(body), media_type="application/json")


REPORT_MAX_DAYS = KEEP_DAYS
REPORT_COLUMNS = ("date", "service", "tickets", "called", "served", "wait_mean_s", "wait_p90_s",
                  "service_mean_s", "no_show_rate", "abandon_rate", "transferred_in",
                  "transferred_out", "closed_unserved", "cancelled_after_call", "estimate_mae_s",
                  "estimates_scored")


def report_rows(day: str, summary: dict[str, Any]) -> list[list[Any]]:
    """One CSV row per service of a day's summary (``summarise``), in REPORT_COLUMNS order;
    empty cells where there is nothing to measure (no call: no wait)."""
    rows = []
    for svc, s in sorted(summary["services"].items()):
        o, a = s.get("operations") or {}, s.get("accuracy") or {}
        wait, service = o.get("wait_s") or {}, o.get("service_s") or {}
        rows.append([day, svc, o.get("tickets", 0), o.get("called", 0), service.get("n", 0),
                     wait.get("mean"), wait.get("p90"), service.get("mean"),
                     o.get("no_show_rate"), o.get("abandon_rate"), o.get("transferred_in", 0),
                     o.get("transferred_out", 0), o.get("closed_unserved", 0),
                     o.get("cancelled_after_call", 0), a.get("mae_s"), a.get("n", 0)])
    return [[_cell(v) for v in row] for row in rows]


def _cell(v: Any) -> Any:
    """A CSV cell a spreadsheet shows as written: empty for None, and a text beginning with
    = + - @ (a service id may begin with -) quoted so it is not read as a formula."""
    if v is None:
        return ""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
        return "'" + v
    return v


async def report_endpoint(request: Request) -> Response:
    """``GET /v1/sites/{site}/report.csv?from=YYYY-MM-DD&to=YYYY-MM-DD``: the day log's
    figures per day and service, for a spreadsheet (default: the last 7 days to today; at
    most the 31 days the day log keeps)."""
    site = request.path_params["site"]
    p = principal(request)
    p.require(*REPORT_ROLES, site=site)
    q = request.query_params
    by = day_views.parse_by(q.get("by"))
    if by is not None:
        day_views.require(p, by, site, REPORT_ROLES)
    c = ctx(request)
    cfg = await c.engine.config(site)
    today = Date.fromisoformat(local_day(c.engine.clock(), cfg.timezone))
    last = near(Date.fromisoformat(parse_day(q["to"], "to")) if q.get("to") else today,
                today, "to")
    first = (Date.fromisoformat(parse_day(q["from"], "from")) if q.get("from")
             else last - timedelta(6))
    if first > last or (last - first).days >= REPORT_MAX_DAYS:
        raise BadRequest(f"from..to is 1 to {REPORT_MAX_DAYS} days, from not after to",
                         field="from")
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(REPORT_COLUMNS if by is None else day_views.COLUMNS[by])
    src = DayLog(c.engine, site)
    for i in range((last - first).days + 1):
        iso = (first + timedelta(i)).isoformat()
        if by is None:
            w.writerows(report_rows(iso, await day_summary(src, iso, c.engine.clock(),
                                                           cfg.timezone)))
        else:
            v = await day_views.view(src, cfg, iso, by, c.engine.clock())
            w.writerows([[_cell(x) for x in row] for row in day_views.csv_rows(by, iso, v)])
    name = (f"switchboard-{site}-{first.isoformat()}-{last.isoformat()}"
            f"{'' if by is None else '-by-' + by}.csv")
    # A BOM, so a spreadsheet opened by double-click reads UTF-8 (service ids are ASCII, but
    # a later column may not be).
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})


ROUTES = [Route("/v1/sites/{site}/stats", stats_endpoint, methods=["GET"]),
          Route("/v1/sites/{site}/report.csv", report_endpoint, methods=["GET"])]

register(Operation(
    "get", "/v1/sites/{site}/stats",
    "The day's published wait accuracy (MAE, bias, P(actual > announced), P10-P90 coverage) "
    "and operations per service (tickets by channel and priority, waits mean/p90, service "
    "times, no-show and abandonment rates); `by=hour` (waits by issue hour, open counters), "
    "`by=counter` (agents, supervisors) or `by=staff` (supervisors) instead (docs/reports.md)",
    "agent, supervisor, display or kiosk of the site",
    errors=("bad_request", "forbidden", "unknown_site"), query=("date", "by")),
    Operation(
        "get", "/v1/sites/{site}/report.csv",
        "The day log's figures per day and service as CSV (tickets, called, served, waits, "
        "service times, no-show and abandonment rates, transfers, estimate error), "
        "`from`..`to` (default the last 7 days; at most 31); `by=hour|counter|staff` one CSV "
        "layout per view (staff: supervisors only; docs/reports.md)",
        "agent or supervisor of the site",
        errors=("bad_request", "forbidden", "unknown_site"), query=("from", "to", "by")))
