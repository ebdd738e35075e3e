"""``POST /v1/tokens``: an admin mints a device's or a person's token, and its page link.

What ``switchboard token`` does on the server's shell, over HTTP, so that the set-up page
(``/setup/{site}``) can hand out one console link per counter, a board's, a kiosk's and a
supervisor's. Admin only. The rules are the CLI's, and stricter where a browser is the one
asking:

- every token names a ``subject`` (who or what holds it: ``console-room1``, ``kiosk-1``), so
  that one device can be revoked alone (the CLI insists only for supervisor and partner);
- each role gives exactly the scope it is bound by (an agent its site and counter, a kiosk
  its site, …) and nothing else: a ``counter`` on a kiosk token is refused, not ignored;
- a display token may be locked to one waiting area of its site (``area``): it then opens
  that area's board only (``/board/{site}?area={area}``), as a waiting room's TV should;
- the site (and an agent's counter, a display's area) must exist, as must a ticket token's
  ticket, a booking token's booking (of that site) and a dispatch token's region, technician,
  organisation or job: a link to nowhere is refused, not minted;
- the lifetime defaults as the CLI's (``SWITCHBOARD_DEVICE_TOKEN_TTL_S`` for display,
  kiosk and partner, ``SWITCHBOARD_STAFF_TOKEN_TTL_S`` for staff roles, ``SWITCHBOARD_TOKEN_TTL_S``
  otherwise; a customer's, to its job's window end plus that; a booking's, to a day after its
  appointment ends, as the link made with the booking);
- no admin tokens: a copy of an admin token would have its own id, and revoking the leaked
  token that made it would not revoke the copy. Admin tokens are made on the server's
  machine (``switchboard token admin``). Device tokens minted here outlive the admin token
  that asked for them (that is their purpose): revoke them by their subject.

Every token minted is logged (who minted which role for which subject; never the token),
and kept in the registry of issued links (realtime/token_registry.py): ``GET /v1/tokens``
lists them with their status and days left, sorted by expiry, for an admin (and a site's
supervisor, that site's). A new link can replace an old one: ``replaces`` (the old token's
``jti``) or ``replace_previous`` (every active registered token of the same role, subject
and site) revokes the old one before the new one is answered: the old one is refused from
the moment the revocation reaches each server process (pub/sub, at once), and the new one
is handed out only after, so both never work together beyond that propagation.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from queueing import keys
from queueing.errors import (
    BadRequest,
    Forbidden,
    UnknownBooking,
    UnknownCounter,
    UnknownSite,
    UnknownTicket,
)
from queueing.model import PLAIN, Channel
from realtime import clock, token_registry
from realtime.auth import ROLES, make_token
from realtime.body import json_body
from realtime.booking_api import booking_engine
from realtime.cli import _default_ttl as default_ttl
from realtime.context import Context, bearer, ctx
from realtime.docs import Operation, register
from realtime.links import link_ttl_s
from realtime.revocation import MAX_SUBJECT_CHARS
from realtime.settings import Settings

log = logging.getLogger("switchboard.auth")

Ident = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
# Ticket, booking and dispatch ids: ``site.local`` / ``region.local``.
ScopedId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.:-]{1,200}$")]
MIN_TTL_S = 60

# What each role is bound by: these fields and no other (``channels``: partner only).
SCOPES: dict[str, tuple[str, ...]] = {
    "admin": (), "agent": ("site", "counter"), "kiosk": ("site",), "display": ("site",),
    "supervisor": ("site",), "partner": ("site",), "ticket": ("ticket",),
    "booking": ("site", "booking"), "dispatcher": ("region",), "tech": ("tech",),
    "customer": ("job",), "org": ("org",),
}
SCOPE_FIELDS = ("site", "counter", "ticket", "booking", "region", "tech", "job", "org")
# The page each role's token opens ({…}: its scope fields); other roles have no page.
PAGES = {"agent": "/counter/{site}/{counter}", "display": "/board/{site}",
         "kiosk": "/kiosk/{site}", "supervisor": "/supervise/{site}",
         "ticket": "/ticket/{ticket}", "booking": "/booking/{booking}", "tech": "/tech/{tech}",
         "customer": "/track/{job}", "org": "/org/{org}", "dispatcher": "/dispatch/{region}"}


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``POST /v1/tokens``: a token for ``role`` scoped by the fields that role needs (an
    agent: ``site`` and ``counter``; kiosk, display, supervisor, partner: ``site``; booking:
    ``site`` and ``booking``; ticket: ``ticket``; dispatcher: ``region``; tech: ``tech``;
    customer: ``job``; org: ``org``), held by ``subject``, for ``ttl_s`` seconds (default:
    the role's, as ``switchboard token``). ``channels``: a partner's booking channels.
    ``area``: a display token locked to that waiting area of its site."""

    role: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SUBJECT_CHARS,
                                         pattern=PLAIN)]
    site: Ident | None = None
    counter: Ident | None = None
    ticket: ScopedId | None = None
    booking: ScopedId | None = None
    region: Ident | None = None
    tech: ScopedId | None = None
    job: ScopedId | None = None
    org: ScopedId | None = None
    area: Ident | None = None
    channels: Annotated[list[Channel], msgspec.Meta(min_length=1, max_length=8)] | None = None
    # At most SWITCHBOARD_MAX_TOKEN_TTL_S (checked in mint: it is a setting).
    ttl_s: Annotated[int, msgspec.Meta(ge=MIN_TTL_S)] | None = None
    # The link this one replaces (its ``jti``, as GET /v1/tokens lists it): revoked at once.
    replaces: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    # Replace every active listed token of this role, subject and site (a re-printed sheet).
    replace_previous: bool = False


