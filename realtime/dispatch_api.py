"""HTTP routes of dispatch: thin adapters that decode, authorise, call the dispatch engine,
encode. The REST device endpoints (``/gps``, ``/actions``) are the fallback for a device
without its websocket; both take batches, so a device back online can send what it buffered.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from dispatch import keys as dkeys
from dispatch.engine import Actor, DispatchEngine
from dispatch.errors import BadRequest, DispatchFailure, UnknownJob, UnknownOrg, UnknownTechnician
from dispatch.gps import Fix
from dispatch.kpi import valid_day
from dispatch.model import (
    Actions,
    BatchRequest,
    CancelBody,
    Fixes,
    JobRequest,
    JobStatus,
    OrgSpec,
    RegionConfig,
    TechnicianSpec,
)
from dispatch.recompute import WHOLE
from queueing.errors import Forbidden
from realtime import clock, idempotency
from realtime.auth import Principal, make_token
from realtime.body import decode, json_body, read_back, read_body
from realtime.context import Context, ctx, principal
from realtime.docs import Operation, register
from realtime.settings import Settings

log = logging.getLogger("switchboard.auth")


def _engine(request: Request) -> DispatchEngine:
    from realtime.hub.dispatch_topics import dispatch_engine
    return dispatch_engine(ctx(request).hub)


def _json(data: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(data), status_code=status, media_type="application/json")


def _actor(p: Principal, via: str = "api") -> Actor:
    return Actor(p.subject, via)


def _staff(p: Principal, region: str) -> None:
    """Admins, or the dispatcher of ``region``."""
    if p.is_admin or (p.role == "dispatcher" and p.region == region):
        return
    raise Forbidden(f"a {p.role} token cannot do this in region {region}", role=p.role)


def _is_staff(p: Principal, region: str) -> bool:
    return p.is_admin or (p.role == "dispatcher" and p.region == region)


def _limit(request: Request) -> int:
    return ctx(request).settings.max_body_bytes


def _document_limit(request: Request) -> int:
    """For a region (zone polygons) or a batch (up to 1,000 jobs): read only after the
    token was checked (realtime/settings.py ``max_document_bytes``)."""
    return ctx(request).settings.max_document_bytes


# -- regions --------------------------------------------------------------------------------

async def list_regions(request: Request) -> Response:
    principal(request).require("admin")
    return _json({"regions": await _engine(request).regions()})


async def put_region(request: Request) -> Response:
    p = principal(request)
    p.require("admin")
    region = request.path_params["region"]
    raw = await read_body(request, _document_limit(request))
    # What GET answers (its id, counts and plan state) can be put back as it is.
    body, _ = read_back(raw, region, "region", ("technicians", "open_jobs", "plan"))
    cfg = decode(body, RegionConfig)
    eng = _engine(request)
    await eng.put_region(region, cfg, _actor(p))
    return _json(await eng.region(region))


async def get_region(request: Request) -> Response:
    region = request.path_params["region"]
    _staff(principal(request), region)
    return _json(await _engine(request).region(region))


async def recompute(request: Request) -> Response:
    region = request.path_params["region"]
    _staff(principal(request), region)
    eng = _engine(request)
    await eng.config(region)
    await eng.redis.sadd(dkeys.prefix(region) + "dirty", WHOLE)  # type: ignore[misc]
    await eng.enqueuer.recompute(region, "requested")
    return _json({"queued": True}, 202)


async def get_plan(request: Request) -> Response:
    region = request.path_params["region"]
    _staff(principal(request), region)
    eng = _engine(request)
    techs = sorted(t.decode() for t in await eng.redis.smembers(  # type: ignore[misc]
        dkeys.prefix(region) + "techs"))
    return _json({"region": region, **(await eng.region(region))["plan"],
                  "routes": {t: (await eng.tech(t))["route"] for t in techs}})


def _kpi_day(request: Request) -> str | None:
    """``?date=YYYY-MM-DD``: a local day of the region (None: today)."""
    day = request.query_params.get("date")
    if day is None:
        return None
    if not valid_day(day):
        raise BadRequest(f"date must be a day as YYYY-MM-DD, not {day[:20]!r}", field="date")
    return day


async def region_kpis(request: Request) -> Response:
    """One local day's KPIs (today by default; ``kept`` false: a day the KPIs do not hold,
    so no figures)."""
    region = request.path_params["region"]
    _staff(principal(request), region)
    day = _kpi_day(request)
    eng = _engine(request)
    k = await eng.kpis(region)
    return _json({"region": region, **k.summary(eng.clock(), day=day)})


async def region_jobs(request: Request) -> Response:
    """Open jobs, optionally ``?status=unassignable,new`` (each with its reason)."""
    region = request.path_params["region"]
    _staff(principal(request), region)
    wanted = frozenset(s for s in request.query_params.get("status", "").split(",") if s)
    unknown = sorted(wanted - {s.value for s in JobStatus})
    if unknown:
        raise BadRequest(f"unknown job statuses {unknown}", field="status")
    return _json({"region": region, "jobs": await _engine(request).open_jobs(region, wanted)})


# -- technicians ----------------------------------------------------------------------------

def _tech_region(request: Request) -> tuple[str, str]:
    tid = request.path_params["tech"]
    return tid, _region_in(tid, UnknownTechnician, "technician")


def _region_in(some_id: str, missing: type[DispatchFailure], noun: str) -> str:
    """The region an id names; an id that names none is unknown (404), not a 403 "cannot
    do this in region ''" for a dispatcher who mistyped it."""
    region = dkeys.region_of(some_id)
    if not region or not dkeys.valid_id(some_id):
        raise missing(f"unknown {noun} {some_id!r} (ids are <region>.<id>)")
    return region


