"""Dispatch topics (``tech:``, ``job:``, ``org:``), the region feed, and device publish ops.

- ``tech:{id}`` — a technician's device and dispatchers: status, position, route with ETAs;
  events ``offer`` (compact: it fits a wristband's 256-byte budget), ``offer_withdrawn``,
  ``offer_expired``, ``route_changed`` (with the reason), ``status``; state ``position``.
- ``job:{id}`` — the customer's tracking page: status, the technician's *first name*, and
  while the technician is on its way or there, its position and live ETA. Never more.
- ``org:{id}`` — an enterprise dashboard: counts by status (per batch), per-job ETA,
  technicians on the way, jobs at risk.

Messages are built from the region's ``dispatch.view.RegionView``, kept by a ``RegionFeed``
(a ``SiteFeed`` tailing ``sb:{region:R}:events`` instead of a site stream). Positions arrive
as ``gps`` entries in the same stream and go out on the state lane (merged latest-wins);
history replay skips them and attaches the current position.

Device ops (msgpack subprotocol): ``gps`` (a fix: ``t`` ms, ``la``, ``lo``, optional ``s``
speed m/s, ``a`` accuracy m, ``id``) and ``act`` (an action: ``aid`` the device's own id,
``k`` kind, ``t`` ms, ``j`` job, ``r`` reason, ``id``). Both are answered with ``pong`` when
they carry an ``id`` and applied, or with an ``error`` naming the reason code.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

from dispatch import keys as dkeys
from dispatch.engine import Actor, DispatchEngine
from dispatch.errors import DispatchFailure, FixRejected, UnknownTechnician
from dispatch.gps import Fix
from dispatch.kpi import Kpis
from dispatch.model import JOBLESS, Action, ActionKind
from dispatch.planning import service_level_s
from dispatch.records import csv
from dispatch.store import Store
from dispatch.tasks import ArqEnqueuer, arq_redis
from dispatch.view import ON_THE_WAY, RegionView
from queueing.errors import Forbidden, UnknownSite
from realtime import clock, metrics
from realtime.auth import Principal
from realtime.hub.entry import Entry, decode_entry, id_lt
from realtime.hub.feed import SiteFeed, Sub, log
from realtime.hub.topics import NAMESPACES, Message, Namespace, Ref, register
from realtime.protocol import (
    ClientMessage,
    Event,
    Pong,
    ProtocolError,
    Since,
    error_frame,
    register_publish,
)
from realtime.ws import PUBLISH_HANDLERS

if TYPE_CHECKING:
    from realtime.hub.hub import Connection, Hub

_engines: weakref.WeakKeyDictionary[Any, DispatchEngine] = weakref.WeakKeyDictionary()


def dispatch_engine(hub: Hub) -> DispatchEngine:
    """The process's dispatch engine (one per hub, sharing its Redis pool)."""
    eng = _engines.get(hub)
    if eng is None:
        arq = arq_redis(hub.redis)
        s = hub.settings
        # This process's time (Redis's while the host's clock is off; app.py keeps it
        # measured), as the queue engine's: jobs, offers and fixes are stamped by it.
        eng = DispatchEngine(Store(hub.redis), clock=clock.now_ms, enqueuer=ArqEnqueuer(arq),
                             config_ttl_s=s.config_cache_s)
        _engines[hub] = eng
    return eng


# -- the region feed ---------------------------------------------------------------------------