@dataclass(frozen=True)
class Minted:
    token: str
    role: str
    subject: str
    ttl_s: int
    expires_at: float
    link: str | None
    capped: bool

    def as_dict(self) -> dict[str, Any]:
        return {"token": self.token, "role": self.role, "subject": self.subject,
                "ttl_s": self.ttl_s,
                "expires_at": datetime.fromtimestamp(self.expires_at, UTC).isoformat(
                    timespec="seconds").replace("+00:00", "Z"),
                "link": self.link, "capped": self.capped}


def check_scope(req: TokenRequest) -> None:
    """The role is known and given exactly its scope (400 ``bad_request``, ``field``)."""
    if req.role not in ROLES:
        raise BadRequest(f"unknown role {req.role!r}; roles: {', '.join(ROLES)}", field="role")
    article = "an" if req.role[:1] in "aeiou" else "a"
    needs = SCOPES[req.role]
    for name in needs:
        if getattr(req, name) is None:
            raise BadRequest(f"{article} {req.role} token needs {name}", field=name)
    for name in SCOPE_FIELDS:
        if name not in needs and getattr(req, name) is not None:
            raise BadRequest(f"{article} {req.role} token is not scoped by {name}; leave it out",
                             field=name)
    if req.channels is not None and req.role != "partner":
        raise BadRequest("channels go with a partner token only", field="channels")
    if req.area is not None and req.role != "display":
        raise BadRequest("only a display token is locked to a waiting area (area)",
                         field="area")


def mint(secret: str, settings: Settings, req: TokenRequest, *, not_after: float | None = None,
         now: float | None = None) -> Minted:
    """Check ``req`` and sign its token (shared by the HTTP route; ``switchboard token``
    could build a TokenRequest and call this too). ``not_after``: the latest expiry allowed
    (epoch seconds); a longer lifetime is cut to it."""
    check_scope(req)
    now = clock.now_s() if now is None else now  # as make_token: Redis's if ours is off
    ttl = req.ttl_s or default_ttl(req.role, settings)
    if ttl > settings.max_token_ttl_s:  # the servers would refuse it (reason "lifetime")
        raise BadRequest(f"ttl_s is at most {settings.max_token_ttl_s} here "
                         "(SWITCHBOARD_MAX_TOKEN_TTL_S): a longer token is refused",
                         field="ttl_s")
    capped = False
    if not_after is not None and now + ttl > not_after:
        ttl, capped = max(1, math.floor(not_after - now)), True
    scope = {name: getattr(req, name) for name in SCOPES[req.role]}
    channels = [c.value for c in dict.fromkeys(req.channels)] if req.channels else None
    token = make_token(secret, req.role, subject=req.subject, ttl_s=ttl, now=now,
                       channels=channels, area=req.area, **scope)
    iat = math.floor(now * 1000) / 1000  # as make_token stamps it
    return Minted(token, req.role, req.subject, ttl, round(iat + ttl, 3),
                  link(req.role, scope, token, channels, req.area), capped)


