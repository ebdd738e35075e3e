"""Issuing hours: when self-service channels may take a ticket at a site. Pure.

A site's ``policy.hours`` (``IssuingHours``, queueing/model.py) gives per weekday the
intervals in which tickets are issued, in the site's local time, the dates on which none is
(holidays, each with an optional name), and per service a week of its own (a service whose
last ticket is earlier than the site's): a service issues when both the site's week and its
own do. No ``policy.hours``: always open (every site made before it keeps working).

Times are wall-clock times of the site's zone, read as the booking schedule reads its
sessions (queueing/booking/schedule.py): an interval opens when the clock first shows its
start (in the spring-forward gap: at the jump over it) and closes when the clock shows its
end for the last time (in the repeated hour of a fall-back: the second time). An interval
whose end is earlier than its start runs past midnight into the next day; it belongs to the
day it starts on, so a closed date removes the intervals starting that day. Intervals that
meet (Monday until "24:00", Tuesday from "00:00") are one.

Who the hours bind is the engine's choice (``Engine.issue``): every channel but ``window``
(staff issuing for someone at the desk), unless its caller says the ticket is staff's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from queueing.booking.model import WEEKDAYS, minutes
from queueing.booking.schedule import instants, local_date, passes
from queueing.errors import BadRequest, ServiceClosed, SiteClosed
from queueing.model import IssuingHours, Name, SiteConfig, Week

# How far ahead ``next_open`` is looked for: a site closed for longer says null.
HORIZON_DAYS = 366
ALL_DAY = [("00:00", "24:00")]


@dataclass(frozen=True, slots=True)
class Status:
    """Whether tickets are issued at ``now``, and the times around it (epoch ms)."""

    open_now: bool
    closes_at: int | None  # open now: when it closes (None: not within the horizon)
    next_open: int | None  # the next opening after now (None: none within the horizon)
    today: list[tuple[str, str]] = field(default_factory=list)  # today's intervals, local
    closed_note: Name | None = None  # today is a closed date with this name


def check(cfg: SiteConfig) -> None:
    """Refuse hours that cannot mean anything: an empty interval, a closed date that is no
    date, a service's week for a service the site does not have."""
    h = cfg.policy.hours
    if h is None:
        return
    weeks: list[tuple[str, Week]] = [("policy.hours.week", h.week or {})]
    known = {s.id for s in cfg.services}
    for sid, week in h.services.items():
        if sid not in known:
            raise BadRequest(f"policy.hours.services names unknown service {sid!r}",
                             field="policy.hours.services", service=sid)
        weeks.append((f"policy.hours.services.{sid}", week))
    for where, week in weeks:
        for day, spans in week.items():
            for a, b in spans:
                if a == b:
                    raise BadRequest(f"{where}.{day}: an interval from {a} until {b} is empty "
                                     "(a whole day is 00:00 until 24:00)", field=where)
    for c in h.closed:
        try:
            date.fromisoformat(c.date)
        except ValueError:
            raise BadRequest(f"policy.hours.closed: {c.date!r} is no date",
                             field="policy.hours.closed") from None


def _day_spans(week: Week | None, day: date, tz: ZoneInfo) -> list[tuple[int, int]]:
    """The epoch-ms intervals of ``week`` starting on local ``day``."""
    out = []
    for a, b in _listed(week, day):
        start, end = minutes(a), minutes(b)
        if end <= start:
            end += 1440  # past midnight
        shown = instants(day, start, tz)
        at = shown[0] if shown else passes(day, start, tz)
        until = passes(day, end, tz)
        if at < until:
            out.append((at, until))
    return out


def _listed(week: Week | None, day: date) -> list[tuple[str, str]]:
    """The intervals ``week`` lists for ``day``'s weekday (None: all day)."""
    if week is None:
        return list(ALL_DAY)
    return next((list(v) for k, v in week.items() if k == WEEKDAYS[day.weekday()]), [])


def _closed_on(h: IssuingHours, day: date) -> bool:
    text = day.isoformat()
    return any(c.date == text for c in h.closed)


def _spans(h: IssuingHours, service: str | None, day: date, tz: ZoneInfo
           ) -> list[tuple[int, int]]:
    """Where the site (and ``service``, if it has its own week) issues, for the intervals
    starting on ``day``."""
    if _closed_on(h, day):
        return []
    site = _day_spans(h.week, day, tz)
    own = h.services.get(service or "")
    if own is None:
        return site
    # A service issues when both do: the intersection with the site's intervals of this day
    # and of the days around it (an interval past midnight meets the next day's).
    around = [s for d in (-1, 0, 1) if not _closed_on(h, day + timedelta(days=d))
              for s in _day_spans(h.week, day + timedelta(days=d), tz)]
    return [(max(a, c), min(b, e)) for a, b in _day_spans(own, day, tz)
            for c, e in around if max(a, c) < min(b, e)]


