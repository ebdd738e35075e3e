"""HTTP routes for appointments: thin adapters that decode, authorise, call the booking
engine (queueing.booking.engine), encode. Documented in the OpenAPI document below.

Who may do what (docs/appointments.md): ``admin`` everything; ``agent`` of the site books
through the window, phone and kiosk channels, acts on any booking of the site, suspends
resources; ``kiosk`` books and checks in through the kiosk channel only; ``partner``
books through its channels and acts on the bookings it made; a booking's own token
(returned when it is made) reads, confirms, cancels, reschedules and checks in that booking.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from queueing import phone
from queueing.booking.engine import BookingEngine, site_of_booking
from queueing.booking.jobs import Jobs
from queueing.booking.model import (
    BookingConfig,
    BookingRequest,
    CheckInRequest,
    RescheduleRequest,
    SuspendRequest,
)
from queueing.engine import Actor
from queueing.errors import (
    BadRequest,
    Forbidden,
    RateLimited,
    UnknownBooking,
)
from queueing.model import Channel, NotifyRequest
from realtime import links, ratelimit, verify
from realtime.api import (
    NOTIFY_CHANGES_BURST,
    NOTIFY_CHANGES_PER_MIN,
    kiosk_budget,
    mobile_only,
    public_web,
    ticket_body,
)
from realtime.auth import Principal
from realtime.body import json_body
from realtime.context import actor, ctx, principal
from realtime.docs import Operation, register

# Channels each role may book or check in through (admin: any). A quota for phone and
# window is only worth something if an app cannot claim to be the phone line — nor a kiosk
# token, which is public (the kiosk page's URL; apps and SMS gateways use one too), the
# window: the window's bookings and check-ins are made by its agent.
ROLE_CHANNELS: dict[str, frozenset[str]] = {
    "agent": frozenset({"window", "phone", "kiosk"}),
    "kiosk": frozenset({"kiosk"}),
    "booking": frozenset({"app", "web", "sms"}),
}
DEFAULT_CHECK_IN = {"agent": "window", "kiosk": "kiosk", "booking": "app"}
# How long a check-in's answer waits for this process's hub to hold the new ticket (it
# tails the site's stream: a few ms behind the script), so the estimate counts its promotion.
FEED_WAIT_S, FEED_POLL_S = 0.5, 0.005


def booking_engine(request: Request) -> BookingEngine:
    """One booking engine per app, on the app's queue engine and Redis."""
    c = ctx(request)
    eng: BookingEngine | None = getattr(request.app.state, "booking", None)
    if eng is None or eng.engine is not c.engine:
        eng = BookingEngine(c.engine, Jobs(c.redis))
        request.app.state.booking = eng
    return eng


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(msgspec.json.encode(data), status_code=status, media_type="application/json",
                    headers=headers)


def _channel_allowed(p: Principal, channel: str) -> None:
    if p.is_admin:
        return
    allowed = set(p.channels) if p.role == "partner" else ROLE_CHANNELS.get(p.role, set())
    if channel not in allowed:
        raise Forbidden(f"a {p.role} token cannot act through the {channel} channel",
                        allowed=sorted(allowed))


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= 200):
        raise BadRequest("Idempotency-Key must be 1 to 200 characters")
    return key


def _booking_token(request: Request, b: dict[str, Any], now_ms: int) -> str:
    c = ctx(request)
    end_ms = int(datetime.fromisoformat(b["end"]).timestamp() * 1000)
    return links.booking_token(c.secret, b["site"], b["id"], end_ms, now_ms,
                               c.settings.token_ttl_s)


async def _may_act(request: Request, booking_id: str) -> Principal:
    """The booking's own token; agents of its site; the partner that made it (not the
    public booking page's token: realtime.api.public_web); admins."""
    p = principal(request)
    site = site_of_booking(booking_id)
    if p.role == "booking":
        if p.booking != booking_id:
            raise Forbidden("this token is for another booking")
    elif p.role == "partner":
        p.require("partner", site=site)
        if public_web(p):
            # Every copy of the public booking page's link holds this token: it books, and
            # each booking is then read and changed with its own token only.
            raise Forbidden("the public booking page's token only books: a booking is read "
                            "and changed with its own token (its page's link)")
        if (await booking_engine(request).raw(booking_id)).get("by") != p.subject:
            raise Forbidden("this booking was made through another partner")
    else:
        # Not a kiosk's token, though it may check in: it is public (the kiosk page's URL),
        # and a booking names its customer.
        p.require("agent", site=site)
    return p