async def put_tech(request: Request) -> Response:
    tid, region = _tech_region(request)
    p = principal(request)
    _staff(p, region)
    spec = await json_body(request, TechnicianSpec, _limit(request))
    return _json(await _engine(request).put_tech(tid, spec, _actor(p)))


async def delete_tech(request: Request) -> Response:
    """Remove a technician who left: its profile, position and GPS history; its device
    tokens revoked. Refused while it has work (technician_busy)."""
    tid, region = _tech_region(request)
    p = principal(request)
    _staff(p, region)
    out = await _engine(request).remove_tech(tid, _actor(p))
    await revoke_tech_tokens(ctx(request), tid)
    return _json(out)


async def revoke_tech_tokens(c: Context, tid: str) -> None:
    """Every device token of a technician who left, minted up to now (a tech token's subject
    is ``tech:<id>``, realtime/auth.py): a technician put again under the same id gets new
    ones."""
    await c.revocations.revoke_subject(c.redis, f"tech:{tid}", clock.now_s())


def _self_or_staff(p: Principal, tid: str, region: str) -> None:
    if p.role == "tech" and p.tech == tid:
        return
    _staff(p, region)


async def get_tech(request: Request) -> Response:
    tid, region = _tech_region(request)
    _self_or_staff(principal(request), tid, region)
    return _json(await _engine(request).tech(tid))


async def tech_token(request: Request) -> Response:
    tid, region = _tech_region(request)
    _staff(principal(request), region)
    await _engine(request).tech(tid)
    c = ctx(request)
    # A wristband's token: weeks, as from `switchboard token tech` (revocable on its own).
    token = make_token(c.secret, "tech", tech=tid, ttl_s=c.settings.staff_token_ttl_s)
    return _json({"technician": tid, "token": token})


async def post_gps(request: Request) -> Response:
    """A batch of fixes (REST fallback), applied in order; each rejected one is reported."""
    tid, region = _tech_region(request)
    p = principal(request)
    _self_or_staff(p, tid, region)
    body = await json_body(request, Fixes, _limit(request))
    eng = _engine(request)
    accepted, rejected, arrived = 0, [], []
    # A buffered batch is applied oldest first; indexes refer to the batch as sent.
    for i, f in sorted(enumerate(body.fixes), key=lambda x: x[1].t):
        try:
            res = await eng.gps(tid, Fix(f.t, f.la, f.lo, f.s, f.a), _actor(p, "device"))
        except DispatchFailure as exc:
            if exc.status != 422:
                raise
            rejected.append({"index": i, "t": f.t, "code": exc.code, "message": exc.message})
            continue
        accepted += 1
        if res.arrived:
            arrived.append(res.arrived)
    return _json({"accepted": accepted, "rejected": rejected, "arrived": arrived})