def _merged(h: IssuingHours, service: str | None, first: date, days: int, tz: ZoneInfo
            ) -> list[tuple[int, int]]:
    spans = sorted(s for d in range(days) for s in _spans(h, service, first + timedelta(d), tz))
    out: list[tuple[int, int]] = []
    for a, b in spans:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def status(cfg: SiteConfig, now_ms: int, service: str | None = None) -> Status:
    """Whether ``service`` (None: the site) issues tickets at ``now_ms``."""
    h = cfg.policy.hours
    if h is None:
        return Status(True, None, None, list(ALL_DAY))
    tz = ZoneInfo(cfg.timezone)
    today = local_date(now_ms, tz)
    week = h.services.get(service or "", h.week)
    closed = next((c for c in h.closed if c.date == today.isoformat()), None)
    listed = [] if closed else _listed(week, today)
    found = _find(h, service, today, 8, tz, now_ms)
    if found is None or (found[0] and found[1] is None) or (not found[0] and found[2] is None):
        found = _find(h, service, today, HORIZON_DAYS, tz, now_ms) or (False, None, None)
    open_now, closes_at, next_open = found
    return Status(open_now, closes_at, next_open, [(a, b) for a, b in listed],
                  closed.name if closed else None)


def _find(h: IssuingHours, service: str | None, today: date, days: int, tz: ZoneInfo,
          now_ms: int) -> tuple[bool, int | None, int | None] | None:
    """(open now, closes at, next opening) from the intervals of ``days`` days from the day
    before ``today`` (whose interval may run past midnight). A close at the last day's end
    is unknown (None): the next day may go on."""
    spans = _merged(h, service, today - timedelta(days=1), days + 1, tz)
    horizon = passes(today, (days + 1) * 1440, tz)
    for i, (a, b) in enumerate(spans):
        if a <= now_ms < b:
            nxt = spans[i + 1][0] if i + 1 < len(spans) else None
            return True, (b if b < horizon else None), nxt
        if a > now_ms:
            return False, None, a
    return None


def refusal(cfg: SiteConfig, service: str, now_ms: int) -> SiteClosed | None:
    """Why a self-service ticket for ``service`` cannot be taken at ``now_ms``: the site
    does not issue now (``SiteClosed``), or it does but the service does not
    (``ServiceClosed``); None: it can. Either says when the service opens next."""
    if cfg.policy.hours is None:
        return None
    mine = status(cfg, now_ms, service)
    if mine.open_now:
        return None
    site = status(cfg, now_ms) if service in cfg.policy.hours.services else mine
    details = {"service": service, **when(cfg, mine.next_open)}
    if site.closed_note is not None:
        details["closed_note"] = site.closed_note
    if site.open_now:
        return ServiceClosed(f"service {service} issues no ticket now"
                             + _opens(details), **details)
    return SiteClosed("the site issues no ticket now" + _opens(details), **details)


def _opens(details: dict[str, Any]) -> str:
    local = details.get("next_open_local")
    if not local:
        return ""
    return f"; it opens {local['weekday']} {local['date']} at {local['time']}"


def when(cfg: SiteConfig, at_ms: int | None) -> dict[str, Any]:
    """``next_open`` as the wire says it: ISO 8601 with the site's offset, and the local
    date, weekday and time a page or a text shows."""
    if at_ms is None:
        return {"next_open": None, "timezone": cfg.timezone}
    local = datetime.fromtimestamp(at_ms / 1000, ZoneInfo(cfg.timezone))
    return {"next_open": local.isoformat(timespec="seconds"), "next_open_ms": at_ms,
            "next_open_local": {"date": local.date().isoformat(),
                                "weekday": WEEKDAYS[local.weekday()],
                                "time": local.strftime("%H:%M")},
            "timezone": cfg.timezone}


def view(cfg: SiteConfig, now_ms: int) -> dict[str, Any]:
    """What ``GET /v1/sites/{site}/hours`` answers: the site's status now and each service's
    that has its own week (``configured`` false: the site has no hours, always open)."""
    def one(service: str | None) -> dict[str, Any]:
        s = status(cfg, now_ms, service)
        tz = ZoneInfo(cfg.timezone)
        closes = (datetime.fromtimestamp(s.closes_at / 1000, tz).isoformat(timespec="seconds")
                  if s.closes_at is not None else None)
        out = {"open_now": s.open_now, "closes_at": closes,
               **{k: v for k, v in when(cfg, s.next_open).items() if k != "timezone"},
               "today": [list(i) for i in s.today]}
        if s.closed_note is not None:
            out["closed_note"] = s.closed_note
        return out

    h = cfg.policy.hours
    return {"configured": h is not None, "timezone": cfg.timezone,
            "date": local_date(now_ms, ZoneInfo(cfg.timezone)).isoformat(), **one(None),
            "services": {sid: one(sid) for sid in (h.services if h else {})}}