# -- schedule and availability ---------------------------------------------------------

async def put_schedule(request: Request) -> Response:
    site = request.path_params["site"]
    p = principal(request)
    p.require("admin")
    cfg = await json_body(request, BookingConfig, ctx(request).settings.max_document_bytes)
    return _json(await booking_engine(request).put_config(site, cfg, actor(p)))


async def get_schedule(request: Request) -> Response:
    site = request.path_params["site"]
    principal(request).require("agent", "kiosk", "partner", site=site)
    s = await booking_engine(request).schedule(site)
    return _json({"version": int(s.version or 0), "schedule": s.config})


FIRST_DAY, LAST_DAY = date(1970, 1, 2), date(9999, 12, 30)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FIRST_MS, _LAST_MS = (int(datetime.combine(d, dt_time(), UTC).timestamp() * 1000)
                       for d in (FIRST_DAY, LAST_DAY))


async def availability(request: Request) -> Response:
    site = request.path_params["site"]
    # A booking's own token too: its page offers other times of the same site to move to.
    principal(request).require("agent", "kiosk", "partner", "display", "booking", site=site)
    q = request.query_params
    service = q.get("service")
    if not service:
        raise BadRequest("the 'service' query parameter is required", field="service")
    day = _day(q.get("date"))
    channel = q.get("channel")
    if channel is not None and channel not in {c.value for c in Channel}:
        raise BadRequest(f"unknown channel {channel!r}", field="channel",
                         allowed=[c.value for c in Channel])
    return _json(await booking_engine(request).availability(site, service, day, channel,
                                                            q.get("resource")))


# -- bookings ----------------------------------------------------------------------------

async def create_booking(request: Request) -> Response:
    site = request.path_params["site"]
    p = principal(request)
    p.require("agent", "kiosk", "partner", site=site)
    req = await json_body(request, BookingRequest, ctx(request).settings.max_body_bytes)
    _channel_allowed(p, req.channel.value)
    await kiosk_budget(request, p, site)
    eng = booking_engine(request)
    if verify.required(request, p):
        # The public page books for a number only with the code texted to it (realtime/
        # verify.py): for that number, and texts go to that number only.
        if not re.fullmatch(verify.PHONE, req.customer):
            raise BadRequest("the booking page books for a mobile number", field="customer")
        req = await eng.with_numbers(site, req, mobile=True)
        if req.notify not in (None, req.customer):
            raise Forbidden("texts go to the proved number only", field="notify")
        await verify.check(request, site, req.customer, request.headers.get("verification-code"))
    booked = await eng.book(site, req, actor(p, req.channel.value), _idempotency_key(request))
    b = booked.booking
    token = _booking_token(request, b, eng.now())
    # ``manage``: the person's own page for it (see, confirm, move, cancel, check in), as
    # a ticket's ``tracker``; the partner sends it on (a text, an e-mail, its app).
    body = {**b, "token": token, "manage": links.booking_page(token, b["id"])}
    return _json(body, 201, {"Idempotent-Replayed": "true"} if booked.replay else None)


async def list_bookings(request: Request) -> Response:
    """``GET /v1/sites/{site}/bookings?date=YYYY-MM-DD[&resource=R][&service=S]``: the day's
    appointment list, for reception and the floor overview (staff of the site only: it
    names customers)."""
    site = request.path_params["site"]
    p = principal(request)
    p.require("agent", "supervisor", site=site)
    q = request.query_params
    day = _day(q.get("date"))
    service = q.get("service")
    if service is not None and (await ctx(request).engine.config(site)).service(service) is None:
        raise BadRequest(f"unknown service {service!r}", field="service")
    out = await booking_engine(request).day_list(site, day, q.get("resource"), service,
                                                 notify=True)
    out["bookings"] = [_shown(p, b) for b in out["bookings"]]
    return _json(out)


def _day(value: str | None) -> date:
    try:
        day = date.fromisoformat(value or "")
    except ValueError as exc:
        raise BadRequest("'date' must be YYYY-MM-DD", field="date") from exc
    if not FIRST_DAY <= day <= LAST_DAY:
        # Slot times are epoch ms in the site's zone: outside these, datetime overflows.
        raise BadRequest(f"'date' must be from {FIRST_DAY} to {LAST_DAY}", field="date")
    return day


async def get_booking(request: Request) -> Response:
    bid = request.path_params["booking"]
    p = await _may_act(request, bid)
    return _json(_shown(p, await booking_engine(request).get(bid, notify=_staff(p))))


