"""HTTP routes of the queue: thin adapters that decode, authorise, call the engine, encode."""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from queueing import phone, sitedelete
from queueing.booking import langs
from queueing.errors import BadRequest, Forbidden, InvalidPhoneNumber, UnknownTicket
from queueing.keys import site_of_ticket
from queueing.model import (
    CloseDayRequest,
    NotifyRequest,
    SiteConfig,
    TicketRequest,
    TransferRequest,
)
from realtime import clock, devices_api, hours_api, idempotency, ratelimit
from realtime.auth import Principal, make_token
from realtime.body import decode, json_body, read_back, read_body
from realtime.context import actor, ctx, principal

log = logging.getLogger("switchboard.http")


class TicketBody(TicketRequest):
    """``POST /v1/sites/{site}/tickets``: a ``TicketRequest`` and the language of the texts
    to its ``notify`` (a phone-line or desk ticket: the person's language, chosen by staff;
    one the site does not speak is refused, queueing/booking/langs.py ``required``)."""

    lang: Annotated[str, msgspec.Meta(
        pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$",
        description="the language of the texts to notify (one of the site's languages)")
    ] | None = None

    def request(self) -> TicketRequest:
        return TicketRequest(**{f: getattr(self, f) for f in TicketRequest.__struct_fields__})


class CounterOpBody(msgspec.Struct, forbid_unknown_fields=True):
    ticket: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    service: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    outcome: Annotated[str, msgspec.Meta(max_length=64)] | None = None


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(msgspec.json.encode(data), status_code=status, media_type="application/json",
                    headers=headers)


async def put_site(request: Request) -> Response:
    p = principal(request)
    p.require("admin")
    site = _ident(request.path_params["site"])
    c = ctx(request)
    raw = await read_body(request, c.settings.max_document_bytes)
    # A new id equal but for case to an existing one is refused (site_id_case): a typo,
    # said before anything about the document.
    sitedelete.refuse_case_twin(site, await c.engine.sites())
    body, version, copy_of = without_live_fields(raw, site)
    cfg = decode(body, SiteConfig)
    # With its version: only if nobody saved the site since; a copy: only if there is no
    # such site yet (either checked in the same step as the write).
    await c.engine.put_site(site, cfg, actor(p), version=version, copy_of=copy_of)
    return _json(await c.engine.site(site))


def without_live_fields(raw: bytes, site: str) -> tuple[bytes, str | None, str | None]:
    """What ``GET /v1/sites/{site}`` adds to the document — its ``id``, its ``version``,
    ``unserved`` and each counter's live ``state`` and ``ticket`` — is accepted and set
    aside, so a site read can be edited and put back as it is: ``(body, version,
    copy_of)``. The version, if given, must still be the site's (else ``409 site_changed``:
    another admin saved meanwhile). An ``id`` naming another site makes the document a copy
    of it (``copy_of``): its version is that site's, says nothing of this one, and is
    dropped; the engine takes a copy only as a new site."""
    copy_of = _copied_from(raw, site)
    body, aside = read_back(raw, copy_of or site, "site", ("version", "unserved"),
                            {"counters": ("state", "ticket")})
    version = aside.get("version")
    if version is not None and not isinstance(version, str):
        raise BadRequest("version is the string GET answered", field="version")
    return body, None if copy_of else version, copy_of


class _Id(msgspec.Struct):
    id: object = None


_SITE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # as ``_ident`` checks the URL's


def _copied_from(raw: bytes, site: str) -> str | None:
    """The other site a document's ``id`` names, or None (this site's, no id, not a JSON
    object, or an id no site can have: ``read_back`` then refuses it as not the URL's)."""
    try:
        other = msgspec.json.decode(raw, type=_Id).id
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if isinstance(other, str) and other != site and _SITE_ID.fullmatch(other):
        return other
    return None


async def get_site(request: Request) -> Response:
    site = request.path_params["site"]
    principal(request).require("agent", "kiosk", "display", "supervisor", site=site)
    return _json(await ctx(request).engine.site(site))


async def list_sites(request: Request) -> Response:
    """The site ids (``sites``); ``?near=ID``: also the existing ids that ID is probably a
    typo of (``near``: the same but for case, or close), for the set-up page."""
    principal(request).require("admin")
    sites = await ctx(request).engine.sites()
    near = request.query_params.get("near")
    if near is None:
        return _json({"sites": sites})
    return _json({"sites": sites, "near": sitedelete.close_ids(near[:64], sites)})