class RegionFeed(SiteFeed):
    """Tails one region's stream and keeps its ``RegionView``; the subscription, snapshot,
    replay-then-live and resync machinery is ``SiteFeed``'s."""

    kind = "region"

    def __init__(self, hub: Hub, key: str) -> None:
        super().__init__(hub, key)
        self.stream = dkeys.events(key)
        self.rv: RegionView
        self.kpis: Kpis | None = None  # the region: topic's tiles, kept once it is followed

    @property
    def engine(self) -> DispatchEngine:
        return dispatch_engine(self.hub)

    async def _load(self) -> None:
        try:
            snap = await self.engine.snapshot(self.key)
        except DispatchFailure as exc:
            # The hub maps UnknownSite to unknown_topic for every feed kind.
            raise UnknownSite(exc.message) from exc
        self.rv = RegionView.from_snapshot(self.key, snap)
        self.epoch, self.offset, self.trimmed = snap["epoch"], snap["offset"], snap["trimmed"]
        self._last.clear()
        self.kpis = None

    def key_prefix(self) -> str:
        return dkeys.prefix(self.key)

    def _apply(self, entry: Entry) -> None:
        change = self.rv.apply(entry.type, entry.data)
        self.offset = entry.id
        region_topic.fold_kpis(self, entry)
        metrics.LAG.observe(max(0.0, clock.now_s() - entry.ts / 1000))
        seen: set[str] = set()
        for ns in self.namespaces():
            for topic in ns.affected(self, entry, change):
                subs = self.subs.get(topic)
                if not subs or topic in seen:
                    continue
                seen.add(topic)
                sub0 = next(iter(subs.values()))
                try:
                    msg = ns.live(self, sub0.ref, entry, change)
                except Exception:
                    log.exception("topic %s: cannot build message for %s", topic, entry.id)
                    continue
                if msg is not None:
                    self._publish(topic, msg, entry.id)

    async def _replay(self, sub: Sub, since: Since) -> bool:
        """As ``SiteFeed._replay``, on the region's keys."""
        sub.buffer = []
        capture = self.offset
        now_ms = clock.now_ms()
        replay: list[Event] = []
        if since.offset != capture:
            if not await self._still_there(since.offset):  # a restored Redis: resync
                return False
            rows = await self.hub.redis.xrange(self.stream, "(" + since.offset, capture)
            mark = await self.hub.redis.get(dkeys.prefix(self.key) + "trimmed")
            if mark is not None:
                self.trimmed = max(self.trimmed, mark.decode(),
                                   key=lambda x: tuple(int(p) for p in x.split("-")))
                if id_lt(since.offset, self.trimmed):
                    return False
            for eid, fields in rows:
                entry = decode_entry(eid, fields)
                msg = sub.ns.history(self, sub.ref, entry, now_ms)
                if msg is not None:
                    replay.append(Event(sub.ref.topic, self.epoch, entry.id, msg.type,
                                        msg.data))
            cur = sub.ns.current(self, sub.ref)
            if cur is not None:
                if replay and replay[-1].offset == capture:
                    last = replay[-1]
                    replay[-1] = Event(last.topic, last.epoch, last.offset, last.type,
                                       {**last.data, **cur.data})
                else:
                    replay.append(Event(sub.ref.topic, self.epoch, capture, cur.type, cur.data))
        for ev in replay:
            await sub.conn.deliver_paced(ev)
        await self._flush(sub, capture)
        return True

    async def fetch_job(self, job_id: str) -> dict[str, Any]:
        try:
            return await self.engine.job_record(job_id)
        except DispatchFailure as exc:
            raise ProtocolError("unknown_topic", exc.message) from exc

    async def trim(self, keep_ms: int, keep_entries: int) -> dict[str, Any]:
        """Trim the region stream, never past the KPI checkpoint (while a worker keeps one;
        without any, the history rule alone applies and KPIs cover what is left)."""
        raw = await self.hub.redis.get(dkeys.prefix(self.key) + "kpi")
        floor = msgspec.json.decode(raw).get("offset", "") if raw else ""
        return await self.engine.trim(self.key, keep_ms, keep_entries, floor)

    def namespaces(self) -> list[Namespace]:
        return [ns for ns in NAMESPACES.values() if ns.feed_kind == self.kind]


# -- views -------------------------------------------------------------------------------------

def _window(j: dict[str, Any]) -> list[int] | None:
    return [j.get("win_start") or 0, j["win_end"]] if j.get("win_end") else None


