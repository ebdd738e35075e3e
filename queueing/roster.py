"""Known future changes of the counters: planned shifts, as the estimator's roster. Pure."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from queueing.dayclose import next_cutoff
from queueing.estimate import RosterChange
from queueing.model import SiteConfig

HORIZON_MS = 12 * 3_600_000


def roster_changes(cfg: SiteConfig, now_ms: int, horizon_ms: int = HORIZON_MS
                   ) -> tuple[RosterChange, ...]:
    """Shift starts (open) and ends (close) of every counter within the horizon, in order.

    Shifts are local wall-clock times repeated daily; a shift ending at or before its start
    runs past midnight. Only changes after ``now_ms`` are listed, so a counter inside one of
    its shifts has that shift's end as its first change: the estimator reads that as "on
    shift", and a closed one as due to open soon, not at its next start (predictor.DUE_S).

    Nothing past the site's next ``day_close``: a ticket open now is closed then, so a shift
    starting the next morning serves none of today's. (At 22:53 with every counter closed
    for the night, a ticket was told "about 588 min, counters on a break, you keep your
    place" and then cancelled at 03:00.)
    """
    if cfg.policy.day_close:
        horizon_ms = min(horizon_ms,
                         next_cutoff(cfg.policy.day_close, cfg.timezone, now_ms) - now_ms)
    tz = ZoneInfo(cfg.timezone)
    today = datetime.fromtimestamp(now_ms / 1000, tz).date()
    out: list[RosterChange] = []
    for c in cfg.counters:
        for day in (today - timedelta(days=1), today, today + timedelta(days=1)):
            for start, end in c.shifts:
                a = _at(day, start, tz)
                # local time of the next local day, whatever its length (23 or 25 hours)
                b = _at(day + timedelta(days=1) if end <= start else day, end, tz)
                for at, is_open in ((a, True), (b, False)):
                    if now_ms < at <= now_ms + horizon_ms:
                        out.append(RosterChange(at, c.id, is_open))
    out.sort(key=lambda r: (r.at_ms, r.counter, r.open))
    return tuple(out)


def shift_starts(cfg: SiteConfig, now_ms: int) -> dict[str, int]:
    """Each counter inside one of its shifts at ``now_ms``: when that shift began (epoch ms).

    A counter closed since then is late opening; how late says how soon it is likely to
    open (``predictor.due_delay``).
    """
    tz = ZoneInfo(cfg.timezone)
    today = datetime.fromtimestamp(now_ms / 1000, tz).date()
    out: dict[str, int] = {}
    for c in cfg.counters:
        for day in (today - timedelta(days=1), today):
            for start, end in c.shifts:
                a = _at(day, start, tz)
                b = _at(day + timedelta(days=1) if end <= start else day, end, tz)
                if a <= now_ms < b:
                    out[c.id] = max(out.get(c.id, a), a)
    return out


def _at(day: date, hhmm: str, tz: ZoneInfo) -> int:
    h, m = map(int, hhmm.split(":"))
    local = datetime(day.year, day.month, day.day, h, m, tzinfo=tz)
    return int(local.timestamp() * 1000)
