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

from datetime import date as Date
from datetime import timedelta
from typing import Any, Protocol

from queueing.bycounter import by_counter, by_staff
from queueing.byhour import by_hour
from queueing.errors import BadRequest
from queueing.model import SiteConfig
from queueing.openings import day_window, states_at_start
from realtime.auth import Principal

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

    async def records(self, day: str) -> list[dict[str, Any]]:
        """The records of ``day``."""

    async def end_states(self, day: str) -> dict[str, str]:
        """Each counter's state after the last change recorded on ``day``."""

    async def live(self) -> dict[str, tuple[str, int]]:
        """Each counter's state now, and since when (ms)."""


async def view(src: DaySource, cfg: SiteConfig, day: str, by: str, now: int) -> dict[str, Any]:
    """One view of ``day`` (a local date), up to ``now``."""
    records = await src.records(day)
    if by == "staff":
        return by_staff(records, day)
    before = (Date.fromisoformat(day) - timedelta(1)).isoformat()
    start = states_at_start(await src.end_states(before), records, await src.live(),
                            day_window(day, cfg.timezone)[0])
    if by == "hour":
        counters = {c.id: list(c.services) for c in cfg.counters}
        return by_hour(records, day, cfg.timezone, counters, start, now)
    return by_counter(records, day, cfg.timezone, [c.id for c in cfg.counters], start, now)


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