def link(role: str, scope: dict[str, str], token: str,
         channels: list[str] | None = None, area: str | None = None) -> str | None:
    """The page a token of ``role`` opens, with the token (None: no page for that role). A
    partner token whose only channel is web is the site's public booking page's; a display
    token locked to an area opens that area's board."""
    path = "/book/{site}" if role == "partner" and channels == ["web"] else PAGES.get(role)
    if path is None:
        return None
    query = f"?area={quote(area, safe='')}&token=" if area else "?token="
    return path.format(**{k: quote(v, safe="") for k, v in scope.items()}) + query + token


async def post_token(request: Request) -> Response:
    c = ctx(request)
    p = c.verify(bearer(request))
    p.require("admin")
    # A decoding error names its field in ``details.field`` (realtime/body.py).
    body = await json_body(request, TokenRequest, c.settings.max_body_bytes)
    check_scope(body)
    if body.role == "admin":
        # A copy of an admin token has its own id: revoking the (leaked) token that made it
        # would not revoke the copy (review). The set-up page needs device tokens only.
        raise Forbidden("admin tokens are made on the server's machine (switchboard token "
                        "admin), not over HTTP", role=p.role, field="role")
    if body.site is not None:
        cfg = await c.engine.config(body.site)  # unknown_site (404)
        if body.counter is not None and cfg.counter(body.counter) is None:
            raise UnknownCounter(f"site {body.site} has no counter {body.counter}",
                                 field="counter")
        if body.area is not None and all(a.id != body.area for a in cfg.areas):
            # A board locked to a room the site lacks would only ever show its refusal.
            raise BadRequest(f"site {body.site} has no waiting area {body.area} (its areas: "
                             f"{', '.join(a.id for a in cfg.areas) or 'none'})",
                             field="area", reason="unknown_area")
    body = await _holder_checked(request, body)
    body = await _dispatch_checked(c, body)
    old = await _replaced(c, body)
    done = mint(c.secret, c.settings, body)
    # The old ones are revoked before the new one is recorded and answered: never both.
    now = clock.now_s()
    for rec in old:
        if float(rec["expires_at"]) > now:
            await c.revocations.revoke_token(c.redis, rec["jti"], float(rec["expires_at"]),
                                             rec["sub"])
    kept = await token_registry.record(c.redis, done.token, p.subject,
                                       [rec["jti"] for rec in old])
    log.info("%s minted a %s token for %s (%s, %d s)", p.subject, done.role, done.subject,
             ", ".join(f"{k}={getattr(body, k)}" for k in (*SCOPES[body.role], "area")
                       if getattr(body, k) is not None) or "unscoped",
             done.ttl_s)
    if old:
        log.warning("%s replaced %s's token(s) %s (revoked) with %s", p.subject, done.subject,
                    ", ".join(rec["jti"] for rec in old), kept["jti"])
    answer = done.as_dict() | {"jti": kept["jti"], "replaced": [rec["jti"] for rec in old]}
    return Response(msgspec.json.encode(answer), status_code=201,
                    media_type="application/json", headers={"Cache-Control": "no-store"})