async def post_actions(request: Request) -> Response:
    """A batch of device actions (a device back online sends what it did offline), applied
    in order, each at most once (by ``aid``)."""
    tid, region = _tech_region(request)
    p = principal(request)
    _self_or_staff(p, tid, region)
    body = await json_body(request, Actions, _limit(request))
    eng = _engine(request)
    via = "device" if p.role == "tech" else "console"
    results = []
    for act in body.actions:
        try:
            r = await eng.action(tid, act, _actor(p, via))
            results.append({"aid": act.aid, "ok": True, "replay": r["replay"],
                            "job": r.get("job")})
        except DispatchFailure as exc:
            if exc.temporary:
                raise
            results.append({"aid": act.aid, "ok": False, **exc.to_dict()})
    return _json({"results": results})


async def tech_track(request: Request) -> Response:
    tid, region = _tech_region(request)
    _staff(principal(request), region)
    return _json({"technician": tid, "fixes": await _engine(request).history(tid)})


# -- jobs -----------------------------------------------------------------------------------

async def create_job(request: Request) -> Response:
    region = request.path_params["region"]
    p = principal(request)
    req = await json_body(request, JobRequest, _limit(request))
    if p.role == "org":
        if req.org not in (None, p.org):
            raise Forbidden("an organisation orders jobs for itself")
        req = msgspec.structs.replace(req, org=p.org)
        if dkeys.region_of(p.org or "") != region:
            raise Forbidden(f"this organisation is not in region {region}")
    else:
        _staff(p, region)

    async def make() -> tuple[int, Any]:
        return 201, _with_token(request, await _engine(request).create_job(region, req, _actor(p)))
    c = ctx(request)
    return await idempotency.once(c.redis, f"job:{region}", idempotency.caller(p),
                                  idempotency.header_key(request), req,
                                  c.settings.idempotency_ttl_s, make)


