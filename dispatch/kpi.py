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

Per region, and the job-based ones per organisation. The state is plain data
(``to_builtins`` / ``from_builtins``), so the worker keeps a checkpoint (state + stream
offset) and anyone can continue from it with the events after the offset.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dispatch.geo import haversine_m

LOADED = frozenset({"en_route", "on_site"})
ONLINE = frozenset({"available", "en_route", "on_site", "on_break"})


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


def utilisation_at(terms: dict[str, Any], now_ms: int) -> float | None:
    """``Kpis.utilisation_terms`` at a later ``now_ms`` (no event between): the reference of
    the console's ``utilisationAt`` (clients/web/js/dispatch-console-state.js)."""
    dt = max(0, now_ms - terms["at"])

    def ahead(starts: list[int]) -> int:
        return sum(max(0, now_ms - s) for s in starts)

    on = terms["on_ms"] + terms["on_n"] * dt + ahead(terms["on_later"])
    online = terms["online_ms"] + terms["online_n"] * dt + ahead(terms["online_later"])
    return on / online if online else None


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
class Kpis:
    region: JobAcc = field(default_factory=JobAcc)
    orgs: dict[str, JobAcc] = field(default_factory=dict)
    # open jobs: id → {c: dispatchable since (created ms, or its release when booked ahead),
    # o: org, ws/we: window ms (0: none), r: responded, s: service start once arrived,
    # rel: released (a job booked ahead, once a pass planned it)}
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    tech_status: dict[str, str] = field(default_factory=dict)
    tech_pos: dict[str, list[float]] = field(default_factory=dict)  # [t, lat, lon]
    online_since: dict[str, int] = field(default_factory=dict)
    online_ms: float = 0.0
    onjob_ms: float = 0.0
    km_loaded: float = 0.0
    km_empty: float = 0.0
    plans: int = 0
    moved: int = 0
    planned: int = 0
    churn_sum: float = 0.0
    offset: str = "0-0"

    # -- plumbing --------------------------------------------------------------------------

    def to_builtins(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_builtins(cls, d: dict[str, Any]) -> Kpis:
        k = cls(**{f: v for f, v in d.items() if f not in ("region", "orgs")})
        k.region = JobAcc(**d.get("region", {}))
        k.orgs = {o: JobAcc(**a) for o, a in (d.get("orgs") or {}).items()}
        return k

    def _accs(self, org: str | None) -> list[JobAcc]:
        if not org:
            return [self.region]
        return [self.region, self.orgs.setdefault(org, JobAcc())]

    # -- feeding ---------------------------------------------------------------------------

    def apply(self, etype: str, ts: int, data: dict[str, Any], offset: str | None = None
              ) -> None:
        """Feed one stream entry (type, server time, data)."""
        handler = getattr(self, "_on_" + etype, None)
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
            self.online_ms += max(0, at - self.online_since.pop(tid, at))
        elif status in ONLINE and old not in ONLINE:
            self.online_since[tid] = at

    def _on_job_created(self, ts: int, d: dict[str, Any]) -> None:
        j = d["job"]
        org = j.get("org") or ""
        self.jobs[j["id"]] = {"c": int(j.get("created_ms") or ts), "o": org,
                              "ws": int(j.get("win_start") or 0),
                              "we": int(j.get("win_end") or 0), "r": False, "s": 0}
        for acc in self._accs(org):
            acc.created += 1

    def _on_offer_accepted(self, ts: int, d: dict[str, Any]) -> None:
        j = d["job"]
        facts = self.jobs.get(j["id"])
        if facts is None or facts["r"]:  # unknown, or already responded (re-offered)
            return
        at = int(d.get("at") or ts)
        for acc in self._accs(facts["o"]):
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
            for acc in self._accs(facts["o"]):
                acc.far_arrivals += 1
        if not facts["we"]:
            return
        late = max(0, at - facts["we"]) / 1000
        for acc in self._accs(facts["o"]):
            acc.late_s.append(late)

    def _end(self, d: dict[str, Any], what: str, ts: int) -> None:
        facts = self.jobs.pop(d["job"]["id"], None)
        org = facts["o"] if facts else d["job"].get("org") or ""
        if facts and facts["s"]:
            self.onjob_ms += max(0, int(d.get("at") or ts) - facts["s"])
        for acc in self._accs(org):
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
        if self.tech_status.get(tid) in LOADED:
            self.km_loaded += km
        else:
            self.km_empty += km

    def _on_plan(self, ts: int, d: dict[str, Any]) -> None:
        planned = int(d.get("planned") or 0)
        moved = int(d.get("moved") or 0)
        self.plans += 1
        self.moved += moved
        self.planned += planned
        self.churn_sum += moved / planned if planned else 0.0

    # -- reading ---------------------------------------------------------------------------

    def utilisation_terms(self, now_ms: int) -> dict[str, Any]:
        """Utilisation as a function of time until the next event, for a page to keep live
        (``utilisation_at``): on-job and online ms at ``now_ms``, how many jobs and
        technicians are counting (each adds a ms per ms), and the starts still ahead (a
        service that starts at its window's opening, after the arrival; an online time
        stamped by a device a little ahead). Between events it is exact."""
        starts = [int(f["s"]) for f in self.jobs.values() if f["s"]]
        since = [int(s) for s in self.online_since.values()]
        return {"at": now_ms,
                "on_ms": round(self.onjob_ms + sum(max(0, now_ms - s) for s in starts)),
                "on_n": sum(1 for s in starts if s <= now_ms),
                "on_later": sorted(s for s in starts if s > now_ms),
                "online_ms": round(self.online_ms + sum(max(0, now_ms - s) for s in since)),
                "online_n": sum(1 for s in since if s <= now_ms),
                "online_later": sorted(s for s in since if s > now_ms)}

    def summary(self, now_ms: int, org: str | None = None) -> dict[str, Any]:
        """The measures as of ``now_ms`` (open shifts and visits counted up to then)."""
        if org is not None:
            return {"org": org, **self.orgs.get(org, JobAcc()).summary()}
        online = self.online_ms + sum(max(0, now_ms - s) for s in self.online_since.values())
        onjob = self.onjob_ms + sum(max(0, now_ms - f["s"]) for f in self.jobs.values()
                                    if f["s"])
        km = self.km_loaded + self.km_empty
        return {
            **self.region.summary(),
            "km_driven": round(km, 3),
            "empty_driving_share": self.km_empty / km if km else None,
            "utilisation": onjob / online if online else None,
            "plans": self.plans,
            "churn": self.moved / self.planned if self.planned else 0.0,
            "churn_mean_per_plan": self.churn_sum / self.plans if self.plans else 0.0,
            "offset": self.offset,
        }