async def zone_country(request: Request) -> Response:
    """``GET /v1/zone-country?zone=Europe/London``: whether the tz database has the zone
    (``known``) and the country it implies (``country``, ISO alpha-2; null: none, as UTC),
    which a site without ``country`` reads national phone numbers in (the set-up page's
    hint for the country field)."""
    principal(request).require("admin")
    zone = request.query_params.get("zone", "")[:64]
    try:
        known = bool(zone) and ZoneInfo(zone) is not None
    except (ValueError, OSError, ZoneInfoNotFoundError):
        known = False
    return _json({"zone": zone, "known": known,
                  "country": phone.zone_country(zone) if known else None})


async def delete_site(request: Request) -> Response:
    """``DELETE /v1/sites/{site}``: an admin removes a site that was never used (a typo:
    only its set-up, no ticket, booking, audit record or other history) and every key of
    it; one with history is ``409 site_in_use`` and nothing changes."""
    p = principal(request)
    p.require("admin")
    site = _ident(request.path_params["site"])
    c = ctx(request)
    done = await sitedelete.delete_site(c.redis, site)
    c.engine.forget(site)  # this process's cached document goes too
    log.info("site %s deleted by %s (%d keys)", site, p.subject, done["keys"])
    return _json(done)


async def issue_ticket(request: Request) -> Response:
    site = request.path_params["site"]
    p = principal(request)
    p.require("kiosk", "agent", site=site)
    c = ctx(request)
    body = await json_body(request, TicketBody, c.settings.max_body_bytes)
    req = body.request()
    cfg = await c.engine.config(site)
    if p.role == "kiosk" and not p.is_admin:
        _kiosk_may_issue(cfg, req)
    # Refused before the kiosk's budget is spent; kept only with a number to text.
    lang = langs.required(body.lang, cfg.languages) if req.notify else None
    await kiosk_budget(request, p, site)
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= 200):
        raise BadRequest("Idempotency-Key must be 1 to 200 characters")
    # Staff (an agent or admin token) may issue outside the site's issuing hours: a clerk
    # serves someone after hours on any channel; kiosks, apps and partners may not.
    issued = await c.engine.issue(site, req, actor(p, req.channel.value), key, lang=lang,
                                  staff=p.is_admin or p.role == "agent")
    answer = await ticket_body(c, site, issued.ticket, issued.replay)
    headers = {"Idempotent-Replayed": "true"} if issued.replay else None
    return _json(answer, 201, headers)


async def kiosk_budget(request: Request, p: Principal, site: str) -> None:
    """A kiosk token is public (its page's URL): what it creates is rate-limited per
    token subject, client address and site (``SWITCHBOARD_KIOSK_RATE_PER_MIN``); 429
    ``rate_limited``. So is the public booking page's web-only partner token."""
    if p.role == "kiosk" or public_web(p):
        c, s = ctx(request), ctx(request).settings
        await ratelimit.take(c.redis, "kiosk", site, ratelimit.caller(request, p.subject),
                             s.kiosk_rate_per_min, s.kiosk_rate_burst,
                             what="tickets, bookings or check-ins")


def public_web(p: Principal) -> bool:
    """A partner token whose only channel is ``web`` is a site's own booking page's
    (``/book/{site}``): public, as a kiosk's, and limited as one (per client address)."""
    return p.role == "partner" and list(p.channels or ()) == ["web"]


SELF_SERVICE_CHANNELS = frozenset({"kiosk", "app", "sms", "web"})


def _kiosk_may_issue(cfg: SiteConfig, req: TicketRequest) -> None:
    """A kiosk token sits in a public page: it takes the default class or a class the site
    marks ``self_service``, and never sets an appointment time (check-in does)."""
    if req.appointment_ms is not None:
        raise Forbidden("a kiosk token cannot set appointment_ms: appointment tickets come "
                        "from a booking's check-in or an agent", role="kiosk",
                        field="appointment_ms")
    if req.channel.value not in SELF_SERVICE_CHANNELS:
        # Phone, window and partner tickets are issued by staff or partners: a public page
        # stamping them would make the per-channel statistics untrustworthy.
        raise Forbidden(f"a kiosk token issues {', '.join(sorted(SELF_SERVICE_CHANNELS))} "
                        f"tickets, not {req.channel.value!r}", role="kiosk", field="channel")
    if req.priority is None or req.priority == cfg.policy.default_priority:
        return
    cls = next((k for k in cfg.priority_classes if k.id == req.priority), None)
    if cls is not None and not cls.self_service:  # an unknown class: unknown_priority
        raise Forbidden(f"a kiosk token cannot issue {req.priority!r} tickets; an agent can "
                        "(or mark the class self_service in the site's priority_classes)",
                        role="kiosk", field="priority")


