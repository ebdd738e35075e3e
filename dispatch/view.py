"""A region's live state, rebuilt from a snapshot and the region's events: pure, no I/O.

Hubs keep one ``RegionView`` per region they serve (as ``queueing.view.SiteView`` per site).
``apply`` returns what an event changed — which technicians', jobs' and organisations'
topics need a message — so one change costs one stream entry, whatever the number of
watchers. Positions are state: a ``gps`` entry moves a technician and, when it is on its way
to or at a job, that job's customer ETA and its organisation's map.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from dispatch.geo import GeodesicProvider, SpeedProfile
from dispatch.model import RegionConfig
from dispatch.records import normalise

TERMINAL = frozenset({"done", "cancelled", "failed"})
ON_THE_WAY = frozenset({"en_route", "on_site"})


@dataclass(slots=True)
class RegionChange:
    """What one event changed."""

    kind: str
    techs: set[str] = field(default_factory=set)  # technician topics with news
    jobs: set[str] = field(default_factory=set)  # job topics with news
    orgs: set[str] = field(default_factory=set)  # organisation topics with news
    moved: str | None = None  # technician whose position this event is
    config: bool = False


@dataclass(slots=True)
class RegionView:
    region: str
    config: RegionConfig
    techs: dict[str, dict[str, Any]]
    jobs: dict[str, dict[str, Any]]  # open jobs (ended ones leave the view)
    routes: dict[str, list[dict[str, Any]]]
    orgs: dict[str, dict[str, Any]]  # id → {id, name, counts, batches {id: {.., counts}}}
    org_jobs: dict[str, set[str]] = field(default_factory=dict)
    travel: GeodesicProvider = field(default_factory=GeodesicProvider)

    @classmethod
    def from_snapshot(cls, region: str, snap: dict[str, Any]) -> RegionView:
        """Build from ``lua/snapshot.lua``'s result (Lua encodes empty tables as {})."""
        cfg = msgspec.convert(snap["config"], RegionConfig)
        techs = {k: normalise(v) for k, v in (snap.get("techs") or {}).items()}
        jobs = {k: normalise(v) for k, v in (snap.get("jobs") or {}).items()}
        routes = {}
        for tid, raw in (snap.get("routes") or {}).items():
            routes[tid] = _stops(raw)
        orgs = {}
        for oid, o in (snap.get("orgs") or {}).items():
            batches = {b: {**normalise(info), "counts": dict(info.get("counts") or {})}
                       for b, info in (o.get("batches") or {}).items()}
            orgs[oid] = {"id": oid, "name": o.get("name", ""),
                         "counts": dict(o.get("counts") or {}), "batches": batches}
        view = cls(region, cfg, techs, jobs, routes, orgs)
        view._index()
        view._travel()
        return view

    @classmethod
    def of_job(cls, region: str, config: RegionConfig, job: dict[str, Any],
               tech: dict[str, Any] | None) -> RegionView:
        """A view holding one job and its technician (records as stored): enough for that
        job's customer view where no hub keeps the region's (a REST request)."""
        techs = {tech["id"]: tech} if tech else {}
        view = cls(region, config, techs, {job["id"]: job}, {}, {})
        view._travel()
        return view

    def _index(self) -> None:
        self.org_jobs = {}
        for jid, j in self.jobs.items():
            if j.get("org"):
                self.org_jobs.setdefault(j["org"], set()).add(jid)

    def _travel(self) -> None:
        p = self.config.policy
        self.travel = GeodesicProvider(SpeedProfile(p.speed_kmh, p.detour,
                                                    tuple(p.speed_by_hour or (1.0,) * 24)))

    # -- reading ----------------------------------------------------------------------------

    def start_ms(self, jid: str) -> int | None:
        """When service is expected to start: the arrival (``eta_ms``), or the window's
        opening if that is later (a technician who is early waits for it). What a customer
        should be told: the arrival alone read "08:03 · in 2 min" at 08:01 for a visit the
        plan starts at 09:01. (``eta_ms`` stays the arrival: the devices' and the drift
        checks' meaning.)"""
        arrival = self.eta_ms(jid)
        if arrival is None:
            return None
        return max(arrival, int(self.jobs[jid].get("win_start") or 0))

    def eta_ms(self, jid: str) -> int | None:
        """Live ETA while the technician is on its way (fix time + travel from its last
        position), else the plan's: the arrival."""
        j = self.jobs.get(jid)
        if j is None:
            return None
        if j.get("status") == "en_route":
            t = self.techs.get(j.get("tech") or "")
            if t and t.get("fix_ms") and t.get("lat") is not None:
                # The speed profile is by the region's local hour, as the engine reads it.
                hour = local_hour(int(t["fix_ms"]), self.config.timezone)
                secs, _ = self.travel.pair((t["lat"], t["lon"]), (j["lat"], j["lon"]), hour)
                return int(t["fix_ms"]) + secs * 1000
        eta = j.get("eta_ms")
        return int(eta) if eta else None

    def at_risk(self, jid: str, now_ms: int) -> bool:
        j = self.jobs.get(jid)
        if j is None or not j.get("win_end") or j.get("status") == "on_site":
            return False
        margin = self.config.policy.at_risk_s * 1000
        eta = self.eta_ms(jid)
        if eta is None:
            return int(j["win_end"]) - now_ms < margin
        return eta > int(j["win_end"]) - margin

    # -- applying ---------------------------------------------------------------------------

    def apply(self, kind: str, data: dict[str, Any]) -> RegionChange:
        ch = RegionChange(kind)
        handler = getattr(self, "_on_" + kind, None)
        if handler is not None:
            handler(data, ch)
        elif isinstance(data.get("job"), dict):
            self._job(data, ch)
        state = data.get("tech_state")
        if isinstance(state, dict) and state.get("id") in self.techs:
            self.techs[state["id"]].update(status=state["status"],
                                           active=state.get("active") or "")
            ch.techs.add(state["id"])
        return ch

    def _job(self, data: dict[str, Any], ch: RegionChange) -> None:
        """Any job status event: counts by status, the open set, routes, who is told."""
        j = normalise(data["job"])
        jid = j["id"]
        old = self.jobs.get(jid)
        before = old.get("status") if old else data.get("from") or data.get("was")
        if before != j.get("status"):
            self._count(j, before, j.get("status"))
        for tid in {old.get("tech") if old else "", data.get("tech") or "", j.get("tech") or ""}:
            if tid and isinstance(tid, str):
                ch.techs.add(tid)
        prev_tech = (old or {}).get("tech") or data.get("tech") or ""
        if isinstance(prev_tech, str) and prev_tech and prev_tech != j.get("tech"):
            self._drop(prev_tech, jid)
        if j.get("status") in TERMINAL or not j.get("tech"):
            self._drop(j.get("tech") or prev_tech, jid)
        if j.get("status") in TERMINAL:
            self.jobs.pop(jid, None)
            if j.get("org"):
                self.org_jobs.get(j["org"], set()).discard(jid)
        else:
            self.jobs[jid] = j
            if j.get("org"):
                self.org_jobs.setdefault(j["org"], set()).add(jid)
        ch.jobs.add(jid)
        if j.get("org"):
            ch.orgs.add(j["org"])

    def _count(self, j: dict[str, Any], before: str | None, after: str | None) -> None:
        org = self.orgs.get(j.get("org") or "")
        if org is None:
            return
        targets = [org["counts"]]
        batch = org["batches"].get(j.get("batch") or "")
        if batch is not None:
            targets.append(batch["counts"])
        for counts in targets:
            if before:
                counts[before] = max(0, counts.get(before, 0) - 1)
            if after:
                counts[after] = counts.get(after, 0) + 1

    def _drop(self, tid: str, jid: str) -> None:
        route = self.routes.get(tid)
        if route:
            self.routes[tid] = [s for s in route if s.get("j") != jid]

    def _on_region_updated(self, d: dict[str, Any], ch: RegionChange) -> None:
        self.config = msgspec.convert(d["config"], RegionConfig)
        self._travel()
        ch.config = True

    def _on_tech_updated(self, d: dict[str, Any], ch: RegionChange) -> None:
        t = normalise(d["tech"])
        self.techs[t["id"]] = {**self.techs.get(t["id"], {}), **t}
        ch.techs.add(t["id"])

    def _on_tech_removed(self, d: dict[str, Any], ch: RegionChange) -> None:
        tid = d["tech"]["id"]
        self.techs.pop(tid, None)
        self.routes.pop(tid, None)
        ch.techs.add(tid)

    def _on_tech_status(self, d: dict[str, Any], ch: RegionChange) -> None:
        t = d["tech"]
        if t["id"] in self.techs:
            self.techs[t["id"]].update(status=t["status"], active=t.get("active") or "")
        ch.techs.add(t["id"])

    def _on_gps(self, d: dict[str, Any], ch: RegionChange) -> None:
        tid = d["i"]
        t = self.techs.get(tid)
        if t is None:
            return
        t.update(lat=d["la"], lon=d["lo"], fix_ms=d["t"])
        ch.moved = tid
        active = t.get("active") or ""
        j = self.jobs.get(active)
        if j is not None and j.get("status") in ON_THE_WAY:
            ch.jobs.add(active)
            if j.get("org"):
                ch.orgs.add(j["org"])

    def _on_job_created(self, d: dict[str, Any], ch: RegionChange) -> None:
        self._job({**d, "from": None}, ch)

    def _on_plan(self, d: dict[str, Any], ch: RegionChange) -> None:
        for tid, stops in (d.get("routes") or {}).items():
            old = {s.get("j") for s in self.routes.get(tid, [])}
            new = _stops({"stops": stops})
            self.routes[tid] = new
            ch.techs.add(tid)
            for s in new:
                jid = s.get("j")
                j = self.jobs.get(jid or "")
                if j is None:
                    continue
                if j.get("eta_ms") != s.get("eta"):
                    j["eta_ms"] = s.get("eta")
                    ch.jobs.add(jid or "")
                    if j.get("org"):
                        ch.orgs.add(j["org"])
            for jid in old - {s.get("j") for s in new}:
                if jid:
                    ch.jobs.add(jid)

    def _on_org_updated(self, d: dict[str, Any], ch: RegionChange) -> None:
        o = d["org"]
        cur = self.orgs.setdefault(o["id"], {"id": o["id"], "name": "", "counts": {},
                                             "batches": {}})
        cur["name"] = o["name"]
        ch.orgs.add(o["id"])

    def _on_batch_created(self, d: dict[str, Any], ch: RegionChange) -> None:
        b = d["batch"]
        org = self.orgs.get(b["org"])
        if org is None:
            return
        counts: dict[str, int] = {}
        for jid in self.org_jobs.get(b["org"], ()):
            j = self.jobs[jid]
            if j.get("batch") == b["id"]:
                counts[j["status"]] = counts.get(j["status"], 0) + 1
        org["batches"][b["id"]] = {**b, "counts": counts}
        ch.orgs.add(b["org"])

    def _on_left_site(self, d: dict[str, Any], ch: RegionChange) -> None:
        ch.techs.add(d["tech"])


def _stops(raw: Any) -> list[dict[str, Any]]:
    if not raw:
        return []
    if isinstance(raw, (str, bytes)):
        raw = msgspec.json.decode(raw)
    stops = raw.get("stops") if isinstance(raw, dict) else raw
    if not isinstance(stops, list):
        return []
    out = []
    for s in stops:
        if isinstance(s, list):  # the plan event's compact form
            row = {"j" if len(s) < 5 else "b": s[0], "eta": s[1], "start": s[2], "end": s[3]}
            out.append(row)
        else:
            out.append(dict(s))
    return out


def local_hour(t_ms: int, timezone: str) -> int:
    """The hour of day at ``t_ms`` in ``timezone`` (speed profiles are by local hour)."""
    return datetime.fromtimestamp(t_ms / 1000, ZoneInfo(timezone)).hour