def _stop(rv: RegionView, s: dict[str, Any]) -> dict[str, Any]:
    if s.get("b"):
        return {"break": s["b"], "start_ms": s.get("start"), "end_ms": s.get("end")}
    jid = s.get("j") or ""
    j = rv.jobs.get(jid, {})
    return {"job": jid, "status": j.get("status"), "eta_ms": rv.eta_ms(jid) or s.get("eta"),
            "start_ms": s.get("start"), "end_ms": s.get("end"), "lat": j.get("lat"),
            "lon": j.get("lon"), "window": _window(j) if j else None,
            "duration_s": j.get("duration_s"), "skills": csv(j.get("skills")),
            "priority": j.get("priority"), "customer": j.get("customer") or None,
            "address": j.get("address") or None}


def _position(t: dict[str, Any]) -> dict[str, Any] | None:
    if not t.get("fix_ms"):
        return None
    return {"lat": t["lat"], "lon": t["lon"], "t": t["fix_ms"]}


def tech_state(rv: RegionView, tid: str) -> dict[str, Any]:
    t = rv.techs[tid]
    route = [_stop(rv, s) for s in rv.routes.get(tid, [])]
    offers = [{"job": s["job"], "deadline_ms": rv.jobs[s["job"]].get("deadline_ms"),
               "n": rv.jobs[s["job"]].get("offer_n")}
              for s in route if s.get("job") and s.get("status") == "offered"]
    return {"id": tid, "name": t.get("name"), "status": t.get("status"),
            "active_job": t.get("active") or None, "position": _position(t),
            "route": route, "offers": offers}


def offer_frame(d: dict[str, Any]) -> dict[str, Any]:
    """The compact ``offer`` event data: a wristband gets the whole frame in ≤ 256 bytes."""
    j = d["job"]
    out: dict[str, Any] = {"j": j["id"], "la": j["lat"], "lo": j["lon"],
                           "d": j.get("duration_s"), "dl": d.get("deadline_ms"),
                           "n": d.get("n"), "p": j.get("priority") or 0}
    if j.get("win_end"):
        out["w"] = [j.get("win_start") or 0, j["win_end"]]
    return out


_BILINGUAL = re.compile(r"^([\u3400-\u9fff·]+)\s+([A-Za-z][A-Za-z .'-]*)$")


def public_name(name: object) -> str:
    """The part of a technician's name a customer or an enterprise sees: the first word
    ("Anna de Vries" → "Anna"). A bilingual name ("王伟 Wang Wei", as the pages read them)
    keeps its Chinese part and the first Latin word ("王伟 Wang"), so the English page has
    a Latin name to show and the Chinese page its own."""
    s = str(name or "").strip()
    m = _BILINGUAL.match(s)
    if m:
        return f"{m[1]} {m[2].split()[0]}"
    return s.split()[0] if s else ""


def _due_ms(rv: RegionView, j: dict[str, Any]) -> int | None:
    """A job without a window: when the region's service level has it due (its creation +
    ``service_within_s``, or ``urgent_within_s`` for an urgent one); None with a window or
    no service level. The customer's page says "nobody can reach you by 14:30", not "within
    the time promised after your order" with no time at all."""
    if j.get("win_end") or not j.get("created_ms"):
        return None
    sla_s = service_level_s(j, rv.config.policy)
    return int(j["created_ms"]) + sla_s * 1000 if sla_s else None


def job_state(rv: RegionView, j: dict[str, Any]) -> dict[str, Any]:
    """What a customer may see: never the technician's details beyond a first name."""
    status = j.get("status")
    out: dict[str, Any] = {"id": j["id"], "status": status, "window": _window(j),
                           "eta_ms": None, "technician": None,
                           "reason": j.get("reason") or None, "due_ms": _due_ms(rv, j)}
    if status in ("offered", "assigned", "en_route"):
        out["eta_ms"] = rv.eta_ms(j["id"])
        out["start_ms"] = rv.start_ms(j["id"])
    t = rv.techs.get(j.get("tech") or "")
    if t is not None and status in ("assigned", "en_route", "on_site"):
        tech: dict[str, Any] = {"name": public_name(t.get("name"))}
        if status in ON_THE_WAY and t.get("fix_ms"):
            tech.update(lat=t["lat"], lon=t["lon"], at_ms=t["fix_ms"])
        out["technician"] = tech
    for k in ("arrived_ms", "ended_ms"):
        if j.get(k):
            out[k] = j[k]
    return out