def _staff(p: Principal) -> bool:
    """Whether ``p`` reads the number a booking's texts go to (docs/privacy.md): admins and
    the site's agents in full (they correct it with the caller), supervisors masked."""
    return p.is_admin or p.role in ("agent", "supervisor")


def _shown(p: Principal, view: dict[str, Any]) -> dict[str, Any]:
    """``view`` with ``notify`` as ``p`` may see it: whole, masked or not at all."""
    if "notify" in view and not (p.is_admin or p.role == "agent"):
        if p.role == "supervisor":
            view["notify"] = phone.mask(view["notify"])
        else:
            del view["notify"]
    return view


async def set_booking_notify(request: Request) -> Response:
    """``POST /v1/bookings/{id}/notify`` ``{"to": number | null}``: where the booking's texts
    (reminders, offers, a suspension) go from now — staff correcting a number typed wrong,
    or the person on their own page. A booking still ahead only."""
    bid = request.path_params["booking"]
    p = await _may_act(request, bid)
    c = ctx(request)
    body = await json_body(request, NotifyRequest, c.settings.max_body_bytes)
    if p.role == "booking":
        # The booking's own link may be forwarded: a mobile number only, a few changes.
        mobile_only(body.to)
        await ratelimit.take(c.redis, "bnotify", site_of_booking(bid), bid,
                             NOTIFY_CHANGES_PER_MIN, NOTIFY_CHANGES_BURST,
                             what="changes of this booking's number")
    return _json(_shown(p, await booking_engine(request).set_notify(bid, body.to, _who(p))))


def _who(p: Principal) -> Actor:
    """The actor of a confirm, cancel or move, its ``via`` saying who acted: the booking's
    own ``holder``, a ``partner`` (its back end tells its users) or ``staff``: the worker
    texts the person what staff did (queueing/booking/consumer.py)."""
    return actor(p, {"booking": "holder", "partner": "partner"}.get(p.role, "staff"))


async def confirm_booking(request: Request) -> Response:
    bid = request.path_params["booking"]
    p = await _may_act(request, bid)
    return _json(await booking_engine(request).confirm(bid, _who(p)))


async def cancel_booking(request: Request) -> Response:
    bid = request.path_params["booking"]
    p = await _may_act(request, bid)
    return _json(await booking_engine(request).cancel(bid, _who(p)))


async def reschedule_booking(request: Request) -> Response:
    bid = request.path_params["booking"]
    p = await _may_act(request, bid)
    body = await json_body(request, RescheduleRequest, ctx(request).settings.max_body_bytes)
    eng = booking_engine(request)
    b = await eng.reschedule(bid, body.slot, _who(p))
    # A fresh own token and page link, lasting to a day after the new time: the one made
    # with the booking ends a day after the old time, before a visit moved later.
    token = _booking_token(request, b, eng.now())
    return _json({**b, "token": token, "manage": links.booking_page(token, b["id"])})


async def check_in(request: Request) -> Response:
    site = request.path_params["site"]
    p = principal(request)
    c = ctx(request)
    body = await json_body(request, CheckInRequest, c.settings.max_body_bytes)
    only = None
    if p.role == "booking":
        if p.site != site:
            raise Forbidden(f"this token is not for site {site}")
        only = p.booking
    else:
        p.require("kiosk", "agent", site=site)
    channel = body.channel.value if body.channel else DEFAULT_CHECK_IN.get(p.role, "kiosk")
    _channel_allowed(p, channel)
    # Booking codes are 6 letters (30 bits): a caller whose codes keep matching nothing is
    # guessing, and is stopped before it finds one (per token subject and site).
    s = c.settings
    guard = not p.is_admin and s.checkin_failures_per_min > 0
    who = ratelimit.caller(request, p.subject)
    if guard:
        await ratelimit.take(c.redis, "checkin-miss", site, who,
                             s.checkin_failures_per_min, s.checkin_failures_per_min,
                             charge=False, what="check-ins with unknown codes")
    await kiosk_budget(request, p, site)
    try:
        done = await booking_engine(request).check_in(site, body.code, channel,
                                                      actor(p, channel), only)
    except (UnknownBooking, Forbidden):
        if guard:  # counted, never refused here: the caller hears what it would have
            with contextlib.suppress(RateLimited):
                await ratelimit.take(c.redis, "checkin-miss", site, who,
                                     s.checkin_failures_per_min, s.checkin_failures_per_min)
        raise
    if done.ticket.get("promote_at") and not done.replay:
        await _feed_holds(c, site, done.ticket)
    # The same body as POST /tickets: estimate, token, tracker.
    out = await ticket_body(c, site, done.ticket, done.replay) | {"booking": done.booking["id"]}
    susp = done.booking.get("suspension")
    if susp and not susp.get("answered"):
        # The doctor or room was suspended and the person did not answer: they are in line
        # for the service all the same; the kiosk says why their doctor will not see them.
        out["suspension"] = susp
    return _json(out, 201, {"Idempotent-Replayed": "true"} if done.replay else None)


