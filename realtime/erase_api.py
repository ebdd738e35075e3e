"""``POST /v1/sites/{site}/erase``: erase one person's data at a site (admins only).

The body names the person: ``phone`` (every ticket and booking of the site that holds the
number, and every key named by it), ``ticket`` and/or ``booking`` (that record, whatever
number or name it holds). ``cancel_open`` also cancels their open tickets and bookings
(otherwise they stay, with no number: no more texts). ``rewrite_aof``: rewrite Redis's
append-only file afterwards, which otherwise keeps the old values until Redis next rewrites
it; by default only the embedded Redis is rewritten, a shared one only when asked (true).
The executor is queueing/erase.py; what is kept where: docs/privacy.md.

``POST /v1/regions/{region}/erase``: the same for a dispatch region (dispatch/erase.py):
``phone`` (every job of the region holding the number, in its customer, note or address),
``job`` (that job), ``technician`` (that technician's location history; with ``profile``
the technician itself, one who left: removed as by ``DELETE /v1/technicians/{tech}``, its
device tokens revoked, and every entry holding its name or home base deleted). Admins only,
as at a site: a region's dispatcher runs the day's work, but an erasure deletes history and
audit entries for good, and a technician's location history is an employer's matter.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from redis.exceptions import ResponseError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatch.engine import Actor as DispatchActor
from dispatch.erase import RegionEraser
from dispatch.erase import Request as RegionErasure
from queueing.erase import Eraser
from queueing.erase import Request as Erasure
from queueing.errors import BadRequest
from queueing.model import Strict
from realtime import idempotency
from realtime.body import json_body
from realtime.booking_api import booking_engine
from realtime.context import Context, actor, ctx, principal
from realtime.dispatch_api import revoke_tech_tokens
from realtime.docs import Operation, register
from realtime.redisproc import EmbeddedRedis
from realtime.sms_api import PHONE

RecordId = Annotated[str, msgspec.Meta(min_length=3, max_length=120,
                                       pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")]


class EraseRequest(Strict):
    """Who to erase: a phone number, a ticket, a booking (at least one)."""

    phone: Annotated[str, msgspec.Meta(pattern=f"^{PHONE}$")] | None = None
    ticket: RecordId | None = None
    booking: RecordId | None = None
    cancel_open: bool = False
    rewrite_aof: bool | None = None  # None: the embedded Redis only


JobId = Annotated[str, msgspec.Meta(min_length=3, max_length=140,
                                    pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")]


class RegionEraseRequest(Strict):
    """Who to erase in a region: a customer's number, a job, a technician (at least one)."""

    phone: Annotated[str, msgspec.Meta(pattern=f"^{PHONE}$")] | None = None
    job: JobId | None = None
    technician: JobId | None = None
    cancel_open: bool = False
    rewrite_aof: bool | None = None  # None: the embedded Redis only
    profile: bool = False  # the technician itself too (one who left)


def eraser(request: Request) -> Eraser:
    """One per app (its scripts are loaded once), on the app's engines."""
    bookings = booking_engine(request)
    e: Eraser | None = getattr(request.app.state, "eraser", None)
    if e is None or e.bookings is not bookings:
        recorder = getattr(request.app.state, "recorder", None)
        e = request.app.state.eraser = Eraser(
            bookings.engine, bookings, ctx(request).secret,
            record=recorder.record_site if recorder is not None else None)
    return e


async def erase(request: Request) -> Response:
    site = request.path_params["site"]
    p = principal(request)
    p.require()  # admins only
    c = ctx(request)
    body = await json_body(request, EraseRequest, c.settings.max_body_bytes)
    if not (body.phone or body.ticket or body.booking):
        raise BadRequest("name the person: phone, ticket or booking", field="phone")
    req = Erasure(site, body.phone, body.ticket, body.booking, body.cancel_open)
    out = await eraser(request).erase(req, actor(p))
    out["aof_rewrite"] = await _rewrite(c, body.rewrite_aof)
    return Response(msgspec.json.encode(out), media_type="application/json")