async def customer_job(eng: DispatchEngine, jid: str) -> dict[str, Any]:
    """``job_state`` for a REST request (``GET /v1/jobs/{id}`` with the customer's token):
    the same view as the ``job:`` topic's, read from the job's and its technician's records."""
    j = await eng.job_record(jid)
    region = dkeys.region_of(jid)
    tid = j.get("tech") or ""
    try:
        tech = await eng.tech_record(tid) if tid else None
    except UnknownTechnician:
        tech = None
    return job_state(RegionView.of_job(region, await eng.config(region), j, tech), j)


def org_state(rv: RegionView, oid: str, now_ms: int) -> dict[str, Any]:
    o = rv.orgs.get(oid) or {"id": oid, "name": "", "counts": {}, "batches": {}}
    jobs, risk, way = [], [], []
    for jid in sorted(rv.org_jobs.get(oid, ())):
        j = rv.jobs[jid]
        eta, start = rv.eta_ms(jid), rv.start_ms(jid)
        at_risk = rv.at_risk(jid, now_ms)
        jobs.append({"id": jid, "status": j.get("status"), "eta_ms": eta, "start_ms": start,
                     # The organisation's own words for where ("Ward 12"): its dashboard's.
                     "customer": j.get("customer") or None,
                     "lat": j.get("lat"), "lon": j.get("lon"),
                     "batch": j.get("batch") or None,
                     "window_end_ms": j.get("win_end") or None, "at_risk": at_risk})
        if at_risk:
            risk.append(jid)
        t = rv.techs.get(j.get("tech") or "")
        if t is not None and j.get("status") in ON_THE_WAY and t.get("fix_ms"):
            way.append({"technician": public_name(t.get("name")), "job": jid,
                        "status": j["status"], "lat": t["lat"], "lon": t["lon"],
                        "eta_ms": eta, "start_ms": start})
    batches = [{"id": b, "name": info.get("name") or "", "size": info.get("size"),
                "counts": {k: v for k, v in info.get("counts", {}).items() if v}}
               for b, info in sorted(o["batches"].items())]
    return {"id": oid, "name": o.get("name"),
            "counts": {k: v for k, v in o["counts"].items() if v}, "batches": batches,
            "jobs": jobs, "on_the_way": way, "at_risk": risk}


# -- namespaces --------------------------------------------------------------------------------

def _region_staff(p: Principal, region: str) -> bool:
    return p.is_admin or (p.role == "dispatcher" and p.region == region)


def _parse(name: str, topic: str, parts: tuple[str, ...]) -> Ref:
    if len(parts) != 1 or not dkeys.valid_id(parts[0]):
        raise ProtocolError("unknown_topic", f"{name} topics are {name}:{{region.id}}")
    return Ref(topic, name, parts, dkeys.region_of(parts[0]))


JOB_EVENTS = frozenset({"job_created", "offered", "offer_accepted", "offer_declined",
                        "offer_expired", "offer_withdrawn", "job_departed", "job_arrived",
                        "job_done", "job_failed", "job_cancelled", "job_unassignable",
                        "job_reevaluated"})
TECH_REASON = {"offer_accepted": "accepted", "offer_declined": "declined",
               "job_departed": "departed", "job_arrived": "arrived", "job_done": "completed",
               "job_failed": "failed", "job_cancelled": "cancelled", "left_site": "left_site",
               "offer_withdrawn": "withdrawn", "offer_expired": "expired",
               "job_unassignable": "unassignable", "offered": "offered"}


def tech_reason(etype: str, d: dict[str, Any], tid: str) -> str | None:
    """Why technician ``tid``'s route changed with this event. An offer taken back from
    another technician to be offered to this one is, for this one, an offer (its ``offer``
    follows): "withdrawn" is the previous holder's news only."""
    if etype == "offer_withdrawn" and d.get("tech") != tid:
        return "offered"
    return TECH_REASON.get(etype)