async def _feed_holds(c: Any, site: str, ticket: dict[str, Any]) -> None:
    """Wait, at most ``FEED_WAIT_S``, until the hub's view of ``site`` holds the early
    check-in ``ticket``, then take its place from there.

    The estimate given at check-in is the hub's (``realtime.api.ticket_body``), and its own
    pending promotion counts only once the hub's view has the ticket where it is said to be
    (``realtime.estimates.promotion_inputs``). Answered before the hub had read the check-in's
    event, an early arrival was told the wait of a walk-in from now, and the lower one only
    with the next change of the queue. The view's place is as current as the script's."""
    if c.hub is None:
        return
    feed = await c.hub.feed(site)
    # Looked at every few ms (the feed signals nothing per ticket): mostly held already.
    for _ in range(round(FEED_WAIT_S / FEED_POLL_S)):
        if ticket["id"] in feed.view.tickets:
            break
        await asyncio.sleep(FEED_POLL_S)
    pos = feed.view.position(ticket["id"])
    if pos is not None:
        ticket["position"], ticket["people_ahead"] = pos, pos - 1


# -- suspensions -------------------------------------------------------------------------

async def suspend(request: Request) -> Response:
    site, resource = request.path_params["site"], request.path_params["resource"]
    p = principal(request)
    p.require("agent", site=site)
    body = await json_body(request, SuspendRequest, ctx(request).settings.max_body_bytes)
    result = await booking_engine(request).suspend(
        site, resource, _instant(body.from_, "from"), _instant(body.until, "until"),
        body.reason, actor(p))
    return _json(result, 201)


async def get_suspension(request: Request) -> Response:
    site, sid = request.path_params["site"], request.path_params["suspension"]
    p = principal(request)
    p.require("agent", site=site)
    out = await booking_engine(request).suspension(site, sid, notify=True)
    out["affected"] = [_shown(p, b) for b in out["affected"]]
    return _json(out)


async def list_suspensions(request: Request) -> Response:
    """``GET /v1/sites/{site}/suspensions[?from=…][&until=…][&lifted=1]``: the site's
    suspensions whose period reaches past ``from`` (default now: those not yet over) and
    starts before ``until`` (ISO times with an offset, or dates in the site's zone: ``from``
    its start, ``until`` its end). Staff of the site, supervisors too: it names no customer."""
    site = request.path_params["site"]
    principal(request).require("agent", "supervisor", site=site)
    q = request.query_params
    lifted = q.get("lifted", "0")
    if lifted not in ("0", "1"):
        raise BadRequest("'lifted' must be 0 or 1", field="lifted")
    eng = booking_engine(request)
    tz = (await eng.schedule(site)).tz
    start = _bound(q["from"], "from", tz) if "from" in q else None
    end = _bound(q["until"], "until", tz, end=True) if "until" in q else None
    if start is not None and end is not None and end <= start:
        raise BadRequest("'until' must be after 'from'", field="until")
    return _json(await eng.suspensions(site, start, end, lifted == "1"))


def _bound(value: str, field: str, tz: ZoneInfo, end: bool = False) -> int:
    """A window's bound: an ISO time with an offset, or a date of the site (its start; with
    ``end``, the next day's start)."""
    if _DATE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError as exc:
            raise BadRequest(f"{field!r} is not a date", field=field) from exc
        if not FIRST_DAY <= day <= LAST_DAY:
            raise BadRequest(f"{field!r} must be from {FIRST_DAY} to {LAST_DAY}", field=field)
        at = datetime.combine(day + timedelta(days=1 if end else 0), dt_time(), tz)
        return int(at.timestamp() * 1000)
    ms = _instant(value, field)
    if not _FIRST_MS <= ms <= _LAST_MS:
        raise BadRequest(f"{field!r} must be from {FIRST_DAY} to {LAST_DAY}", field=field)
    return ms


