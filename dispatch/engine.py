"""The dispatch executor: every transport (HTTP, websocket publish ops, arq tasks, the
simulator) calls these methods. They validate input, ask the pure code what it needs
(fix rules, the geofence, drift), and run one store script per change. No business rule
lives in a route.

Recomputes are not run here: a change that needs one sets the region's ``dirty`` flag in
its script, and the engine asks its ``Enqueuer`` for a recompute (arq in production,
deduplicated per region by job id; the simulator runs them in simulated time).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import msgspec

from dispatch import checkpoint, keys, settle, transitions
from dispatch import gps as gpsrules
from dispatch.errors import (
    BadRequest,
    Conflict,
    FixStale,
    UnknownJob,
    UnknownOrg,
    UnknownRegion,
    UnknownTechnician,
)
from dispatch.geo import MatrixProvider, haversine_m, provider_for
from dispatch.geocode import Geocoder
from dispatch.geofence import ARRIVE, Geofence, Params, for_job, step
from dispatch.kpi import Kpis
from dispatch.model import (
    JOBLESS,
    Action,
    ActionKind,
    BatchRequest,
    JobRequest,
    JobStatus,
    OrgSpec,
    RegionConfig,
    TechnicianSpec,
)
from dispatch.records import decode_hash, job_view, normalise, tech_view
from dispatch.store import Store
from dispatch.transitions import Op, TechOp
from queueing import phone

log = logging.getLogger("switchboard.dispatch")


def wall_ms() -> int:
    """The host's clock, epoch ms: the default of engines built without a clock (the
    simulator passes its own). The server and the worker pass theirs, realtime/clock.py's
    ``now_ms`` (Redis's time while the host's clock is off); dispatch imports no realtime."""
    return time.time_ns() // 1_000_000


# How far ahead a job's window may end (its tracking token lasts until then).
WINDOW_AHEAD_MS = 366 * 86400 * 1000


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks, and through which channel: recorded on every event (the audit log)."""

    subject: str
    via: str = "api"


SYSTEM = Actor("dispatch", "worker")
GEOFENCE = Actor("geofence", "gps")
# A manual arrival is judged by the technician's fix nearest in time, if within this.
ARRIVE_FIX_WINDOW_MS = 120_000


class Enqueuer(Protocol):
    """Where recomputes and offer timers go (arq in production)."""

    async def recompute(self, region: str, reason: str, defer_s: float = 0.0) -> None: ...

    async def offer_timeout(self, region: str, job: str, n: int, deadline_ms: int) -> None: ...


class NoEnqueuer:
    """Records requests and runs nothing (tests that drive recomputes themselves)."""

    def __init__(self) -> None:
        self.recomputes: list[tuple[str, str]] = []
        self.deferred: list[tuple[str, str, float]] = []  # asked for in defer_s seconds
        self.timers: list[tuple[str, str, int, int]] = []

    async def recompute(self, region: str, reason: str, defer_s: float = 0.0) -> None:
        if defer_s > 0:
            self.deferred.append((region, reason, defer_s))
        else:
            self.recomputes.append((region, reason))

    async def offer_timeout(self, region: str, job: str, n: int, deadline_ms: int) -> None:
        self.timers.append((region, job, n, deadline_ms))


@dataclass(slots=True)
class _Cached:
    config: RegionConfig
    provider: MatrixProvider
    at: float


@dataclass(frozen=True, slots=True)
class FixResult:
    offset: str
    arrived: str | None = None  # job id, when this fix completed a geofence arrival
    trigger: str | None = None  # why a recompute was asked for


@dataclass
class _Limiter:
    """At most one drift trigger per technician per ``every_s`` (in this process)."""

    every_s: float = 30.0
    last: dict[str, float] = field(default_factory=dict)

    def allow(self, tech: str, now_ms: int) -> bool:
        if now_ms / 1000 - self.last.get(tech, -1e18) < self.every_s:
            return False
        self.last[tech] = now_ms / 1000
        return True


def _json(obj: Any) -> str:
    return msgspec.json.encode(obj).decode()


RULES = _json(transitions.table())