def _removed(entry: Entry, tid: str) -> bool:
    """This entry removes technician ``tid`` (DELETE /v1/technicians/{id})."""
    tech = entry.data.get("tech")
    return entry.type == "tech_removed" and isinstance(tech, dict) and tech.get("id") == tid


class TechTopic:
    name = "tech"
    feed_kind = "region"
    replayable = True
    event_types: tuple[str, ...] = ("offer", "offer_withdrawn", "offer_expired",
                                    "route_changed", "status", "position", "removed")

    def parse(self, topic: str, parts: tuple[str, ...]) -> Ref:
        return _parse(self.name, topic, parts)

    def authorize(self, p: Principal, ref: Ref) -> None:
        if _region_staff(p, ref.source) or (p.role == "tech" and p.tech == ref.parts[0]):
            return
        raise Forbidden("this token may not follow this technician")

    async def snapshot(self, feed: Any, ref: Ref) -> Any:
        if ref.parts[0] not in feed.rv.techs:
            raise ProtocolError("unknown_topic", f"unknown technician {ref.parts[0]}")
        return tech_state(feed.rv, ref.parts[0])

    def live(self, feed: Any, ref: Ref, entry: Entry, change: Any) -> Message | None:
        tid, d, rv = ref.parts[0], entry.data, feed.rv
        if _removed(entry, tid):  # a dispatcher's screen following it is told, not left quiet
            return Message("removed", {"tech": tid})
        if tid not in rv.techs:
            return None
        if entry.type == "gps":
            return Message("position", _position(rv.techs[tid]), is_event=False)
        if entry.type == "offered" and d.get("tech") == tid:
            return Message("offer", offer_frame(d))
        state = tech_state(rv, tid)
        if entry.type in ("offer_withdrawn", "offer_expired") and d.get("tech") == tid:
            return Message(entry.type, {"job": d["job"]["id"],
                                        "reason": d.get("reason"), **state})
        if entry.type in ("tech_status", "tech_updated"):
            return Message("status", {"reason": d.get("reason") or entry.type, **state})
        reason = d.get("reason") if entry.type == "plan" else tech_reason(entry.type, d, tid)
        job = d["job"]["id"] if isinstance(d.get("job"), dict) else None
        return Message("route_changed", {"reason": reason or entry.type, "changed_job": job,
                                         **state})

    def history(self, feed: Any, ref: Ref, entry: Entry, now_ms: int) -> Message | None:
        tid, d = ref.parts[0], entry.data
        if _removed(entry, tid):
            return Message("removed", {"tech": tid})
        if entry.type == "offered" and d.get("tech") == tid:
            return Message("offer", offer_frame(d))
        if entry.type in ("offer_withdrawn", "offer_expired") and d.get("tech") == tid:
            return Message(entry.type, {"job": d["job"]["id"], "reason": d.get("reason")})
        if entry.type == "tech_status" and d["tech"]["id"] == tid:
            return Message("status", {"status": d["tech"]["status"], "reason": d.get("reason")})
        if entry.type == "plan" and tid in (d.get("routes") or {}):
            return Message("route_changed", {"reason": d.get("reason"),
                                             "route": d["routes"][tid]})
        job = d.get("job") if isinstance(d.get("job"), dict) else None
        if job and entry.type in TECH_REASON and tid in (job.get("tech"), d.get("tech")):
            return Message("route_changed", {"reason": tech_reason(entry.type, d, tid),
                                             "changed_job": job["id"]})
        return None

    def current(self, feed: Any, ref: Ref) -> Message | None:
        if ref.parts[0] not in feed.rv.techs:
            return None
        return Message("status", tech_state(feed.rv, ref.parts[0]), is_event=False)

    def affected(self, feed: Any, entry: Entry, change: Any) -> Iterable[str]:
        techs = set(change.techs)
        if change.moved:
            techs.add(change.moved)
        tech = entry.data.get("tech")
        if isinstance(tech, str) and tech:
            techs.add(tech)
        return (f"tech:{t}" for t in techs)