async def _replaced(c: Context, body: TokenRequest) -> list[dict[str, str]]:
    """The registered tokens the new one replaces: ``replaces`` (one id, of the same role
    and site; 400 ``bad_request``, ``field: replaces``, ``reason`` ``unknown_token`` or
    ``other_scope``), or with ``replace_previous`` every active one of the same role,
    subject and site."""
    if body.replaces is not None:
        rec = await token_registry.get(c.redis, body.replaces)
        if rec is None:
            raise BadRequest(f"no issued link {body.replaces} is listed (GET /v1/tokens); "
                             "revoke an unlisted one by its subject", field="replaces",
                             reason="unknown_token")
        if rec["role"] != body.role or rec.get("site") != body.site:
            raise BadRequest(f"link {body.replaces} is a {rec['role']} token of "
                             f"{rec.get('site') or 'no site'}: a {body.role} token of "
                             f"{body.site or 'no site'} does not replace it",
                             field="replaces", reason="other_scope")
        return [rec]
    if not body.replace_previous:
        return []
    now = clock.now_s()
    return [rec for rec in await token_registry.records(c.redis, now, lo=now)
            if rec["role"] == body.role and rec["sub"] == body.subject
            and rec.get("site") == body.site
            and token_registry.status(rec, now, c.revocations.refusal) == "active"]


async def list_tokens(request: Request) -> Response:
    """``GET /v1/tokens?site=&role=&status=&expiring_within_s=``: the issued links kept
    (never the tokens), sorted by expiry, with a summary (how many are active, expiring
    within a week, revoked, expired) and each site's count expiring within a week. An admin
    lists every site's; a supervisor, its own site's (``site`` required)."""
    c = ctx(request)
    p = c.verify(bearer(request))
    q = request.query_params
    site, role, state = q.get("site"), q.get("role"), q.get("status")
    if site is None and not p.is_admin:
        p.require("admin")
    p.require("supervisor", site=site)
    if role is not None and role not in ROLES:
        raise BadRequest(f"unknown role {role!r}; roles: {', '.join(ROLES)}", field="role")
    if state is not None and state not in STATUSES:
        raise BadRequest(f"status is one of {', '.join(STATUSES)}", field="status")
    within: float | None = None
    if "expiring_within_s" in q:
        try:
            within = float(int(q["expiring_within_s"]))
        except ValueError:
            within = -1.0
        if within < 0:
            raise BadRequest("expiring_within_s is a whole number of seconds, 0 or more",
                             field="expiring_within_s")
    now = clock.now_s()
    rows = []
    summary = dict.fromkeys((*STATUSES, "expiring_soon"), 0)
    soon_by_site: dict[str, int] = {}
    for rec in await token_registry.records(c.redis, now):
        if (site is not None and rec.get("site") != site) or (role and rec["role"] != role):
            continue
        status = token_registry.status(rec, now, c.revocations.refusal)
        summary[status] += 1
        left = float(rec["expires_at"]) - now
        if status == "active" and left <= token_registry.SOON_S:
            summary["expiring_soon"] += 1
            if "site" in rec:
                soon_by_site[rec["site"]] = soon_by_site.get(rec["site"], 0) + 1
        if (state is not None and status != state) or (
                within is not None and (status != "active" or left > within)):
            continue
        rows.append(token_registry.shown(rec, now, status))
    return Response(msgspec.json.encode({
        "tokens": rows, "summary": summary, "expiring_soon_s": token_registry.SOON_S,
        "expiring_soon_by_site": dict(sorted(soon_by_site.items()))}),
        media_type="application/json", headers={"Cache-Control": "no-store"})


STATUSES = ("active", "revoked", "expired")


async def _holder_checked(request: Request, body: TokenRequest) -> TokenRequest:
    """The ticket or booking a person's token is for must exist (404 ``unknown_ticket``,
    ``unknown_booking``, ``details.field``), a booking at the token's ``site``. A booking's
    token lasts, by default, until a day after its appointment ends, as the link answered
    when it was made (realtime/links.py)."""
    if body.ticket is not None:
        try:
            await ctx(request).engine.ticket(body.ticket)
        except (UnknownTicket, UnknownSite) as exc:  # ``nosite.x``: no such ticket either
            raise UnknownTicket(f"unknown ticket {body.ticket}", field="ticket") from exc
    if body.booking is None:
        return body
    nowhere = UnknownBooking(f"site {body.site} has no booking {body.booking}",
                             field="booking")
    # Booking ids are ``site.local`` as tickets': another site's, or no site's at all.
    if keys.site_of_ticket(body.booking) != body.site:
        raise nowhere
    eng = booking_engine(request)
    try:
        raw = await eng.raw(body.booking)
    except UnknownBooking as exc:
        raise nowhere from exc
    if body.ttl_s is not None:
        return body
    ttl = link_ttl_s(int(raw["end_ms"]), eng.now(), ctx(request).settings.token_ttl_s)
    return msgspec.structs.replace(body, ttl_s=min(ttl, ctx(request).settings.max_token_ttl_s))