async def ticket_body(c: Any, site: str, t: dict[str, Any], replay: bool) -> dict[str, Any]:
    """What taking a ticket answers (kiosk, app, check-in): the ticket, the wait estimate
    given at issue, and the holder's own token with the tracker link for the QR code."""
    t["estimate"] = await _announce(c, site, t, replay)
    token = make_token(c.secret, "ticket", site=site, ticket=t["id"], ttl_s=c.settings.token_ttl_s)
    return {**t, "token": token, "tracker": f"/ticket/{t['id']}?token={token}"}


async def _announce(c: Any, site: str, t: dict[str, Any], replay: bool) -> Any:
    """The wait estimate given at issue; stored on the ticket so it can be scored later."""
    from realtime.estimates import to_wire
    if not t.get("position") or c.hub is None or c.hub.estimator is None:
        return None
    feed = await c.hub.feed(site)
    cfg = feed.view.config
    rank = cfg.class_rank(t["priority"]) or 0
    est = c.hub.estimator.announce(feed, t["service"], rank, t["position"] - 1, t["id"])
    if est is not None and not replay:
        await c.engine.note_estimate(t["id"], est.wait_s, est.low_s, est.high_s, est.model)
    return to_wire(est)


async def close_day(request: Request) -> Response:
    """End the day by hand: every ticket still open that was issued before ``before`` is
    cancelled (reason ``day_closed``); tickets being served are listed in ``kept``; counters
    open or paused since before it that serve nobody are closed (``counters_closed``)."""
    site = request.path_params["site"]
    p = principal(request)
    p.require("admin")
    c = ctx(request)
    body = await json_body(request, CloseDayRequest, c.settings.max_body_bytes,
                           allow_empty=True)  # every field is optional
    await c.engine.config(site)  # unknown_site before anything else
    if body.before is not None and body.before.tzinfo is None:
        raise BadRequest("before needs a UTC offset, e.g. 2026-12-05T03:00:00+08:00",
                         field="before")
    before = (int(body.before.timestamp() * 1000) if body.before is not None
              else c.engine.clock())
    return _json(await c.engine.close_day(site, before, actor(p)))


async def find_tickets(request: Request) -> Response:
    """``GET /v1/sites/{site}/tickets?number=A023``: the open ticket with that number."""
    site = request.path_params["site"]
    principal(request).require("agent", "supervisor", site=site)
    number = request.query_params.get("number", "")[:40]
    return _json({"tickets": await ctx(request).engine.find(site, number)})


async def get_ticket(request: Request) -> Response:
    ticket_id = request.path_params["ticket"]
    _may_see_ticket(request, ticket_id)
    return _json(await ctx(request).engine.ticket(ticket_id))


async def cancel_ticket(request: Request) -> Response:
    ticket_id = request.path_params["ticket"]
    p = _may_see_ticket(request, ticket_id)
    # Kept on the ticket, so its holder's page says who cancelled it.
    reason = "by_holder" if p.role == "ticket" else "by_staff"
    return _json(await ctx(request).engine.cancel(ticket_id, actor(p), reason=reason))


def mobile_only(to: str | None) -> None:
    """A holder's own link (a ticket's, a booking's) sets a mobile number or none: no
    other kind of target."""
    if to is not None and not phone.looks_like(to):
        raise InvalidPhoneNumber("'to' is a mobile number: 6 to 15 digits, + first for "
                                 "another country", field="to", reason="invalid_phone_number")


async def notify_ticket(request: Request) -> Response:
    """The holder (the kiosk, with the ticket's own token, right after issuing it) or an
    agent says where the ticket's alerts go: an SMS number, or null to stop them."""
    ticket_id = request.path_params["ticket"]
    p = _may_see_ticket(request, ticket_id)
    c = ctx(request)
    body = await json_body(request, NotifyRequest, c.settings.max_body_bytes)
    if p.role == "ticket":
        # A ticket's token comes from a public kiosk: its holder gives a mobile number (no
        # other target), and changes it a few times at most (each change is an event).
        mobile_only(body.to)
        # A number that is none is refused before it costs one of the changes.
        await c.engine.notify_target(site_of_ticket(ticket_id), body.to)
        await ratelimit.take(c.redis, "notify", site_of_ticket(ticket_id), ticket_id,
                             NOTIFY_CHANGES_PER_MIN, NOTIFY_CHANGES_BURST,
                             what="changes of this ticket's number")
    site = site_of_ticket(ticket_id)  # the person's language for the alerts, kept first
    await langs.on_notify(c.redis, site, (await c.engine.config(site)).languages, ticket_id,
                          body.to, body.lang)
    return _json(await c.engine.set_notify(ticket_id, body.to, actor(p)))