class JobTopic:
    name = "job"
    feed_kind = "region"
    replayable = True
    event_types: tuple[str, ...] = ("status", "eta", "position")

    def parse(self, topic: str, parts: tuple[str, ...]) -> Ref:
        return _parse(self.name, topic, parts)

    def authorize(self, p: Principal, ref: Ref) -> None:
        if _region_staff(p, ref.source) or (p.role == "customer" and p.job == ref.parts[0]):
            return
        raise Forbidden("this token may not follow this job")

    async def snapshot(self, feed: Any, ref: Ref) -> Any:
        j = feed.rv.jobs.get(ref.parts[0])
        if j is None:
            j = await feed.fetch_job(ref.parts[0])  # ended jobs are not in the live view
        return job_state(feed.rv, j)

    def live(self, feed: Any, ref: Ref, entry: Entry, change: Any) -> Message | None:
        jid = ref.parts[0]
        d = entry.data
        if isinstance(d.get("job"), dict) and d["job"].get("id") == jid:
            return Message("status", job_state(feed.rv, feed.rv.jobs.get(jid) or d["job"]))
        j = feed.rv.jobs.get(jid)
        if j is None:
            return None
        data = job_state(feed.rv, j)
        tech = data["technician"] or {}
        key = (data["status"], (data["eta_ms"] or 0) // 10_000, tech.get("lat"), tech.get("lon"))
        if feed.unchanged(ref.topic, key):
            return None
        return Message("position" if entry.type == "gps" else "eta", data, is_event=False)

    def history(self, feed: Any, ref: Ref, entry: Entry, now_ms: int) -> Message | None:
        job = entry.data.get("job")
        if not isinstance(job, dict) or job.get("id") != ref.parts[0]:
            return None
        data = job_state(feed.rv, job)
        data["technician"] = None  # positions are not history: the current state follows
        data["eta_ms"] = None
        return Message("status", data)

    def current(self, feed: Any, ref: Ref) -> Message | None:
        j = feed.rv.jobs.get(ref.parts[0])
        return None if j is None else Message("eta", job_state(feed.rv, j), is_event=False)

    def affected(self, feed: Any, entry: Entry, change: Any) -> Iterable[str]:
        return (f"job:{j}" for j in change.jobs)


class OrgTopic:
    name = "org"
    feed_kind = "region"
    replayable = True
    event_types: tuple[str, ...] = ("job", "batch", "progress")

    def parse(self, topic: str, parts: tuple[str, ...]) -> Ref:
        return _parse(self.name, topic, parts)

    def authorize(self, p: Principal, ref: Ref) -> None:
        if _region_staff(p, ref.source) or (p.role == "org" and p.org == ref.parts[0]):
            return
        raise Forbidden("this token may not follow this organisation")

    async def snapshot(self, feed: Any, ref: Ref) -> Any:
        if ref.parts[0] not in feed.rv.orgs:
            raise ProtocolError("unknown_topic", f"unknown organisation {ref.parts[0]}")
        return org_state(feed.rv, ref.parts[0], clock.now_ms())

    def live(self, feed: Any, ref: Ref, entry: Entry, change: Any) -> Message | None:
        oid, d = ref.parts[0], entry.data
        state = org_state(feed.rv, oid, clock.now_ms())
        job = d.get("job") if isinstance(d.get("job"), dict) else None
        if job is not None and entry.type in JOB_EVENTS and job.get("org") == oid:
            return Message("job", {"changed": {"job": job["id"], "status": job.get("status")},
                                   **state})
        if entry.type == "batch_created":
            return Message("batch", {"changed": {"batch": d["batch"]["id"]}, **state})
        key = ([(j["id"], j["status"], (j["eta_ms"] or 0) // 60_000) for j in state["jobs"]],
               [(w["job"], round(w["lat"], 3), round(w["lon"], 3)) for w in state["on_the_way"]])
        if feed.unchanged(ref.topic, key):
            return None
        return Message("progress", state, is_event=False)

    def history(self, feed: Any, ref: Ref, entry: Entry, now_ms: int) -> Message | None:
        job = entry.data.get("job")
        if isinstance(job, dict) and job.get("org") == ref.parts[0] and entry.type in JOB_EVENTS:
            return Message("job", {"changed": {"job": job["id"], "status": job.get("status")}})
        if entry.type == "batch_created" and entry.data["batch"].get("org") == ref.parts[0]:
            return Message("batch", {"changed": {"batch": entry.data["batch"]["id"]}})
        return None

    def current(self, feed: Any, ref: Ref) -> Message | None:
        if ref.parts[0] not in feed.rv.orgs:
            return None
        return Message("progress", org_state(feed.rv, ref.parts[0], clock.now_ms()),
                       is_event=False)

    def affected(self, feed: Any, entry: Entry, change: Any) -> Iterable[str]:
        return (f"org:{o}" for o in change.orgs)


register(TechTopic())
register(JobTopic())
register(OrgTopic())


# -- device publish ops ------------------------------------------------------------------------

Lat = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Lon = Annotated[float, msgspec.Meta(ge=-180, le=180)]


class Gps(ClientMessage, tag="gps"):
    """One GPS fix: ``t`` epoch ms, ``la``/``lo`` degrees, ``s`` speed m/s, ``a`` accuracy m."""

    t: Annotated[int, msgspec.Meta(ge=0)]
    la: Lat
    lo: Lon
    s: Annotated[float, msgspec.Meta(ge=0)] | None = None
    a: Annotated[float, msgspec.Meta(ge=0)] | None = None
    id: int | None = None


class Act(ClientMessage, tag="act"):
    """A device action applied at most once per ``aid`` (see ``dispatch.model.Action``)."""

    aid: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
    k: ActionKind
    t: Annotated[int, msgspec.Meta(ge=0)]
    j: Annotated[str, msgspec.Meta(max_length=140)] = ""
    r: Annotated[str, msgspec.Meta(max_length=64)] = ""
    id: int | None = None


register_publish(Gps)
register_publish(Act)


def _device(conn: Connection, msg_id: int | None) -> Principal:
    p = conn.principal
    if p is None or p.role != "tech" or not p.tech:
        raise ProtocolError("forbidden", "only a technician's token may publish this", msg_id)
    return p


async def on_gps(conn: Connection, msg: Gps, hub: Hub) -> None:
    p = _device(conn, msg.id)
    try:
        await dispatch_engine(hub).gps(p.tech or "", Fix(msg.t, msg.la, msg.lo, msg.s, msg.a),
                                       Actor(p.subject, "device"))
    except FixRejected as exc:
        metrics.PROTOCOL_ERRORS.labels(exc.code).inc()
        conn.reply(error_frame(exc, msg.id))
        return
    except DispatchFailure as exc:
        conn.reply(error_frame(exc, msg.id))
        return
    if msg.id is not None:
        conn.reply(Pong(msg.id))


async def on_act(conn: Connection, msg: Act, hub: Hub) -> None:
    p = _device(conn, msg.id)
    if not msg.j and msg.k not in JOBLESS:
        # A frame without its job is malformed, not a job nobody knows ("unknown job ").
        raise ProtocolError("invalid_message", f"{msg.k.value} needs j (the job it is about)",
                            msg.id, details={"field": "j"})
    act = Action(msg.aid, msg.k, msg.t, msg.j, msg.r)
    try:
        await dispatch_engine(hub).action(p.tech or "", act, Actor(p.subject, "device"))
    except DispatchFailure as exc:
        conn.reply(error_frame(exc, msg.id))
        return
    if msg.id is not None:
        conn.reply(Pong(msg.id))


PUBLISH_HANDLERS[Gps] = on_gps
PUBLISH_HANDLERS[Act] = on_act

# The region: topic builds on this module's feed and views (registered on import).
from realtime.hub import region_topic  # noqa: E402