def region_eraser(request: Request) -> RegionEraser:
    """One per app, on the process's dispatch engine."""
    from realtime.hub.dispatch_topics import dispatch_engine
    engine = dispatch_engine(ctx(request).hub)
    e: RegionEraser | None = getattr(request.app.state, "region_eraser", None)
    if e is None or e.engine is not engine:
        redis = ctx(request).redis
        e = request.app.state.region_eraser = RegionEraser(
            engine, ctx(request).secret,
            replies=lambda region, change: idempotency.rewrite(redis, f"job:{region}", change))
    return e


async def erase_region(request: Request) -> Response:
    region = request.path_params["region"]
    p = principal(request)
    p.require()  # admins only (the module's docstring says why)
    c = ctx(request)
    body = await json_body(request, RegionEraseRequest, c.settings.max_body_bytes)
    if not (body.phone or body.job or body.technician):
        raise BadRequest("name the person: phone, job or technician", field="phone")
    req = RegionErasure(region, body.phone, body.job, body.technician, body.cancel_open,
                        body.profile)
    out = await region_eraser(request).erase(req, DispatchActor(p.subject, "api"))
    if body.technician is not None and body.profile:
        await revoke_tech_tokens(c, body.technician)
    out["aof_rewrite"] = await _rewrite(c, body.rewrite_aof)
    return Response(msgspec.json.encode(out), media_type="application/json")


async def _rewrite(c: Context, asked: bool | None) -> str:
    """"started", "skipped" (a shared Redis, not asked), or why Redis declined."""
    s = c.settings
    # The embedded Redis is this server's own (serve without --redis-url): its socket.
    embedded = s.redis_url in (None, EmbeddedRedis(s.data_path).url)
    if asked is False or (asked is None and not embedded):
        return "skipped"
    try:
        await c.redis.bgrewriteaof()  # type: ignore[no-untyped-call]
    except ResponseError as exc:  # one already running (it then writes today's data too)
        return f"declined: {exc}"
    return "started"


ROUTES = [Route("/v1/sites/{site}/erase", erase, methods=["POST"]),
          Route("/v1/regions/{region}/erase", erase_region, methods=["POST"])]

register(
    Operation("post", "/v1/sites/{site}/erase", "Erase one person's data at the site: by "
              "`phone` (every ticket and booking holding the number, its texts, codes and "
              "links), `ticket` or `booking` (that record); `cancel_open` also cancels their "
              "open tickets and bookings; `rewrite_aof` (default: the embedded Redis only). "
              "Answers {site, erased: {kind: count}, cancelled, reference, aof_rewrite}; "
              "a second call finds nothing (zero counts). docs/privacy.md", "admin",
              EraseRequest, 200,
              ("bad_request", "unknown_field", "unknown_site", "unknown_ticket",
               "unknown_booking", "forbidden", "payload_too_large")),
    Operation("post", "/v1/regions/{region}/erase", "Erase one customer's data in a "
              "dispatch region: by `phone` (every job holding the number in its customer, "
              "note or address), `job` (that job); `technician`: its location history "
              "(with `profile`: the technician itself, one who left, and every entry "
              "holding its profile; refused while it has work); "
              "`cancel_open` also cancels their open jobs not yet under way; `rewrite_aof` "
              "as for a site. Open jobs keep their address and location until they end. "
              "Answers {region, erased: {jobs, open_kept, actions, replies, fixes, "
              "positions, profile, events}, "
              "cancelled, reference, aof_rewrite}; a second call finds nothing. "
              "docs/privacy.md", "admin", RegionEraseRequest, 200,
              ("bad_request", "unknown_field", "unknown_region", "unknown_job",
               "unknown_technician", "technician_busy", "region_busy", "forbidden",
               "payload_too_large")),
)