NOTIFY_CHANGES_PER_MIN, NOTIFY_CHANGES_BURST = 2, 5


async def transfer_ticket(request: Request) -> Response:
    """An agent sends a waiting or parked ticket to another service (reception: "you are in
    the wrong queue"); a ticket at a counter is transferred by its counter."""
    ticket_id = request.path_params["ticket"]
    p = _may_see_ticket(request, ticket_id)
    if p.role == "ticket":
        raise Forbidden("only staff can transfer a ticket", role=p.role)
    c = ctx(request)
    body = await json_body(request, TransferRequest, c.settings.max_body_bytes)
    via = "counter" if p.counter else "api"

    async def make() -> tuple[int, Any]:
        return 200, await c.engine.transfer(ticket_id, body.service, actor(p, via))

    # Safe to retry as a counter operation is: a retry whose answer was lost is answered with
    # the first transfer, not refused (``invalid_transition`` once it is ``transferred`` …)
    # nor done again. The ticket is in what is compared: one key for two tickets is refused.
    return await _ticket_op_once(request, p, "transfer", site_of_ticket(ticket_id),
                                 {"ticket": ticket_id, "body": body}, make)


def _may_see_ticket(request: Request, ticket_id: str) -> Any:
    p = principal(request)
    if p.role == "ticket":
        if p.ticket != ticket_id:
            raise Forbidden("this token is for another ticket")
        return p
    site = site_of_ticket(ticket_id)
    if not site and not p.is_admin:  # no ``SITE.`` in it: no such ticket anywhere
        raise UnknownTicket(f"unknown ticket {ticket_id[:80]!r}")
    p.require("agent", site=site)
    return p


async def counter_op(request: Request) -> Response:
    """One counter operation, safe to retry with an ``Idempotency-Key``: a retry whose first
    answer was lost gets that answer again (the same ticket called, one recall counted)
    instead of a second effect or a ``counter_busy``/``counter_idle`` for what was done."""
    site, counter, op = (request.path_params[k] for k in ("site", "counter", "op"))
    p = principal(request)
    p.require_counter(site, counter)
    c = ctx(request)
    body = await json_body(request, CounterOpBody, c.settings.max_body_bytes, allow_empty=True)

    async def make() -> tuple[int, Any]:
        return 200, await c.engine.counter_op(site, counter, op, actor(p, "counter"),
                                              ticket=body.ticket, service=body.service,
                                              outcome=body.outcome)

    # Per site; the counter and op are in what is compared, so one key reused for another
    # operation (or, by an admin, another counter) is idempotency_mismatch.
    return await _ticket_op_once(request, p, "counter", site,
                                 {"counter": counter, "op": op, "body": body}, make)


async def _ticket_op_once(request: Request, p: Principal, kind: str, site: str,
                          request_body: Any, make: Any) -> Response:
    """A queue change by one script, once per ``Idempotency-Key`` (``idempotency.once``):
    the kept answer holds no name (a replay has the ticket's name as it is now), and the
    script's note that it ran answers a retry after a failure in between (``_recovered``)."""
    c = ctx(request)

    async def replay(kept: dict[str, Any]) -> dict[str, Any]:
        return await _with_customer(c.engine, kept)

    async def recover(ran: dict[str, Any]) -> dict[str, Any]:
        return await _recovered(c.engine, ran)

    return await idempotency.once(c.redis, kind, idempotency.caller(p),
                                  idempotency.header_key(request), request_body,
                                  c.settings.idempotency_ttl_s, make,
                                  keep=_without_customer, replay=replay, site=site,
                                  recover=recover)


async def _recovered(engine: Any, ran: dict[str, Any]) -> dict[str, Any]:
    """The answer of an operation that ran but whose answer was never kept (the server
    died, or Redis's reply was lost, in between): what its script noted, as it is now."""
    if ran.get("id"):  # a ticket's operation: the ticket as it is now
        now: dict[str, Any] = await engine.ticket(ran["id"])
        return now | ({"undone": ran["undone"]} if ran.get("undone") else {})
    return {k: ran.get(k) for k in ("counter", "state", "offset") if ran.get(k)} | {
        "ticket": ran.get("ticket") or None}


def _without_customer(answer: dict[str, Any]) -> dict[str, Any]:
    """A counter's answer as kept for a retry: without the person's name."""
    return {k: v for k, v in answer.items() if k != "customer"}