async def lift_suspension(request: Request) -> Response:
    """``DELETE /v1/sites/{site}/suspensions/{id}``: the suspension was a mistake or is over
    early. Whoever may suspend may lift (an agent of the site who suspended by mistake
    undoes it; the audit trail names who). The period takes bookings again; whoever it
    reached and has not answered keeps the appointment and is told it stands
    (docs/appointments.md)."""
    site, sid = request.path_params["site"], request.path_params["suspension"]
    p = principal(request)
    p.require("agent", site=site)
    return _json(await booking_engine(request).lift(site, sid, actor(p)))


def _instant(value: str, field: str) -> int:
    try:
        t = datetime.fromisoformat(value)
    except (ValueError, OverflowError) as exc:
        raise BadRequest(f"{field!r} is not an ISO 8601 time", field=field) from exc
    if t.tzinfo is None:
        raise BadRequest(f"{field!r} needs a UTC offset (e.g. +08:00)", field=field)
    try:
        return int(t.timestamp() * 1000)
    except (ValueError, OverflowError) as exc:
        raise BadRequest(f"{field!r} is out of range", field=field) from exc


ROUTES: list[BaseRoute] = [
    Route("/v1/sites/{site}/booking", put_schedule, methods=["PUT"]),
    Route("/v1/sites/{site}/booking", get_schedule, methods=["GET"]),
    Route("/v1/sites/{site}/availability", availability, methods=["GET"]),
    Route("/v1/sites/{site}/bookings", create_booking, methods=["POST"]),
    Route("/v1/sites/{site}/bookings", list_bookings, methods=["GET"]),
    Route("/v1/bookings/{booking}", get_booking, methods=["GET"]),
    Route("/v1/bookings/{booking}/confirm", confirm_booking, methods=["POST"]),
    Route("/v1/bookings/{booking}/cancel", cancel_booking, methods=["POST"]),
    Route("/v1/bookings/{booking}/reschedule", reschedule_booking, methods=["POST"]),
    Route("/v1/bookings/{booking}/notify", set_booking_notify, methods=["POST"]),
    Route("/v1/sites/{site}/check-in", check_in, methods=["POST"]),
    Route("/v1/sites/{site}/resources/{resource}/suspend", suspend, methods=["POST"]),
    Route("/v1/sites/{site}/suspensions", list_suspensions, methods=["GET"]),
    Route("/v1/sites/{site}/suspensions/{suspension}", get_suspension, methods=["GET"]),
    Route("/v1/sites/{site}/suspensions/{suspension}", lift_suspension, methods=["DELETE"]),
]

_BOOK_ERRORS = ("slot_full", "channel_quota", "overlap", "too_many_bookings", "slot_closed",
                "resource_suspended", "unknown_slot", "booking_not_configured",
                "idempotency_mismatch", "schedule_changed", "bad_request", "unknown_field",
                "forbidden")