async def _dispatch_checked(c: Context, body: TokenRequest) -> TokenRequest:
    """The region, technician, organisation or job the token is for must exist (404
    ``unknown_region``, ``unknown_technician``, ``unknown_org``, ``unknown_job``), as a
    site must; a customer's token lasts, by default, until its job's window ends plus
    SWITCHBOARD_TOKEN_TTL_S, as the link its creation answered (not a day: a link minted
    today for tomorrow's visit expired before it)."""
    from realtime.dispatch_api import customer_ttl_s
    from realtime.hub.dispatch_topics import dispatch_engine
    eng = dispatch_engine(c.hub)
    if body.region is not None:
        await eng.config(body.region)
    if body.tech is not None:
        await eng.tech_record(body.tech)
    if body.org is not None:
        await eng.org(body.org)
    if body.job is None:
        return body
    window = (await eng.job(body.job)).get("window") or {}
    if body.ttl_s is not None:
        return body
    ttl = customer_ttl_s(c.settings, window.get("end_ms"), eng.clock())
    return msgspec.structs.replace(body, ttl_s=min(ttl, c.settings.max_token_ttl_s))


ROUTES = [Route("/v1/tokens", post_token, methods=["POST"]),
          Route("/v1/tokens", list_tokens, methods=["GET"])]

register(
    Operation("post", "/v1/tokens",
              "Mint a token for a device or a person (what `switchboard token` does): "
              "`{token, jti, role, subject, ttl_s, expires_at, link, capped, replaced}`, "
              "`link` being the "
              "page it opens (`/counter/{site}/{counter}?token=…`, `/board/{site}?token=…`; "
              "a display token with `area` is locked to that waiting area's board, "
              "`/board/{site}?area={area}&token=…`, "
              "`/kiosk/{site}?token=…`, `/supervise/{site}?token=…`, "
              "`/ticket/{ticket}?token=…`, `/booking/{booking}?token=…`; null for roles "
              "without a page). A ticket or booking token is for one that exists (a booking "
              "of `site`). No admin tokens (make those with switchboard token on the server); "
              "ttl_s at most SWITCHBOARD_MAX_TOKEN_TTL_S. Kept in the list of issued links "
              "(GET /v1/tokens, never the token). `replaces` (an old link's `jti`, same role "
              "and site) or `replace_previous: true` (every active listed link of the same "
              "role, subject and site) revokes the old link before the new one is answered "
              "(`replaced`: their ids)", "admin", TokenRequest, 201,
              errors=("bad_request", "unknown_field", "unauthorized", "forbidden",
                      "unknown_site", "unknown_counter", "unknown_ticket",
                      "unknown_booking", "unknown_region",
                      "unknown_technician", "unknown_org", "unknown_job",
                      "payload_too_large")),
    Operation("get", "/v1/tokens",
              "The issued links kept (minted by POST /v1/tokens or switchboard token; never "
              "the tokens), sorted by expiry: `{tokens: [{jti, role, subject, site, counter, "
              "area, region, …, minted_at, expires_at, minted_by, last_seen, status, "
              "days_left, replaces, replaced_by}], summary: {active, revoked, expired, "
              "expiring_soon}, expiring_soon_s, expiring_soon_by_site}`; `status` is active, "
              "revoked or expired; `expiring_within_s`: active links expiring within that "
              "many seconds only. Admin; a supervisor lists its own site's (`site` given)",
              "admin, or supervisor of the site", errors=("bad_request", "unauthorized"),
              query=("site", "role", "status", "expiring_within_s")),
)