def customer_ttl_s(settings: Settings, end_ms: int | None, now_ms: int) -> int:
    """A customer's tracking token lasts until the job's window ends plus token_ttl_s: a
    job booked for next week had a link dead after token_ttl_s (a day), days before the
    technician came. The one rule for every customer link (a job's, a batch's, one minted
    later, ``POST /v1/tokens``)."""
    return settings.token_ttl_s + max(0, ((end_ms or 0) - now_ms) // 1000)


def _tracking(request: Request, jid: str, end_ms: int | None) -> tuple[str, str]:
    """A job's customer token and its tracking page's link."""
    c = ctx(request)
    token = make_token(c.secret, "customer", job=jid,
                       ttl_s=customer_ttl_s(c.settings, end_ms, _engine(request).clock()))
    return token, f"/track/{jid}?token={token}"


def _with_token(request: Request, job: dict[str, Any]) -> dict[str, Any]:
    token, tracker = _tracking(request, job["id"], (job.get("window") or {}).get("end_ms"))
    return {**job, "token": token, "topic": f"job:{job['id']}", "tracker": tracker}


async def _customer_job(request: Request, jid: str) -> dict[str, Any]:
    from realtime.hub.dispatch_topics import customer_job
    return await customer_job(_engine(request), jid)


async def _may_see_job(request: Request, jid: str) -> tuple[Principal, dict[str, Any]]:
    """The principal and the job as it may see it: its customer gets the ``job:`` topic's
    view (a first name once accepted, nothing internal); its organisation and staff all."""
    p = principal(request)
    region = dkeys.region_of(jid)
    if not region:
        raise UnknownJob(f"unknown job {jid}")
    if p.role == "customer":
        if p.job != jid:
            raise Forbidden("this token is for another job")
        return p, await _customer_job(request, jid)
    job = await _engine(request).job(jid)
    _its_org_or_staff(p, job, region)
    return p, job


def _its_org_or_staff(p: Principal, job: dict[str, Any], region: str) -> None:
    """The job's organisation, or staff of its region."""
    if not (p.role == "org" and p.org and job.get("org") == p.org):
        _staff(p, region)


async def get_job(request: Request) -> Response:
    _, job = await _may_see_job(request, request.path_params["job"])
    return _json(job)


async def cancel_job(request: Request) -> Response:
    jid = request.path_params["job"]
    p, _ = await _may_see_job(request, jid)
    body = await json_body(request, CancelBody, _limit(request), allow_empty=True)
    job = await _engine(request).cancel_job(jid, body.reason, _actor(p))
    return _json(await _customer_job(request, jid) if p.role == "customer" else job)


async def retry_job(request: Request) -> Response:
    jid = request.path_params["job"]
    p = principal(request)
    _staff(p, _region_in(jid, UnknownJob, "job"))
    return _json(await _engine(request).retry_job(jid, _actor(p)))


async def job_token(request: Request) -> Response:
    """A new customer link for a job (the first was lost, or a batch's job is handed to its
    customer later): its dispatcher and its organisation may, as they may create the job
    and read its token from the answer; it lasts as long as the first."""
    jid = request.path_params["job"]
    p = principal(request)
    region = _region_in(jid, UnknownJob, "job")
    if p.role != "org":
        _staff(p, region)  # before the look-up: another region's token learns nothing
    job = await _engine(request).job(jid)
    _its_org_or_staff(p, job, region)
    token, tracker = _tracking(request, jid, (job.get("window") or {}).get("end_ms"))
    log.info("%s minted a customer token for %s", p.subject, jid)
    return _json({"job": jid, "token": token, "topic": f"job:{jid}", "tracker": tracker}, 201)


# -- organisations --------------------------------------------------------------------------

def _org(request: Request) -> tuple[str, str]:
    oid = request.path_params["org"]
    return oid, _region_in(oid, UnknownOrg, "organisation")


def _org_or_staff(p: Principal, oid: str, region: str) -> None:
    if p.role == "org" and p.org == oid:
        return
    _staff(p, region)


async def put_org(request: Request) -> Response:
    oid, region = _org(request)
    p = principal(request)
    _staff(p, region)
    spec = await json_body(request, OrgSpec, _limit(request))
    return _json(await _engine(request).put_org(oid, spec, _actor(p)))


async def get_org(request: Request) -> Response:
    oid, region = _org(request)
    _org_or_staff(principal(request), oid, region)
    return _json(await _engine(request).org(oid))


async def create_batch(request: Request) -> Response:
    oid, region = _org(request)
    p = principal(request)
    _org_or_staff(p, oid, region)
    req = await json_body(request, BatchRequest, _document_limit(request))

    async def make() -> tuple[int, Any]:
        batch = await _engine(request).create_batch(oid, req, _actor(p))
        # Each job's tracking link, as a single job's (its token is in the link: ~330
        # bytes a job, 66 KB for 200). ``jobs`` stays the list of ids, in the batch's order.
        ends = [jr.window.end_ms if jr.window else None for jr in req.jobs]
        return 201, {**batch, "trackers": {
            jid: _tracking(request, jid, end)[1]
            for jid, end in zip(batch["jobs"], ends, strict=True)}}
    c = ctx(request)
    return await idempotency.once(c.redis, f"batch:{oid}", idempotency.caller(p),
                                  idempotency.header_key(request), req,
                                  c.settings.idempotency_ttl_s, make)


async def org_token(request: Request) -> Response:
    oid, region = _org(request)
    _staff(principal(request), region)
    await _engine(request).org(oid)
    c = ctx(request)
    return _json({"org": oid, "token": make_token(c.secret, "org", org=oid,
                                                  ttl_s=c.settings.staff_token_ttl_s)})


async def org_kpis(request: Request) -> Response:
    oid, region = _org(request)
    _org_or_staff(principal(request), oid, region)
    day = _kpi_day(request)
    eng = _engine(request)
    await eng.org(oid)
    k = await eng.kpis(region)
    return _json(k.summary(eng.clock(), org=oid, day=day))


ROUTES: list[BaseRoute] = [
    Route("/v1/regions", list_regions, methods=["GET"]),
    Route("/v1/regions/{region}", put_region, methods=["PUT"]),
    Route("/v1/regions/{region}", get_region, methods=["GET"]),
    Route("/v1/regions/{region}/recompute", recompute, methods=["POST"]),
    Route("/v1/regions/{region}/plan", get_plan, methods=["GET"]),
    Route("/v1/regions/{region}/kpis", region_kpis, methods=["GET"]),
    Route("/v1/regions/{region}/jobs", create_job, methods=["POST"]),
    Route("/v1/regions/{region}/jobs", region_jobs, methods=["GET"]),
    Route("/v1/technicians/{tech}", put_tech, methods=["PUT"]),
    Route("/v1/technicians/{tech}", get_tech, methods=["GET"]),
    Route("/v1/technicians/{tech}", delete_tech, methods=["DELETE"]),
    Route("/v1/technicians/{tech}/token", tech_token, methods=["POST"]),
    Route("/v1/technicians/{tech}/gps", post_gps, methods=["POST"]),
    Route("/v1/technicians/{tech}/actions", post_actions, methods=["POST"]),
    Route("/v1/technicians/{tech}/track", tech_track, methods=["GET"]),
    Route("/v1/jobs/{job}", get_job, methods=["GET"]),
    Route("/v1/jobs/{job}/cancel", cancel_job, methods=["POST"]),
    Route("/v1/jobs/{job}/retry", retry_job, methods=["POST"]),
    Route("/v1/jobs/{job}/token", job_token, methods=["POST"]),
    Route("/v1/orgs/{org}", put_org, methods=["PUT"]),
    Route("/v1/orgs/{org}", get_org, methods=["GET"]),
    Route("/v1/orgs/{org}/batches", create_batch, methods=["POST"]),
    Route("/v1/orgs/{org}/token", org_token, methods=["POST"]),
    Route("/v1/orgs/{org}/kpis", org_kpis, methods=["GET"]),
]

_STAFF = "admin, or dispatcher of the region"
register(
    Operation("get", "/v1/regions", "List dispatch regions", "admin"),
    Operation("put", "/v1/regions/{region}", "Create or replace a dispatch region "
              "(zones, policy; idempotent; a zone a technician serves cannot be dropped)",
              "admin", RegionConfig, errors=("bad_request", "unknown_field", "conflict")),
    Operation("get", "/v1/regions/{region}", "A region with counts and its plan's version",
              _STAFF, errors=("unknown_region",)),
    Operation("post", "/v1/regions/{region}/recompute", "Ask for a full recompute", _STAFF,
              status=202, errors=("unknown_region",)),
    Operation("get", "/v1/regions/{region}/plan", "Every technician's route with ETAs",
              _STAFF, errors=("unknown_region",)),
    Operation("get", "/v1/regions/{region}/kpis", "Live KPIs from the event log for one local "
              "day of the region: today, or ?date=YYYY-MM-DD, one of the last 35 days ({region, "
              "day, timezone, kept, ...}; kept false: a day not held, no figures)", _STAFF,
              errors=("unknown_region", "region_busy", "bad_request"), query=("date",)),
    Operation("post", "/v1/regions/{region}/jobs", "Create a job (returns the customer's "
              "tracking token); an Idempotency-Key makes a retry answer the first job",
              f"{_STAFF}; org for its own jobs", JobRequest, 201,
              ("unknown_region", "unknown_org", "bad_request", "unknown_field",
               "idempotency_mismatch", "conflict"), headers=("Idempotency-Key",)),
    Operation("get", "/v1/regions/{region}/jobs", "Open jobs (status, technician, ETA and "
              "the reason of an unassignable one), oldest first; ?status= a comma-separated "
              "filter", _STAFF, errors=("unknown_region", "bad_request"), query=("status",)),
    Operation("put", "/v1/technicians/{tech}", "Create or update a technician", _STAFF,
              TechnicianSpec, errors=("unknown_region", "bad_request")),
    Operation("get", "/v1/technicians/{tech}", "A technician with its route",
              f"{_STAFF}; the technician", errors=("unknown_technician",)),
    Operation("delete", "/v1/technicians/{tech}", "Remove a technician who left: its profile, "
              "position and GPS history; jobs only offered to it are offered to others; its "
              "device tokens are revoked; finished jobs keep its id. Refused while a job is "
              "assigned to it or under way (details.jobs). Answers {technician, removed, "
              "withdrawn, fixes, actions}. The stream's copies of its profile stay until "
              "trimmed or erased (POST /v1/regions/{region}/erase, profile)", _STAFF,
              errors=("unknown_technician", "technician_busy")),
    Operation("post", "/v1/technicians/{tech}/token", "Issue the technician's device token",
              _STAFF, errors=("unknown_technician",)),
    Operation("post", "/v1/technicians/{tech}/gps", "GPS fixes (REST fallback, a batch in "
              "order; rejected fixes are listed with their reason code)",
              f"the technician; {_STAFF}", Fixes, errors=("unknown_technician",)),
    Operation("post", "/v1/technicians/{tech}/actions", "Device actions (a batch, each applied "
              "at most once by its aid)", f"the technician; {_STAFF}", Actions,
              errors=("unknown_technician",)),
    Operation("get", "/v1/technicians/{tech}/track", "The technician's recent fixes", _STAFF,
              errors=("unknown_technician",)),
    Operation("get", "/v1/jobs/{job}", "A job (its customer gets the job topic's view)",
              f"its customer; its organisation; {_STAFF}",
              errors=("unknown_job",)),
    Operation("post", "/v1/jobs/{job}/cancel", "Cancel a job",
              f"its customer; its organisation; {_STAFF}", CancelBody,
              errors=("unknown_job", "invalid_transition")),
    Operation("post", "/v1/jobs/{job}/retry", "Offer a new or unassignable job to everyone "
              "again, those who declined it or let its offer expire included", _STAFF,
              errors=("unknown_job", "invalid_transition")),
    Operation("post", "/v1/jobs/{job}/token", "A new customer tracking link for the job "
              "({job, token, topic, tracker}; it lasts until the job's window ends plus "
              "SWITCHBOARD_TOKEN_TTL_S, as the one its creation answered)",
              f"its organisation; {_STAFF}", status=201, errors=("unknown_job",)),
    Operation("put", "/v1/orgs/{org}", "Create or rename an organisation", _STAFF, OrgSpec,
              errors=("unknown_region",)),
    Operation("get", "/v1/orgs/{org}", "An organisation with batch progress by status",
              f"the organisation; {_STAFF}", errors=("unknown_org",)),
    Operation("post", "/v1/orgs/{org}/batches", "Order a batch of jobs ({id, org, name, "
              "size, jobs, trackers}: jobs the ids in order, trackers each job's customer "
              "tracking link by id; an Idempotency-Key makes a retry answer the first batch; "
              "a wrong job is named in details.field, jobs[i].window)",
              f"the organisation; {_STAFF}", BatchRequest, 201,
              ("unknown_org", "bad_request", "idempotency_mismatch", "conflict"),
              headers=("Idempotency-Key",)),
    Operation("post", "/v1/orgs/{org}/token", "Issue the organisation's dashboard token",
              _STAFF, errors=("unknown_org",)),
    Operation("get", "/v1/orgs/{org}/kpis", "The organisation's KPIs for one local day of "
              "its region: today, or ?date=YYYY-MM-DD ({org, day, timezone, kept, ...})",
              f"the organisation; {_STAFF}", errors=("unknown_org", "bad_request"),
              query=("date",)),
)