class DispatchEngine:
    """Dispatch operations for every region in one Redis."""

    def __init__(self, store: Store, clock: Callable[[], int] = wall_ms,
                 enqueuer: Enqueuer | None = None, geocoder: Geocoder | None = None,
                 config_ttl_s: float = 2.0, action_ttl_s: int = 2 * 86400,
                 gps_history: int = 100) -> None:
        self.store = store
        self.redis = store.redis
        self.clock = clock
        self.enqueuer: Enqueuer = enqueuer or NoEnqueuer()
        self.geocoder = geocoder
        self.config_ttl_s = config_ttl_s
        self.action_ttl_s = action_ttl_s
        self.gps_history = gps_history
        # The offline-replay window: a device back after hours replays its buffered fixes,
        # as its actions, which are remembered as long (act:<tech>:<aid>); an older fix is
        # refused (gps_stale).
        self.gps_max_age_s = action_ttl_s
        self._configs: dict[str, _Cached] = {}
        self._drift = _Limiter()

    # -- regions ---------------------------------------------------------------------------

    async def put_region(self, region: str, cfg: RegionConfig, actor: Actor) -> dict[str, Any]:
        if not keys.IDENT.fullmatch(region):
            raise BadRequest("region ids are 1-64 letters, digits, '_' or '-'", field="region")
        _validate_region(cfg)
        await self._check_zones_served(region, {z.id for z in cfg.zones})
        result = await self.store.run("put_region", region, self.clock(), actor.subject,
                                      actor.via, _json(cfg), secrets.token_hex(4))
        await self.redis.sadd(keys.REGIONS, region)  # type: ignore[misc]
        self._configs.pop(region, None)
        if result.get("changed"):
            await self.enqueuer.recompute(region, "region_updated")
        return result

    async def _check_zones_served(self, region: str, kept: set[str]) -> None:
        """Refuse to drop a zone a technician serves: that technician was left serving
        nothing (its accepted jobs withdrawn) and could not be saved again (unknown zone)."""
        p = keys.prefix(region)
        ids = sorted(m.decode() for m in await self.redis.smembers(p + "techs"))  # type: ignore[misc]
        pipe = self.redis.pipeline(transaction=False)
        for tid in ids:
            pipe.hget(p + "tech:" + tid, "zones")
        served: dict[str, list[str]] = {}
        for tid, zones in zip(ids, await pipe.execute(), strict=True):
            for z in (zones or b"").decode().split(","):
                if z and z not in kept:
                    served.setdefault(z, []).append(tid)
        if served:
            zone = min(served)
            raise Conflict(f"zone {zone} is served by {', '.join(served[zone])}: change their "
                           "zones first", zones=sorted(served), technicians=served[zone])

    async def _cached(self, region: str) -> _Cached:
        hit = self._configs.get(region)
        if hit and time.monotonic() - hit.at < self.config_ttl_s:
            return hit
        raw = await self.redis.get(keys.prefix(region) + "config")
        if raw is None:
            raise UnknownRegion(f"unknown region {region}")
        cfg = msgspec.json.decode(raw, type=RegionConfig)
        p = cfg.policy
        hit = _Cached(cfg, provider_for(p.speed_kmh, p.detour, p.osrm_url, p.speed_by_hour),
                      time.monotonic())
        self._configs[region] = hit
        return hit

    async def config(self, region: str) -> RegionConfig:
        return (await self._cached(region)).config

    async def provider(self, region: str) -> MatrixProvider:
        return (await self._cached(region)).provider

    async def region(self, region: str) -> dict[str, Any]:
        cfg = await self.config(region)
        p = keys.prefix(region)
        pipe = self.redis.pipeline(transaction=False)
        pipe.scard(p + "techs")
        pipe.scard(p + "open")
        pipe.hgetall(p + "plan")
        n_techs, n_open, plan = await pipe.execute()
        meta = {k.decode(): v.decode() for k, v in plan.items()}
        return {"id": region, **msgspec.to_builtins(cfg), "technicians": n_techs,
                "open_jobs": n_open,
                "plan": {k: (v if k == "reason" else float(v) if "." in v else int(v or 0))
                         for k, v in meta.items()}}

    async def regions(self) -> list[str]:
        members = await self.redis.smembers(keys.REGIONS)  # type: ignore[misc]
        return sorted(m.decode() for m in members)

    # -- technicians -----------------------------------------------------------------------

    async def put_tech(self, tech_id: str, spec: TechnicianSpec, actor: Actor
                       ) -> dict[str, Any]:
        region = _region_of(tech_id, UnknownTechnician)
        cfg = await self.config(region)
        known = {z.id for z in cfg.zones}
        unknown = [z for z in spec.zones if z not in known]
        if unknown:
            raise BadRequest(f"unknown zones {unknown}", field="zones")
        fields = {"name": spec.name, "skills": ",".join(sorted(set(spec.skills))),
                  "rating": spec.rating, "zones": ",".join(spec.zones),
                  "shift_start": spec.shift.start, "shift_end": spec.shift.end,
                  "breaks": _json(spec.breaks), "home_lat": spec.home.lat,
                  "home_lon": spec.home.lon, "max_jobs": spec.max_jobs or ""}
        r = await self.store.run("put_tech", region, self.clock(), actor.subject, actor.via,
                                 tech_id, _json(fields))
        if r.get("changed"):
            await self.enqueuer.recompute(region, "tech_updated")
        return tech_view(normalise(r["tech"]))

    async def tech_record(self, tech_id: str) -> dict[str, Any]:
        """The technician's hash, decoded (what the hub's region view holds)."""
        return await self._record("tech", tech_id, UnknownTechnician, "technician")

    async def _record(self, kind: str, some_id: str, missing: type[Exception], noun: str
                      ) -> dict[str, Any]:
        region = _region_of(some_id, missing)
        raw = await self.redis.hgetall(  # type: ignore[misc]
            f"{keys.prefix(region)}{kind}:{some_id}")
        if not raw:
            raise missing(f"unknown {noun} {some_id}")
        return decode_hash(raw)

    async def tech(self, tech_id: str) -> dict[str, Any]:
        region = _region_of(tech_id, UnknownTechnician)
        p = keys.prefix(region)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(p + "tech:" + tech_id)
        pipe.get(p + "route:" + tech_id)
        raw, route = await pipe.execute()
        if not raw:
            raise UnknownTechnician(f"unknown technician {tech_id}")
        t = decode_hash(raw)
        stops = _stops(route)
        return {**tech_view(t), "route": stops}

    async def remove_tech(self, tech_id: str, actor: Actor) -> dict[str, Any]:
        """Remove a technician who left (lua/tech_remove.lua): refused (``technician_busy``,
        ``details.jobs``) while a job is assigned to it or under way; jobs only offered to
        it are taken back. Its device actions' kept answers go with it."""
        region = _region_of(tech_id, UnknownTechnician)
        r = await self.store.run("tech_remove", region, self.clock(), actor.subject,
                                 actor.via, tech_id)
        withdrawn = sorted(r.get("withdrawn") or [])  # Lua writes an empty list as {}
        actions = 0
        async for key in self.redis.scan_iter(match=f"{keys.prefix(region)}act:{tech_id}:*",
                                              count=1000):
            actions += await self.redis.delete(key)
        if withdrawn:
            await self._nudge(region, "tech_removed")
        return {"technician": tech_id, "removed": True, "withdrawn": withdrawn,
                "fixes": r["fixes"], "actions": actions}

    # -- organisations ---------------------------------------------------------------------

    async def put_org(self, org_id: str, spec: OrgSpec, actor: Actor) -> dict[str, Any]:
        region = _region_of(org_id, UnknownOrg)
        r = await self.store.run("put_org", region, self.clock(), actor.subject, actor.via,
                                 org_id, spec.name)
        org: dict[str, Any] = r["org"]
        return org

    async def org(self, org_id: str) -> dict[str, Any]:
        region = _region_of(org_id, UnknownOrg)
        p = keys.prefix(region)
        name = await self.redis.hget(p + "org:" + org_id, "name")  # type: ignore[misc]
        if name is None:
            raise UnknownOrg(f"unknown organisation {org_id}")
        batches = sorted(b.decode() for b in await self.redis.smembers(  # type: ignore[misc]
            p + "batches:" + org_id))
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(p + "orgstat:" + org_id)
        for b in batches:
            pipe.hgetall(p + "batch:" + b)
            pipe.hgetall(p + "bstat:" + b)
        res = await pipe.execute()
        out_batches = []
        for i, _ in enumerate(batches):
            info = decode_hash(res[1 + 2 * i])
            out_batches.append({**info, "counts": _counts(res[2 + 2 * i])})
        return {"id": org_id, "name": name.decode(), "counts": _counts(res[0]),
                "batches": out_batches}

    # -- jobs ------------------------------------------------------------------------------

    async def _job_fields(self, region: str, req: JobRequest, org: str) -> dict[str, Any]:
        if req.location is not None:
            lat, lon = req.location.lat, req.location.lon
        elif req.address and self.geocoder is not None:
            found = await self.geocoder.geocode(req.address)
            if found is None:
                raise BadRequest(f"address not found: {req.address!r}", field="address")
            lat, lon = found
        else:
            raise BadRequest("a job needs a location (no geocoder is configured for "
                             "addresses)", field="location")
        if req.window is not None and req.window.end_ms <= req.window.start_ms:
            raise BadRequest("window end must be after its start", field="window")
        if req.window is not None and req.window.end_ms <= self.clock():
            # A mistyped date (yesterday's): planned "as soon as possible", silently late.
            raise BadRequest("the window has already ended", field="window")
        if req.window is not None and req.window.end_ms > self.clock() + WINDOW_AHEAD_MS:
            # A year ahead at most: the customer's tracking link lasts until the window
            # ends (a mistyped year would hand out a link valid for ever).
            raise BadRequest("the window ends more than a year ahead", field="window")
        if org and keys.region_of(org) != region:
            raise UnknownOrg(f"organisation {org} is not in region {region}")
        return {"id": f"{region}.j-{secrets.token_hex(6)}", "lat": lat, "lon": lon,
                "address": req.address, "skills": ",".join(sorted(set(req.skills))),
                "duration_s": req.duration_s,
                "win_start": req.window.start_ms if req.window else "",
                "win_end": req.window.end_ms if req.window else "",
                "priority": req.priority, "org": org, "customer": req.customer,
                "note": req.note}

    async def create_job(self, region: str, req: JobRequest, actor: Actor) -> dict[str, Any]:
        await self.config(region)
        fields = await self._job_fields(region, req, req.org or "")
        await self.store.run("job_create", region, self.clock(), actor.subject, actor.via,
                             _json([fields]), "")
        await self._nudge(region, "urgent_job" if req.priority >= 80 else "job")
        return await self.job(fields["id"])

    async def _nudge(self, region: str, reason: str) -> None:
        """Queue a recompute for what was just created. It is stored already (a pending
        job): a failure here must not tell the caller it failed — a retry would create it
        twice — and the worker's sweep finds pending jobs on its next round anyway."""
        try:
            await self.enqueuer.recompute(region, reason)
        except Exception as exc:  # the queue's Redis slow or restarting
            log.warning("recompute of %s not queued (%s): the sweep will do it", region, exc)

    async def create_batch(self, org_id: str, req: BatchRequest, actor: Actor
                           ) -> dict[str, Any]:
        region = _region_of(org_id, UnknownOrg)
        await self.config(region)
        rows = []
        for i, jr in enumerate(req.jobs):
            if jr.org not in (None, "", org_id):
                raise BadRequest(f"job {i} names another organisation", field=f"jobs[{i}].org")
            try:
                rows.append(await self._job_fields(region, jr, org_id))
            except BadRequest as exc:
                # Which of the batch's jobs is wrong (of 200, "window" alone says nothing).
                where = f"jobs[{i}]"
                field_ = exc.details.get("field")
                exc.details["field"] = f"{where}.{field_}" if field_ else where
                raise BadRequest(f"job {i}: {exc.message}", **exc.details) from None
        batch = {"id": f"{region}.b-{secrets.token_hex(5)}", "org": org_id, "name": req.name}
        await self.store.run("job_create", region, self.clock(), actor.subject, actor.via,
                             _json(rows), _json(batch))
        await self._nudge(region, "batch")
        return {**batch, "size": len(rows), "jobs": [r["id"] for r in rows]}

    async def job_record(self, job_id: str) -> dict[str, Any]:
        return await self._record("job", job_id, UnknownJob, "job")

    async def job(self, job_id: str) -> dict[str, Any]:
        return job_view(await self.job_record(job_id))

    async def open_jobs(self, region: str, statuses: frozenset[str] = frozenset()
                        ) -> list[dict[str, Any]]:
        """The region's open jobs (every status but done, cancelled and failed), oldest
        first; only those in ``statuses`` if any are named. A dispatcher's work list: an
        unassignable job is on nobody's route, so the plan does not show it."""
        await self.config(region)
        p = keys.prefix(region)
        ids = sorted(m.decode() for m in await self.redis.smembers(p + "open"))  # type: ignore[misc]
        pipe = self.redis.pipeline(transaction=False)
        for jid in ids:
            pipe.hgetall(p + "job:" + jid)
        jobs = [job_view(decode_hash(raw)) for raw in await pipe.execute() if raw]
        wanted = [j for j in jobs if not statuses or j["status"] in statuses]
        return sorted(wanted, key=lambda j: (j["created_ms"] or 0, j["id"]))

    async def cancel_job(self, job_id: str, reason: str, actor: Actor) -> dict[str, Any]:
        region = _region_of(job_id, UnknownJob)
        r = await self.store.run("job_cancel", region, self.clock(), actor.subject, actor.via,
                                 job_id, transitions.sources(Op.CANCEL), reason or "cancelled",
                                 transitions.tech_sources(TechOp.FINISH))
        await self.enqueuer.recompute(region, "job_cancelled")
        return job_view(normalise(r["job"]))

    async def retry_job(self, job_id: str, actor: Actor) -> dict[str, Any]:
        """Offer a job nobody took to everyone again (a dispatcher's "try again"): who
        declined it or let its offer expire may have it now. Without this a job declined by
        every technician who could do it stayed unassignable for good."""
        region = _region_of(job_id, UnknownJob)
        r = await self.store.run("job_retry", region, self.clock(), actor.subject, actor.via,
                                 job_id, transitions.sources(Op.RETRY))
        await self.enqueuer.recompute(region, "job_retried")
        return job_view(normalise(r["job"]))

    # -- devices ---------------------------------------------------------------------------

    async def action(self, tech_id: str, act: Action, actor: Actor) -> dict[str, Any]:
        """Apply one device action at most once (its ``aid``); returns the result, with
        ``replay: true`` when the action had been applied before."""
        region = _region_of(tech_id, UnknownTechnician)
        if not act.j and act.k not in JOBLESS:
            raise BadRequest(f"{act.k.value} needs j (the job it is about)", field="j")
        if act.j and keys.region_of(act.j) != region:
            raise UnknownJob(f"unknown job {act.j}")
        dist = ""
        if act.k is ActionKind.ARRIVE and act.j:
            d = await self._distance_at(region, tech_id, act.j, act.t)
            far = (await self._cached(region)).config.policy.arrive_far_m
            dist = "" if d is None else f"{round(d)}|{int(d > far)}"
        # At a shift start the pass waits for the others' log-ins (dispatch/settle.py); the
        # script holds the region's passes for as long, in the same step as the log-in.
        wait = (await self._online_settle(region, tech_id)
                if act.k is ActionKind.ONLINE else 0.0)
        r = await self.store.run("action", region, self.clock(), actor.subject, actor.via,
                                 tech_id, act.aid, act.k.value, act.j, act.t, act.r, RULES,
                                 self.action_ttl_s, dist, int(wait * 1000))
        if not r.get("replay") and act.k is ActionKind.ONLINE:
            if wait > 0:
                await self.enqueuer.recompute(region, "action_online", defer_s=wait)
            else:
                await self.enqueuer.recompute(region, "action_online")
        elif not r.get("replay") and act.k is not ActionKind.ACCEPT:
            # Accepting changes no plan; everything else leaves work (pending or dirty).
            await self.enqueuer.recompute(region, f"action_{act.k.value}")
        out: dict[str, Any] = {"action": act.aid, "replay": bool(r.get("replay")),
                               "technician": r.get("tech")}
        if r.get("job"):
            out["job"] = job_view(normalise(r["job"]))
        return out

    async def _online_settle(self, region: str, tech_id: str) -> float:
        """How long the pass ``tech_id``'s log-in asks for should wait (dispatch/settle.py):
        the region's other technicians' statuses and shifts, read here (before the log-in,
        whose step holds the passes)."""
        cfg = (await self._cached(region)).config
        if cfg.policy.online_settle_s <= 0:
            return 0.0
        p = keys.prefix(region)
        ids = sorted(m.decode() for m in await self.redis.smembers(p + "techs")  # type: ignore[misc]
                     if m.decode() != tech_id)
        pipe = self.redis.pipeline(transaction=False)
        for tid in ids:
            pipe.hmget(p + "tech:" + tid, ["status", "shift_start", "shift_end"])
        techs = {tid: {"status": (st or b"").decode(), "shift_start": (a or b"").decode(),
                       "shift_end": (b or b"").decode()}
                 for tid, (st, a, b) in zip(ids, await pipe.execute(), strict=True)}
        return settle.online_settle_s(self.clock(), techs, ZoneInfo(cfg.timezone), cfg.policy)

    async def _distance_at(self, region: str, tech_id: str, job_id: str, t_ms: int
                           ) -> float | None:
        """How far the technician was from the job at ``t_ms`` by its GPS: the fix nearest
        in time (within 2 min), less its reported accuracy; None without such a fix (GPS
        off, indoors, an unknown job: nothing to judge by)."""
        loc = await self.redis.hmget(keys.prefix(region) + "job:" + job_id,  # type: ignore[misc]
                                     ["lat", "lon"])
        if loc[0] is None:
            return None
        rows = await self.redis.xrevrange(keys.prefix(region) + "gps:" + tech_id, count=120)
        near = [(abs(int(f[b"t"]) - t_ms), f) for _, f in rows
                if abs(int(f[b"t"]) - t_ms) <= ARRIVE_FIX_WINDOW_MS]
        if not near:
            return None
        f = min(near, key=lambda x: x[0])[1]
        d = haversine_m((float(f[b"la"]), float(f[b"lo"])), (float(loc[0]), float(loc[1])))
        return max(0.0, d - min(float(f.get(b"a") or 0), 100.0))

    async def gps(self, tech_id: str, fix: gpsrules.Fix, actor: Actor) -> FixResult:
        """Validate and apply one fix (lua/gps.lua), then run the geofence and drift checks
        on it. Raises a ``FixRejected`` subclass with the reason code."""
        region = _region_of(tech_id, UnknownTechnician)
        c = await self._cached(region)
        pol = c.config.policy
        now = self.clock()
        if gpsrules.stale(fix, now, self.gps_max_age_s):
            raise FixStale(_stale_message(fix.t, now, self.gps_max_age_s))
        r = await self.store.run(
            "gps", region, now, actor.subject, actor.via, tech_id, fix.t, repr(fix.lat),
            repr(fix.lon), "" if fix.speed is None else repr(fix.speed),
            "" if fix.accuracy is None else repr(fix.accuracy), pol.max_future_s,
            pol.max_speed_kmh, self.gps_history)
        job = r.get("job")
        arrived = None
        if job and job.get("status") in ("en_route", "on_site", "assigned"):
            arrived = await self._geofence(region, tech_id, fix, job, r.get("geof") or "", pol)
        trigger = None
        live = eta = None
        if job and job.get("status") == JobStatus.EN_ROUTE and job.get("eta_ms"):
            live, _ = c.provider.pair((fix.lat, fix.lon), (job["lat"], job["lon"]),
                                      _hour(fix.t, c.config.timezone))
            eta = int(job["eta_ms"])
        planned = None
        if r.get("plan_lat") not in (None, ""):
            planned = (float(r["plan_lat"]), float(r["plan_lon"]))
        reason = gpsrules.drift_reason(fix, planned, eta, live, pol.gps_drift_m, pol.eta_drift_s)
        if reason and self._drift.allow(tech_id, now):
            trigger = reason
            await self.redis.sadd(keys.prefix(region) + "dirty", tech_id)  # type: ignore[misc]
            await self.enqueuer.recompute(region, reason)
        return FixResult(r["offset"], arrived, trigger)

    async def _geofence(self, region: str, tech_id: str, fix: gpsrules.Fix,
                        job: dict[str, Any], raw: str, pol: Any) -> str | None:
        params = Params(pol.geofence_enter_m, pol.geofence_exit_m, pol.geofence_dwell_s)
        g0 = Geofence.decode(raw)
        g = for_job(g0, job["id"], inside=job.get("status") == "on_site")
        dist = haversine_m((fix.lat, fix.lon), (job["lat"], job["lon"]))
        g2, ev = step(g, dist, fix.t, params)
        if g2 == g0 and ev is None:
            return None
        r = await self.store.run(
            "geofence", region, self.clock(), GEOFENCE.subject, GEOFENCE.via, tech_id, fix.t,
            job["id"], g2.encode(), ev or "", transitions.sources(Op.ARRIVE),
            transitions.tech_sources(TechOp.ARRIVE))
        if r.get("arrived"):
            await self.enqueuer.recompute(region, "geofence_arrival")
            return str(job["id"]) if ev == ARRIVE else None
        return None

    async def history(self, tech_id: str, count: int = 100) -> list[dict[str, Any]]:
        """The technician's last fixes, newest last."""
        region = _region_of(tech_id, UnknownTechnician)
        rows = await self.redis.xrevrange(keys.prefix(region) + "gps:" + tech_id, count=count)
        return [{"t": int(f[b"t"]), "lat": float(f[b"la"]), "lon": float(f[b"lo"])}
                for _, f in reversed(rows)]

    # -- offers ----------------------------------------------------------------------------

    async def expire_offer(self, region: str, job_id: str, n: int) -> bool:
        r = await self.store.run("offer_expire", region, self.clock(), SYSTEM.subject,
                                 SYSTEM.via, job_id, n)
        if r.get("expired"):
            await self.enqueuer.recompute(region, "offer_expired")
        return bool(r.get("expired"))

    # -- hub support -----------------------------------------------------------------------

    async def snapshot(self, region: str) -> dict[str, Any]:
        return await self.store.run("snapshot", region, self.clock(), "", "")

    async def trim(self, region: str, keep_ms: int, keep_entries: int, floor: str = ""
                   ) -> dict[str, Any]:
        return await self.store.run("trim", region, self.clock(), "", "", keep_ms, keep_entries,
                                    floor)

    # -- KPIs ------------------------------------------------------------------------------

    async def kpis(self, region: str, fold: bool = False) -> Kpis:
        """The region's KPIs: the stored checkpoint plus every event after it (and, with
        ``fold``, the checkpoint moved up to now, by compare-and-set: dispatch/checkpoint.py),
        per local day of the region's time zone."""
        cfg = await self.config(region)
        return await checkpoint.fold(self.store, region, write=fold, tz=cfg.timezone)