async def _with_customer(engine: Any, kept: dict[str, Any]) -> dict[str, Any]:
    """A kept ticket answer with the ticket's name as it is now (erased: none)."""
    if "number" not in kept:  # open/pause/close: the counter's state, no ticket view
        return kept
    try:
        now = await engine.ticket(kept["id"])
    except UnknownTicket:  # gone since (its week after it ended is over)
        return kept
    return kept | ({"customer": now["customer"]} if now.get("customer") else {})


MAX_QUEUE_LIMIT = 100_000


async def service_queue(request: Request) -> Response:
    site, service = request.path_params["site"], request.path_params["service"]
    principal(request).require("agent", "supervisor", site=site)
    limit = request.query_params.get("limit", "0")
    if not (limit.isascii() and limit.isdigit() and int(limit) <= MAX_QUEUE_LIMIT):
        raise BadRequest(f"'limit' is a whole number from 0 (all) to {MAX_QUEUE_LIMIT}",
                         field="limit")
    return _json(await ctx(request).engine.queue(site, service, int(limit)))


def _ident(value: str) -> str:
    import re

    from queueing.errors import BadRequest
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        raise BadRequest("site ids are 1-64 letters, digits, '_' or '-'", field="site")
    return value


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


# The worker's heartbeat runs every 30 s: unseen for three beats, it is down (or stuck).
WORKER_SILENT_S = 90


async def readyz(request: Request, warnings: list[dict[str, object]] | None = None
                 ) -> Response:
    """Ready (after realtime/readiness.py's checks): Redis answers. ``?worker=1``: and a
    worker was seen within ``WORKER_SILENT_S`` (reminders, end of day and dispatch stop
    without one, while the hub serves on; a load balancer asks without it, a monitor with
    it). ``warnings``: added to a ready answer (realtime/readiness.py's clock skew)."""
    from realtime.worker import HEARTBEAT_KEY
    try:
        redis = ctx(request).redis
        await redis.ping()
        beat = await redis.get(HEARTBEAT_KEY) if request.query_params.get("worker") else None
    except Exception as exc:  # any failure to reach Redis means not ready
        # Logged, not answered: the error names the socket's path or Redis's address, and
        # this route needs no token.
        log.warning("not ready: %s", exc)
        return JSONResponse({"status": "unavailable", "code": "unavailable",
                             "message": "the store is unreachable", "temporary": True},
                            status_code=503, headers={"Retry-After": "1"})
    extra = {"warnings": warnings} if warnings else {}
    if not request.query_params.get("worker"):
        return JSONResponse({"status": "ready", **extra})
    seen_s = None if beat is None else max(0, round(clock.now_s() - int(beat) / 1000))
    if seen_s is None or seen_s > WORKER_SILENT_S:
        return JSONResponse({"status": "worker_down", "code": "worker_down",
                             "message": "no worker has been seen for "
                             f"{WORKER_SILENT_S} s: reminders, end of day and dispatch "
                             "are not running", "worker_seen_s": seen_s, "temporary": True},
                            status_code=503, headers={"Retry-After": "30"})
    return JSONResponse({"status": "ready", "worker_seen_s": seen_s, **extra})


ROUTES = [
    Route("/healthz", healthz, methods=["GET"]),
    # /readyz is realtime/readiness.py's route: it checks writes and the clock, then calls
    # ``readyz`` here for Redis and the worker.
    Route("/v1/sites", list_sites, methods=["GET"]),
    Route("/v1/zone-country", zone_country, methods=["GET"]),
    Route("/v1/sites/{site}", put_site, methods=["PUT"]),
    Route("/v1/sites/{site}", get_site, methods=["GET"]),
    Route("/v1/sites/{site}", delete_site, methods=["DELETE"]),
    Route("/v1/sites/{site}/hours", hours_api.site_hours, methods=["GET"]),
    Route("/v1/sites/{site}/devices", devices_api.site_devices, methods=["GET"]),
    Route("/v1/sites/{site}/tickets", issue_ticket, methods=["POST"]),
    Route("/v1/sites/{site}/tickets", find_tickets, methods=["GET"]),
    Route("/v1/tickets/{ticket}", get_ticket, methods=["GET"]),
    Route("/v1/tickets/{ticket}/cancel", cancel_ticket, methods=["POST"]),
    Route("/v1/tickets/{ticket}/transfer", transfer_ticket, methods=["POST"]),
    Route("/v1/tickets/{ticket}/notify", notify_ticket, methods=["POST"]),
    Route("/v1/sites/{site}/close-day", close_day, methods=["POST"]),
    Route("/v1/sites/{site}/counters/{counter}/{op}", counter_op, methods=["POST"]),
    Route("/v1/sites/{site}/services/{service}/queue", service_queue, methods=["GET"]),
]
