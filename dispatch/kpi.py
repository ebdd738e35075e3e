"""Dispatch KPIs computed from the event log: pure accumulators fed one event at a time.

- **dispatch response**: job dispatchable → offer accepted (mean, p90), first acceptance
  only. A job is dispatchable when it is created, except one booked for a later day (the
  planner puts it aside until that day's shifts reach its window and stamps it
  ``ahead_ms``): it is dispatchable from the first pass that plans it (its first
  ``offered`` or ``job_unassignable``), so a visit booked a week ahead does not count a
  week of waiting;
- **arrival lateness**: arrival after the window's end (mean over arrivals with a window)
  and the **on-time rate** (arrivals inside their window / arrivals with a window);
- **empty driving**: travel km without an active job (not en route to nor on site at one) /
  all km, from consecutive accepted GPS fixes;
- **utilisation**: on-job time (from the start of service — the arrival, or the window's
  opening if earlier — to completion) / time on shift (online: available, en route, on site,
  on break), summed over technicians; ``utilisation_terms`` gives it as a function of time
  until the next event (the dispatcher console keeps its tile live with it);
- **churn**: jobs moved to another technician / jobs planned, over all published plans
  (and the mean per plan).

Per region, and the job-based ones per organisation, **per local day** (the region's time
zone; an organisation's are its region's): each measure counts on the local day its event
happened — a job created on the day of its creation, a response on the day of the
acceptance, an arrival's lateness on the day of the arrival, a job done / failed / cancelled
on the day it ended, km on the day of the fix, a plan's churn on the day of the plan — and
time on shift and on a job is split at local midnight (a shift from 22:00 to 02:00 gives
two hours to each day; its job finished at 01:00 counts as done on the second). The last
``KEEP_DAYS`` days are kept; an older one is dropped when a newer day first gets an event.

Besides, per organisation, its **jobs due** each local day by their status now (``due``: the
enterprise dashboard's tiles): a job is due on the local day its window ends, or, without a
window, on the day it was created; it moves from status to status (and to another day if its
window is moved) with its events and stays counted, done or cancelled, on its day. Days ahead
are kept as long as jobs are due on them; days before the last ``KEEP_DAYS`` are dropped.

The state is plain data (``to_builtins`` / ``from_builtins``), so the worker keeps a
checkpoint (state + stream offset) and anyone can continue from it with the events after
the offset. A checkpoint written before the days existed (one set of all-time totals) keeps
its open jobs, shifts and positions; its totals, which no day can claim, are dropped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.geo import haversine_m

LOADED = frozenset({"en_route", "on_site"})
ONLINE = frozenset({"available", "en_route", "on_site", "on_break"})
KEEP_DAYS = 35  # today and the 34 days before it
ALL = "all"  # summary(day=ALL): every kept day together (the simulator's whole run)
DAY_MS = 86_400_000


def _p(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _midnight(day: date, zone: ZoneInfo) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp() * 1000)


def _shift(key: str, days: int) -> str:
    return (date.fromisoformat(key) + timedelta(days=days)).isoformat()


def utilisation_at(terms: dict[str, Any], now_ms: int) -> float | None:
    """``Kpis.utilisation_terms`` at a later ``now_ms`` (no event between): the reference of
    the console's ``utilisationAt`` (clients/web/js/dispatch-console-state.js)."""
    dt = max(0, now_ms - terms["at"])

    def ahead(starts: list[int]) -> int:
        return sum(max(0, now_ms - s) for s in starts)

    on = terms["on_ms"] + terms["on_n"] * dt + ahead(terms["on_later"])
    online = terms["online_ms"] + terms["online_n"] * dt + ahead(terms["online_later"])
    return on / online if online else None