def _validate_region(cfg: RegionConfig) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        ZoneInfo(cfg.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadRequest(f"unknown time zone {cfg.timezone!r}", field="timezone") from exc
    if cfg.country is not None:
        phone.check_country(cfg.country)
    ids = [z.id for z in cfg.zones]
    if len(set(ids)) != len(ids):
        raise BadRequest("zone ids must be unique", field="zones")
    p = cfg.policy
    if p.geofence_exit_m <= p.geofence_enter_m:
        raise BadRequest("geofence_exit_m must be larger than geofence_enter_m",
                         field="policy.geofence_exit_m")
    from shapely.geometry import Polygon
    for i, z in enumerate(cfg.zones):
        shape = Polygon(z.polygon)
        # Its corners on one line (or repeated): it encloses nothing (exactly collinear
        # corners read as "invalid", nearly collinear ones as valid with ~1e-16 deg²). A
        # real zone is thousands of m² at least; 1e-9 deg² is some 12 m².
        if shape.convex_hull.area < 1e-9:
            raise BadRequest(f"zone {z.id} encloses no area (its corners lie on one line)",
                             field=f"zones[{i}].polygon")
        if not shape.is_valid:
            raise BadRequest(f"zone {z.id} is not a valid polygon (it crosses itself)",
                             field=f"zones[{i}].polygon")


def _region_of(some_id: str, missing: type[Exception]) -> str:
    region = keys.region_of(some_id)
    if not region or not keys.valid_id(some_id):
        raise missing(f"unknown id {some_id!r}")
    return region


def _stale_message(t_ms: int, now_ms: int, max_age_s: int) -> str:
    hint = " (epoch milliseconds are expected: is it in seconds?)" if t_ms < 10**11 else ""
    return (f"fix time is {(now_ms - t_ms) // 1000} s before the server's, more than a "
            f"device's buffered fixes may be ({max_age_s} s){hint}")


def _stops(raw: bytes | None) -> list[dict[str, Any]]:
    if not raw:
        return []
    stops = msgspec.json.decode(raw).get("stops") or []
    return list(stops) if isinstance(stops, list) else []


def _counts(raw: dict[bytes, bytes]) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in raw.items() if int(v)}


def _hour(t_ms: int, tz: str) -> int:
    from datetime import datetime
    from zoneinfo import ZoneInfo
    return datetime.fromtimestamp(t_ms / 1000, ZoneInfo(tz)).hour