register(
    Operation("put", "/v1/sites/{site}/booking", "Create or replace the site's booking "
              "schedule: resources, weekly templates, exceptions, channel quotas, policy",
              "admin", BookingConfig, errors=("bad_request", "unknown_field", "unknown_site")),
    Operation("get", "/v1/sites/{site}/booking", "The site's booking schedule and its version",
              "admin, or agent/kiosk/partner of the site", errors=("booking_not_configured",)),
    Operation("get", "/v1/sites/{site}/availability", "Bookable slots of a service on a date: "
              "[{slot, service, resource, start, end, capacity, remaining}]; remaining is what "
              "a newcomer from `channel` (any channel if omitted) could book now",
              "admin, or agent/kiosk/partner/display of the site, or a booking's own token "
              "(its page offers times to move to)",
              errors=("bad_request", "unknown_service", "unknown_resource",
                      "booking_not_configured"),
              query=("service", "date", "channel", "resource")),
    Operation("post", "/v1/sites/{site}/bookings", "Book a slot (hold: keep the place until "
              "confirmed; waitlist: join the slot's waitlist if it is full). 201 with the "
              "booking, its code, QR payload, its own token and `manage` (the person's page "
              "for it: /booking/{id}?token=…). Through the public booking page's web-only "
              "token, where texts can go: for a mobile number as customer, with the code "
              "texted to it (POST /v1/sites/{site}/verify) in Verification-Code. 409 "
              "service_not_served where no counter lists the slot's service (nobody would "
              "call the person who came)",
              "admin; agent, kiosk or partner of the site, through the channels its role "
              "allows", BookingRequest, 201,
              (*_BOOK_ERRORS, "verification_required", "verification_failed",
               "service_not_served"),
              headers=("Idempotency-Key", "Verification-Code")),
    Operation("get", "/v1/sites/{site}/bookings", "The day's appointment list: {date, "
              "bookings: [booking + ticket_number, ticket_status once checked in]} of the "
              "slots starting on `date` (site's zone), by start; held, confirmed, offered, "
              "waitlisted, checked in, no-show (not cancelled or lapsed)",
              "admin, or agent/supervisor of the site",
              errors=("bad_request", "unknown_resource", "booking_not_configured"),
              query=("date", "resource", "service")),
    Operation("get", "/v1/bookings/{booking}", "A booking (status is current: a lapsed hold "
              "shows expired)", "the booking's token; agents of its site; the partner "
              "that made it (not a web-only partner token: the public booking page's)",
              errors=("unknown_booking",)),
    Operation("post", "/v1/bookings/{booking}/confirm", "Confirm a hold, an offered place or a "
              "waitlisted booking whose turn has come", "as GET",
              errors=("unknown_booking", "hold_expired", "offer_expired", "not_offered",
                      "overlap", "too_many_bookings", "invalid_transition")),
    Operation("post", "/v1/bookings/{booking}/cancel", "Cancel; the place goes to the slot's "
              "waitlist in order", "as GET",
              errors=("unknown_booking", "invalid_transition")),
    Operation("post", "/v1/bookings/{booking}/reschedule", "Move to another slot of the same "
              "service atomically (also: accept a suspension's alternative). The booking "
              "with a fresh `token` and `manage`, lasting to a day after the new time",
              "as GET", RescheduleRequest, 200,
              ("unknown_booking", "unknown_slot", "slot_full", "channel_quota", "overlap",
               "too_many_bookings", "slot_closed", "resource_suspended", "hold_expired",
               "invalid_transition", "schedule_changed", "bad_request")),
    Operation("post", "/v1/bookings/{booking}/notify", "Where the booking's texts go from "
              "now ({\"to\": number or null}): a number typed wrong is corrected; a held, "
              "confirmed, waitlisted or offered booking only. The booking, with `notify` for "
              "staff", "as GET (its own token: a mobile number, 5 changes at most, then 2 a "
              "minute)", NotifyRequest, 200,
              ("unknown_booking", "invalid_transition", "invalid_phone_number", "bad_request",
               "rate_limited", "forbidden")),
    Operation("post", "/v1/sites/{site}/check-in", "Check in by booking code or QR payload: "
              "201 with the ticket (priority appointment, ordered by appointment time), as "
              "POST /tickets returns it", "kiosk or agent of the site; the booking's token",
              CheckInRequest, 201, ("unknown_booking", "too_early", "too_late",
                                    "invalid_transition", "bad_request", "forbidden")),
    Operation("post", "/v1/sites/{site}/resources/{resource}/suspend", "Suspend a resource "
              "for a period: every affected booking and waiting ticket gets the reason and "
              "alternatives; nothing is cancelled", "admin, or agent of the site",
              SuspendRequest, 201, ("unknown_resource", "bad_request", "schedule_changed")),
    Operation("delete", "/v1/sites/{site}/suspensions/{suspension}", "Lift a suspension: "
              "the period takes bookings again; every booking it reached that has not "
              "answered stands as before (reminders again, told by text), `restored`; those "
              "who moved or cancelled keep their answer. Lifting again changes nothing "
              "(`already`)", "admin, or agent of the site (whoever may suspend)",
              errors=("unknown_suspension",)),
    Operation("get", "/v1/sites/{site}/suspensions", "The site's suspensions whose period "
              "ends after `from` (default now: those not yet over) and starts before `until` "
              "(default: no bound); ISO times with an offset, or dates (site's zone: `from` "
              "its start, `until` its end); `lifted=1` includes lifted ones. {from, until, "
              "suspensions: [{id, resource, reason, from, until, created_at, lifted_at?, "
              "reached, pending, standing}]} by start. Ended more than 31 days ago: not listed",
              "admin, or agent/supervisor of the site (it names no customer)",
              errors=("bad_request", "booking_not_configured", "unknown_site"),
              query=("from", "until", "lifted")),
    Operation("get", "/v1/sites/{site}/suspensions/{suspension}", "A suspension: who it "
              "reached, what each answered, who has not answered yet", "admin, or agent of "
              "the site", errors=("unknown_suspension",)),
)