def roll_terms(terms: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """``Kpis.utilisation_terms`` for the local day of ``now_ms`` when no event came since
    they were made: past ``day_end`` a new day starts from 0 with whoever was still counting
    (the reference of the console's ``rollKpis``, which rolls its tiles at local midnight)."""
    while "day_end" in terms and now_ms >= terms["day_end"]:
        end = terms["day_end"]
        nxt = terms.get("next_day_end") or end + DAY_MS
        terms = {"at": end, "on_ms": 0,
                 "on_n": terms["on_n"] + sum(1 for s in terms["on_later"] if s <= end),
                 "on_later": [s for s in terms["on_later"] if s > end], "online_ms": 0,
                 "online_n": terms["online_n"] + sum(1 for s in terms["online_later"]
                                                     if s <= end),
                 "online_later": [s for s in terms["online_later"] if s > end],
                 "day": None, "day_end": nxt, "next_day_end": nxt + DAY_MS}
    return terms


@dataclass
class JobAcc:
    """Job-based measures (a region, or one organisation)."""

    created: int = 0
    done: int = 0
    failed: int = 0
    cancelled: int = 0
    responses_s: list[float] = field(default_factory=list)
    late_s: list[float] = field(default_factory=list)  # per arrival with a window; 0 = on time
    far_arrivals: int = 0  # manual "arrived" beyond the policy's arrive_far_m by GPS

    def summary(self) -> dict[str, Any]:
        on_time = sum(1 for x in self.late_s if x <= 0)
        return {
            "jobs_created": self.created, "jobs_done": self.done, "jobs_failed": self.failed,
            "jobs_cancelled": self.cancelled,
            "dispatch_response_mean_s": _mean(self.responses_s),
            "dispatch_response_p90_s": _p(self.responses_s, 0.9),
            "accepted": len(self.responses_s),
            "arrivals_with_window": len(self.late_s),
            "on_time_rate": on_time / len(self.late_s) if self.late_s else None,
            "lateness_mean_s": _mean(self.late_s),
            "far_arrivals": self.far_arrivals,
        }


@dataclass
class DayAcc:
    """One local day's measures."""

    region: JobAcc = field(default_factory=JobAcc)
    orgs: dict[str, JobAcc] = field(default_factory=dict)
    online_ms: float = 0.0
    onjob_ms: float = 0.0
    km_loaded: float = 0.0
    km_empty: float = 0.0
    plans: int = 0
    moved: int = 0
    planned: int = 0
    churn_sum: float = 0.0

    @classmethod
    def from_builtins(cls, d: dict[str, Any]) -> DayAcc:
        acc = cls(**{f: v for f, v in d.items() if f not in ("region", "orgs")})
        acc.region = JobAcc(**d.get("region", {}))
        acc.orgs = {o: JobAcc(**a) for o, a in (d.get("orgs") or {}).items()}
        return acc

    def add(self, other: DayAcc) -> None:
        """Count ``other``'s measures in too (days summed: ``summary(day=ALL)``)."""
        for f in ("online_ms", "onjob_ms", "km_loaded", "km_empty", "plans", "moved",
                  "planned", "churn_sum"):
            setattr(self, f, getattr(self, f) + getattr(other, f))
        for mine, theirs in [(self.region, other.region)] + [
                (self.orgs.setdefault(o, JobAcc()), a) for o, a in other.orgs.items()]:
            for f in ("created", "done", "failed", "cancelled", "far_arrivals"):
                setattr(mine, f, getattr(mine, f) + getattr(theirs, f))
            mine.responses_s += theirs.responses_s
            mine.late_s += theirs.late_s


# A checkpoint's fields from before the days (all-time totals): read and dropped.
_UNDATED = frozenset({"region", "orgs", "online_ms", "onjob_ms", "km_loaded", "km_empty",
                      "plans", "moved", "planned", "churn_sum"})


def valid_day(text: str) -> bool:
    """``YYYY-MM-DD``, a real date."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@dataclass
class Kpis:
    tz: str = "UTC"  # the region's time zone: what a local day is
    days: dict[str, DayAcc] = field(default_factory=dict)  # "YYYY-MM-DD" → its measures
    first_day: str = ""  # the first day counted (an earlier one was not: not "kept")
    # open jobs: id → {c: dispatchable since (created ms, or its release when booked ahead),
    # o: org, ws/we: window ms (0: none), r: responded, s: service start once arrived,
    # rel: released (a job booked ahead, once a pass planned it)}
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    tech_status: dict[str, str] = field(default_factory=dict)
    # org → due day → status → jobs (a job's facts above hold its d: due day, st: status)
    due: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    tech_pos: dict[str, list[float]] = field(default_factory=dict)  # [t, lat, lon]
    online_since: dict[str, int] = field(default_factory=dict)
    offset: str = "0-0"

    # -- plumbing --------------------------------------------------------------------------

    def to_builtins(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_builtins(cls, d: dict[str, Any], tz: str | None = None) -> Kpis:
        k = cls(**{f: v for f, v in d.items() if f not in _UNDATED and f != "days"})
        k.days = {day: DayAcc.from_builtins(a) for day, a in (d.get("days") or {}).items()}
        if tz:
            k.tz = tz
        return k

    def total(self) -> DayAcc:
        """Every kept day's measures together (closed shifts and visits only)."""
        acc = DayAcc()
        for one in self.days.values():
            acc.add(one)
        return acc

    # Read-only, every kept day together (the all-time fields they were before the days).
    @property
    def region(self) -> JobAcc:
        return self.total().region

    @property
    def online_ms(self) -> float:
        return self.total().online_ms

    @property
    def onjob_ms(self) -> float:
        return self.total().onjob_ms

    # -- local days ------------------------------------------------------------------------

    def bounds(self, ms: int) -> tuple[str, int, int]:
        """The local day of ``ms``: its key, and its first and next day's first ms."""
        cached: tuple[str, str, int, int] | None = getattr(self, "_bounds", None)
        if cached is not None and cached[0] == self.tz and cached[2] <= ms < cached[3]:
            return cached[1], cached[2], cached[3]
        zone = ZoneInfo(self.tz)
        day = datetime.fromtimestamp(ms / 1000, zone).date()
        key, start, end = day.isoformat(), _midnight(day, zone), _midnight(
            day + timedelta(days=1), zone)
        self._bounds = (self.tz, key, start, end)
        return key, start, end

    def day_bounds(self, key: str) -> tuple[int, int]:
        zone = ZoneInfo(self.tz)
        day = date.fromisoformat(key)
        return _midnight(day, zone), _midnight(day + timedelta(days=1), zone)

    def kept(self, key: str, now_ms: int) -> bool:
        """Whether the KPIs hold ``key``: one of the last ``KEEP_DAYS`` days up to today,
        not before the first day counted."""
        today = self.bounds(now_ms)[0]
        oldest = _shift(today, 1 - KEEP_DAYS)
        return max(oldest, self.first_day or today) <= key <= today

    def _day(self, ms: int) -> DayAcc | None:
        """The day ``ms`` counts on (None: older than the days kept)."""
        key = self.bounds(ms)[0]
        acc = self.days.get(key)
        if acc is not None:
            return acc
        newest = max(self.days, default=key)
        if key < _shift(newest, 1 - KEEP_DAYS):
            return None
        self.days[key] = acc = DayAcc()
        if not self.first_day or key < self.first_day:
            self.first_day = key
        cut = _shift(max(newest, key), 1 - KEEP_DAYS)
        for old in [d for d in self.days if d < cut]:
            del self.days[old]
        for days in self.due.values():
            for old in [d for d in days if d < cut]:
                del days[old]
        return acc

    def _oldest(self) -> str:
        """The oldest day kept ('' before any)."""
        return _shift(max(self.days), 1 - KEEP_DAYS) if self.days else ""

    def _bump(self, org: str, day: str, status: str, n: int) -> None:
        """``n`` more (or fewer) of ``org``'s jobs due on ``day`` with ``status``."""
        if not (org and day and status) or day < self._oldest():
            return
        counts = self.due.setdefault(org, {}).setdefault(day, {})
        counts[status] = max(0, counts.get(status, 0) + n)
        if not counts[status]:
            del counts[status]
        if not counts:
            del self.due[org][day]

    def _due_day(self, win_end: int, created: int) -> str:
        return self.bounds(win_end or created)[0]

    def _track(self, j: dict[str, Any]) -> None:
        """An open job's record in an event: its status, and its due day if its window moved."""
        facts = self.jobs.get(j.get("id") or "")
        status = j.get("status")
        if facts is None or not facts["o"] or not isinstance(status, str):
            return
        if "win_end" in j:
            facts["we"] = int(j.get("win_end") or 0)
            facts["ws"] = int(j.get("win_start") or 0)
        day = self._due_day(facts["we"], int(facts.get("k") or facts["c"]))
        if (facts.get("d"), facts.get("st")) == (day, status):
            return
        if facts.get("d") and facts.get("st"):  # (a checkpoint from before: counted from now)
            self._bump(facts["o"], facts["d"], facts["st"], -1)
        self._bump(facts["o"], day, status, 1)
        facts["d"], facts["st"] = day, status

    def _spread(self, a: int, b: int, what: str) -> None:
        """Add the time from ``a`` to ``b`` to ``what`` of each local day it covers."""
        a = max(a, b - (KEEP_DAYS + 1) * DAY_MS)
        while a < b:
            _, _, end = self.bounds(a)
            part = min(b, end)
            acc = self._day(a)
            if acc is not None:
                setattr(acc, what, getattr(acc, what) + (part - a))
            a = part

    def _accs(self, org: str | None, ms: int) -> list[JobAcc]:
        acc = self._day(ms)
        if acc is None:
            return []
        if not org:
            return [acc.region]
        return [acc.region, acc.orgs.setdefault(org, JobAcc())]

    # -- feeding ---------------------------------------------------------------------------

    def apply(self, etype: str, ts: int, data: dict[str, Any], offset: str | None = None
              ) -> None:
        """Feed one stream entry (type, server time, data)."""
        handler = getattr(self, "_on_" + etype, None)
        if isinstance(data.get("job"), dict):
            self._track(data["job"])  # before the handler: an ending job leaves ``jobs``
        if handler is not None:
            handler(ts, data)
        state = data.get("tech_state")
        if isinstance(state, dict) and state.get("id"):
            self._set_status(state["id"], state.get("status", ""), int(data.get("at") or ts))
        if offset is not None:
            self.offset = offset

    def _set_status(self, tid: str, status: str, at: int) -> None:
        old = self.tech_status.get(tid, "offline")
        if old == status:
            return
        self.tech_status[tid] = status
        if old in ONLINE and status not in ONLINE:
            self._spread(self.online_since.pop(tid, at), at, "online_ms")
        elif status in ONLINE and old not in ONLINE:
            self.online_since[tid] = at

    def _on_job_created(self, ts: int, d: dict[str, Any]) -> None:
        j = d["job"]
        org = j.get("org") or ""
        created = int(j.get("created_ms") or ts)
        facts = self.jobs[j["id"]] = {"c": created, "k": created, "o": org,
                                      "ws": int(j.get("win_start") or 0),
                                      "we": int(j.get("win_end") or 0), "r": False, "s": 0}
        for acc in self._accs(org, created):
            acc.created += 1
        if org:
            facts["d"], facts["st"] = self._due_day(facts["we"], created), j.get("status") or "new"
            self._bump(org, facts["d"], facts["st"], 1)

    def _on_offer_accepted(self, ts: int, d: dict[str, Any]) -> None:
        j = d["job"]
        facts = self.jobs.get(j["id"])
        if facts is None or facts["r"]:  # unknown, or already responded (re-offered)
            return
        at = int(d.get("at") or ts)
        for acc in self._accs(facts["o"], at):
            acc.responses_s.append(max(0, at - facts["c"]) / 1000)
        facts["r"] = True

    def _release(self, ts: int, d: dict[str, Any]) -> None:
        """A job booked ahead becomes dispatchable with the first pass that plans it."""
        j = d.get("job") or {}
        facts = self.jobs.get(j.get("id") or "")
        if facts is None or facts.get("rel") or facts["r"] or not j.get("ahead_ms"):
            return
        facts["c"] = max(facts["c"], int(d.get("at") or ts))
        facts["rel"] = True

    def _on_offered(self, ts: int, d: dict[str, Any]) -> None:
        self._release(ts, d)

    def _on_job_unassignable(self, ts: int, d: dict[str, Any]) -> None:
        self._release(ts, d)

    def _on_job_arrived(self, ts: int, d: dict[str, Any]) -> None:
        facts = self.jobs.get(d["job"]["id"])
        if facts is None:
            return
        at = int(d.get("at") or ts)
        facts["s"] = max(at, facts["ws"])
        if d.get("far"):
            for acc in self._accs(facts["o"], at):
                acc.far_arrivals += 1
        if not facts["we"]:
            return
        late = max(0, at - facts["we"]) / 1000
        for acc in self._accs(facts["o"], at):
            acc.late_s.append(late)

    def _end(self, d: dict[str, Any], what: str, ts: int) -> None:
        facts = self.jobs.pop(d["job"]["id"], None)
        org = facts["o"] if facts else d["job"].get("org") or ""
        at = int(d.get("at") or ts)
        if facts and facts["s"]:
            self._spread(int(facts["s"]), at, "onjob_ms")
        for acc in self._accs(org, at):
            setattr(acc, what, getattr(acc, what) + 1)

    def _on_job_done(self, ts: int, d: dict[str, Any]) -> None:
        self._end(d, "done", ts)

    def _on_job_failed(self, ts: int, d: dict[str, Any]) -> None:
        self._end(d, "failed", ts)

    def _on_job_cancelled(self, ts: int, d: dict[str, Any]) -> None:
        self._end(d, "cancelled", ts)

    def _on_tech_status(self, ts: int, d: dict[str, Any]) -> None:
        t = d["tech"]
        self._set_status(t["id"], t["status"], int(d.get("at") or ts))

    def _on_tech_removed(self, ts: int, d: dict[str, Any]) -> None:
        """A technician who left: its time on shift ends, its last position goes."""
        tid = d["tech"]["id"]
        self._set_status(tid, "offline", ts)
        self.tech_status.pop(tid, None)
        self.tech_pos.pop(tid, None)

    def _on_gps(self, ts: int, d: dict[str, Any]) -> None:
        tid = d["i"]
        prev = self.tech_pos.get(tid)
        self.tech_pos[tid] = [d["t"], d["la"], d["lo"]]
        if prev is None or d["t"] <= prev[0]:
            return
        km = haversine_m((prev[1], prev[2]), (d["la"], d["lo"])) / 1000
        day = self._day(int(d["t"]))
        if day is None:
            return
        if self.tech_status.get(tid) in LOADED:
            day.km_loaded += km
        else:
            day.km_empty += km

    def _on_plan(self, ts: int, d: dict[str, Any]) -> None:
        planned = int(d.get("planned") or 0)
        moved = int(d.get("moved") or 0)
        day = self._day(ts)
        if day is None:
            return
        day.plans += 1
        day.moved += moved
        day.planned += planned
        day.churn_sum += moved / planned if planned else 0.0

    # -- reading ---------------------------------------------------------------------------

    def utilisation_terms(self, now_ms: int) -> dict[str, Any]:
        """Today's utilisation as a function of time until the next event, for a page to keep
        live (``utilisation_at``): today's on-job and online ms at ``now_ms``, how many jobs
        and technicians are counting (each adds a ms per ms), and the starts still ahead (a
        service that starts at its window's opening, after the arrival; an online time
        stamped by a device a little ahead). Between events it is exact until ``day_end``
        (the next local midnight), where a new day starts from 0 (``roll_terms``)."""
        key, start, end = self.bounds(now_ms)
        acc = self.days.get(key) or DayAcc()
        starts = [int(f["s"]) for f in self.jobs.values() if f["s"]]
        since = [int(s) for s in self.online_since.values()]
        return {"at": now_ms,
                "on_ms": round(acc.onjob_ms + _open(starts, start, now_ms)),
                "on_n": sum(1 for s in starts if s <= now_ms),
                "on_later": sorted(s for s in starts if s > now_ms),
                "online_ms": round(acc.online_ms + _open(since, start, now_ms)),
                "online_n": sum(1 for s in since if s <= now_ms),
                "online_later": sorted(s for s in since if s > now_ms),
                "day": key, "day_end": end, "next_day_end": self.bounds(end)[2]}

    def summary(self, now_ms: int, org: str | None = None, day: str | None = None
                ) -> dict[str, Any]:
        """The measures of local ``day`` (default: today, the day of ``now_ms``; ``ALL``:
        every kept day) as of ``now_ms`` (open shifts and visits counted up to then, or to
        the day's end). A day not kept (``kept``) has no figures."""
        key = day or self.bounds(now_ms)[0]
        if key == ALL:
            acc, lo, hi = self.total(), 0, now_ms
        else:
            lo, hi = self.day_bounds(key)
            hi = min(hi, now_ms)
            kept = self.kept(key, now_ms)
            acc = (self.days.get(key) if kept else None) or DayAcc()
        head: dict[str, Any] = {"day": key, "timezone": self.tz}
        if key != ALL:
            head["kept"] = kept
        if org is not None:
            return {"org": org, **head, **acc.orgs.get(org, JobAcc()).summary(),
                    "due": self.due_on(org, key)}
        online = acc.online_ms + _open(list(self.online_since.values()), lo, hi)
        onjob = acc.onjob_ms + _open([f["s"] for f in self.jobs.values() if f["s"]], lo, hi)
        km = acc.km_loaded + acc.km_empty
        return {
            **head,
            **acc.region.summary(),
            "km_driven": round(km, 3),
            "empty_driving_share": acc.km_empty / km if km else None,
            "utilisation": onjob / online if online else None,
            "plans": acc.plans,
            "churn": acc.moved / acc.planned if acc.planned else 0.0,
            "churn_mean_per_plan": acc.churn_sum / acc.plans if acc.plans else 0.0,
            "offset": self.offset,
        }

    def due_on(self, org: str, day: str) -> dict[str, int]:
        """``org``'s jobs due on local ``day`` (``ALL``: every day held) by status now."""
        days = self.due.get(org, {})
        out: dict[str, int] = {}
        for d in (list(days) if day == ALL else [day]):
            for status, n in days.get(d, {}).items():
                out[status] = out.get(status, 0) + n
        return dict(sorted(out.items()))


def _open(starts: list[int], lo: int, hi: int) -> float:
    """The time from each start (or ``lo``, if later) up to ``hi``, summed."""
    return sum(max(0, hi - max(int(s), lo)) for s in starts)
