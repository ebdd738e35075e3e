"""The web pages people see, served from clients/web/ (no build step).

Each page is a static HTML file with one JSON "boot" block filled in here: the site's public
configuration (names, languages, services, counters, time zone), the server's clock (so a
screen can tell an expired announcement even when its own clock is off) and, when the link's
token does not open the page, the error to show instead. The kiosk's also says whether the
site takes bookings (``check_in``): without a schedule no code can be checked in. The
scripts read ids and the token from the URL and speak the websocket protocol through
clients/web/js/client.js.

Routes: ``/`` (the demo's pages with ready tokens when the server runs with ``--demo``;
otherwise how to start: an admin token, then ``/setup/{site}``),
``/board/{site}``, ``/ticket/{id}``, ``/counter/{site}/{counter}``, ``/kiosk/{site}``,
``/supervise/{site}`` (the floor overview: a supervisor's or any agent's token of the site),
``/phone/{site}`` (a phone texting the site, for trying text to join: an sms gateway's token),
``/booking/{id}`` (a person's own online booking: see it, confirm, move, cancel, check in),
``/book/{site}`` (the site's own public booking page: a partner token whose only channel is
``web``),
the dispatch pages ``/tech/{id}`` (a technician's wristband or phone), ``/track/{job}`` (the
customer's tracking page) and ``/org/{org}`` (an enterprise dashboard), ``/qr.svg?data=…``
(a ticket's QR code), ``/ticket-sw.js`` (the tracker's service worker, for notifications)
and ``/static/…`` (CSS, JS, images).

Dispatch pages carry their region's public facts instead of a site's (name, time zone, the
zones to draw where the audience may see them) and a map setting: maps are SVG drawn from
lat/lon, with raster tiles only when a tile URL is configured (and then allowed by the CSP).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import msgspec
import segno
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from dispatch import keys as dkeys
from dispatch.engine import DispatchEngine
from dispatch.errors import DispatchFailure, UnknownJob, UnknownOrg, UnknownTechnician
from dispatch.model import RegionConfig
from queueing.booking.engine import site_of_booking
from queueing.demo import DEMO_SITE
from queueing.errors import (
    BadRequest,
    BookingNotConfigured,
    Forbidden,
    RateLimited,
    SwitchboardError,
    UnknownCounter,
)
from queueing.keys import site_of_ticket
from realtime import clock
from realtime.api import public_web
from realtime.auth import Principal, make_token
from realtime.booking_api import booking_engine
from realtime.context import bearer, ctx
from realtime.hub.queue_topics import public_site  # the boot's and the topics' site document
from realtime.settings import Settings
from realtime.sms_api import check_gateway

WEB = Path(str(files("clients") / "web"))
BOOT_MARK = "<!--boot-->"
QR_MAX_CHARS = 1024
# Pages carry a token in their URL: never send it on as a referrer, never cache the page.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; connect-src 'self'; object-src 'none'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    # No page is ever shown inside another site's frame (a console or kiosk under someone
    # else's buttons); a signage player opens the page itself. Older browsers: X-Frame-Options.
    "X-Frame-Options": "DENY",
}

Check = Callable[[Principal, dict[str, str]], None]
# What a page adds to its boot block, given the request and the (checked) site.
Extra = Callable[[Request, str], Awaitable[dict[str, Any]]]


class Static(StaticFiles):
    """``/static/``: scripts, styles and images, never sniffed as another type. The page
    templates (``*.html``) are not served here: a page is only ever the rendered one, with
    its boot block and its headers (CSP)."""

    async def get_response(self, path: str, scope: Any) -> Response:
        if path.lower().endswith((".html", ".htm")):
            from starlette.exceptions import HTTPException
            raise HTTPException(404)
        response = await super().get_response(path, scope)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _template(name: str) -> str:
    return (WEB / f"{name}.html").read_text(encoding="utf-8")


def render(name: str, boot: dict[str, Any], status: int = 200,
           headers: dict[str, str] = HEADERS) -> HTMLResponse:
    """The page ``name`` with ``boot`` in its JSON block (``<`` escaped: no ``</script>``)."""
    blob = msgspec.json.encode(boot).decode().replace("<", "\\u003c")
    return HTMLResponse(_template(name).replace(BOOT_MARK, blob, 1), status, headers=headers)


def page(name: str, site_of: Callable[[dict[str, str]], str], check: Check,
         extra: Extra | None = None) -> Callable[[Request], Awaitable[Response]]:
    """A page route: verify the link's token for this page, then render it with its site
    (and what ``extra`` adds)."""

    async def endpoint(request: Request) -> Response:
        params = dict(request.path_params)
        boot: dict[str, Any] = {"page": name, "params": params,
                                "server_ms": clock.now_ms()}
        try:
            site = site_of(params)
            check(ctx(request).verify(bearer(request)), params)
            cfg = await ctx(request).engine.config(site)
            if "counter" in params and cfg.counter(params["counter"]) is None:
                raise UnknownCounter(f"unknown counter {params['counter']}")
            boot["site"] = public_site(site, cfg)
            # The site's words (clients/web/js/vocabulary.js) are in the site document, as the
            # topics' ``site`` messages send it; kept here on their own too, as before
            # (vocabulary-boot.js reads the document's, else this).
            boot["vocabulary"] = cfg.vocabulary
            if extra is not None:
                boot.update(await extra(request, site))
        except SwitchboardError as exc:
            boot["error"] = {"code": exc.code, "message": exc.message}
            return render(name, boot, exc.status)
        return render(name, boot)

    return endpoint


async def _kiosk_boot(request: Request, site: str) -> dict[str, Any]:
    """``check_in``: whether the site has a booking schedule, so the kiosk offers check-in by
    code only where a code can work. Asked of the booking engine as a check-in asks it (its
    cached schedule, else one Redis read), so the page and a check-in agree. ``sms``: whether
    notifications go anywhere (a webhook to an SMS gateway is configured), so the kiosk offers
    "text me before my turn" only where a text can come."""
    settings = ctx(request).settings
    # ``alert_position``: a ticket this near the front gets only "your turn", not "almost".
    # ``public_url``: the address phones reach the server at, which the ticket's QR code
    # starts with (a kiosk on the internal network is not at an address phones can reach).
    sms = {"sms": bool(settings.notify_webhook_url), "alert_position": settings.alert_position,
           **public_url(settings)}
    try:
        await booking_engine(request).schedule(site)
    except BookingNotConfigured:
        return {"check_in": False, **sms}
    return {"check_in": True, **sms}


def public_url(settings: Settings) -> dict[str, str]:
    """``{"public_url": …}`` when the server has one (SWITCHBOARD_PUBLIC_URL): links a page
    hands to other devices (the kiosk's QR code, the set-up page's device links) start with
    it, not with the address the page itself was opened at."""
    return {"public_url": settings.public_url} if settings.public_url else {}


async def _staff_boot(request: Request, site: str) -> dict[str, Any]:
    """``sms``: whether texts can go out (a notification webhook), so the console does not
    tell a caller on the phone line they will get a text that never comes. Where the site
    takes bookings, its resources and rules (``booking_site``): the console books
    appointments for callers and people at the desk, the floor overview lists the day's."""
    out: dict[str, Any] = {"sms": bool(ctx(request).settings.notify_webhook_url)}
    with contextlib.suppress(BookingNotConfigured):
        out |= await _booking_boot(request, site)
    return out


async def _phone_boot(request: Request, site: str) -> dict[str, Any]:
    """``demo``: texts from the worker can be shown (the demo keeps them for this page)."""
    return {"demo": ctx(request).settings.demo}


def _ticket_site(params: dict[str, str]) -> str:
    site = site_of_ticket(params["ticket"])
    if not site:
        raise BadRequest("ticket ids are SITE.ID", field="ticket")
    return site


def _ticket_check(p: Principal, params: dict[str, str]) -> None:
    if p.role == "ticket":
        if p.ticket != params["ticket"]:
            raise Forbidden("this link is for another ticket")
        return
    p.require("agent", site=_ticket_site(params))


def _booking_site(params: dict[str, str]) -> str:
    return site_of_booking(params["booking"])


def _booking_check(p: Principal, params: dict[str, str]) -> None:
    if p.role == "booking":
        if p.booking != params["booking"]:
            raise Forbidden("this link is for another booking")
        return
    p.require("agent", site=_booking_site(params))


async def _booking_boot(request: Request, site: str) -> dict[str, Any]:
    """What the booking page needs besides the booking (which it reads with its token):
    the resources' names (a doctor or room) and the rules of the day, so it can say when
    check-in opens and until when, and offer only what the server would allow."""
    s = await booking_engine(request).schedule(site)
    p = s.config.policy
    return {"booking_site": {
        "resources": [{"id": r.id, "name": r.name, "services": r.services}
                      for r in s.config.resources],
        "policy": {"early_check_in_s": p.early_check_in_s, "grace_s": p.grace_s,
                   "late_walk_in": p.late_walk_in, "horizon_days": p.horizon_days,
                   "book_until_s": p.book_until_s, "keep_place": p.keep_place,
                   "max_open_bookings": p.max_open_bookings}}}


async def _book_boot(request: Request, site: str) -> dict[str, Any]:
    """The booking page's facts; ``sms``: whether a reminder text can go (a webhook to an
    SMS gateway), so the page promises one only then; ``verify``: whether a booking needs a
    code texted to the number first."""
    s = ctx(request).settings
    return {**await _booking_boot(request, site), "sms": bool(s.notify_webhook_url),
            # Bookings here need a code texted to the number (realtime/verify.py).
            "verify": bool(s.web_booking_verify and (s.notify_webhook_url or s.demo))}


def _book_check(p: Principal, params: dict[str, str]) -> None:
    """The public booking page: a partner token of the site that may book through ``web``
    (its only channel, for a link anyone may open: realtime.api.public_web), or an admin."""
    if p.is_admin:
        return
    p.require("partner", site=params["site"])
    if not public_web(p):
        # Only web: a token with other channels is a partner's back end's (not limited per
        # address, no texted code asked, reads the bookings it made), never a public link's.
        raise Forbidden("this page books through the web channel: a partner token with "
                        "channels [\"web\"] only", role=p.role)


# -- dispatch pages -------------------------------------------------------------------------

Loader = Callable[[DispatchEngine, Principal, str], Awaitable[dict[str, Any]]]


def _dispatch(request: Request) -> DispatchEngine:
    from realtime.hub.dispatch_topics import dispatch_engine
    return dispatch_engine(ctx(request).hub)


def public_region(region: str, cfg: RegionConfig, zones: bool) -> dict[str, Any]:
    """What a dispatch page may know of its region; zones only for staff-side pages."""
    out: dict[str, Any] = {"id": region, "name": cfg.name, "timezone": cfg.timezone,
                           "offer_timeout_s": cfg.policy.offer_timeout_s,
                           # The travel model, for a device's live ETA to its next job.
                           "travel": {"speed_kmh": cfg.policy.speed_kmh,
                                      "detour": cfg.policy.detour,
                                      "speed_by_hour": cfg.policy.speed_by_hour},
                           "skill_names": cfg.skill_names}
    if zones:
        out["zones"] = [{"id": z.id, "name": z.name, "polygon": z.polygon} for z in cfg.zones]
    return out


def _allow(p: Principal, region: str, role: str, own: bool) -> None:
    """Admins, the region's dispatchers, or the page's own ``role`` token (``own``)."""
    if p.is_admin or (p.role == "dispatcher" and p.region == region) or (p.role == role and own):
        return
    raise Forbidden("this link does not open this page", role=p.role)


def _checked(some_id: str, missing: type[DispatchFailure]) -> str:
    if not dkeys.valid_id(some_id):
        raise missing(f"unknown id {some_id!r}")
    return dkeys.region_of(some_id)


async def _tech_boot(eng: DispatchEngine, p: Principal, tid: str) -> dict[str, Any]:
    region = _checked(tid, UnknownTechnician)
    _allow(p, region, "tech", p.tech == tid)
    t = await eng.tech(tid)
    return {"region": public_region(region, await eng.config(region), zones=True),
            "tech": {"id": tid, "name": t["name"], "home": t["home"], "skills": t["skills"]}}


async def _track_boot(eng: DispatchEngine, p: Principal, jid: str) -> dict[str, Any]:
    region = _checked(jid, UnknownJob)
    if p.role != "org":  # an organisation's token opens its own jobs: known after the read
        _allow(p, region, "customer", p.job == jid)
    j = await eng.job_record(jid)
    if p.role == "org" and (not p.org or j.get("org") != p.org):
        raise Forbidden("this link does not open this page", role=p.role)
    return {"region": public_region(region, await eng.config(region), zones=False),
            "place": {"lat": j["lat"], "lon": j["lon"], "address": j.get("address") or None}}


async def _org_boot(eng: DispatchEngine, p: Principal, oid: str) -> dict[str, Any]:
    region = _checked(oid, UnknownOrg)
    _allow(p, region, "org", p.org == oid)
    o = await eng.org(oid)
    return {"region": public_region(region, await eng.config(region), zones=True),
            "org": {"id": oid, "name": o["name"]}}


async def _console_boot(eng: DispatchEngine, p: Principal, region: str) -> dict[str, Any]:
    """``/dispatch/{region}``: the dispatcher's console, for the region's dispatchers and
    admins only. The technicians it follows live are read again by the page (a technician
    put after it opened appears too); these are for its first paint."""
    _allow(p, region, "dispatcher", False)
    cfg = await eng.config(region)
    techs = await eng.redis.smembers(dkeys.prefix(region) + "techs")  # type: ignore[misc]
    return {"region": public_region(region, cfg, zones=True),
            "techs": sorted(t.decode() for t in techs)}


def map_setting(settings: Settings) -> tuple[dict[str, Any], dict[str, str]]:
    """The map part of the boot block, and the page headers. Off by default (no network):
    a tile URL (``https://tiles.example/{z}/{x}/{y}.png``) turns raster tiles on, and its
    origin is then allowed as an image source."""
    url = settings.map_tile_url or ""
    if not url.startswith("https://"):
        return {}, HEADERS
    origin = "/".join(url.split("/", 3)[:3])
    csp = HEADERS["Content-Security-Policy"].replace("img-src 'self' data:",
                                                     f"img-src 'self' data: {origin}")
    attribution = settings.map_attribution
    return {"tiles": url, "attribution": attribution}, {**HEADERS,
                                                        "Content-Security-Policy": csp}


def dispatch_page(name: str, key: str, load: Loader
                  ) -> Callable[[Request], Awaitable[Response]]:
    """A dispatch page route: verify the link's token for this page, then render it with
    its region (and what ``load`` adds)."""

    async def endpoint(request: Request) -> Response:
        params = dict(request.path_params)
        boot: dict[str, Any] = {"page": name, "params": params,
                                "server_ms": clock.now_ms()}
        tiles, headers = map_setting(ctx(request).settings)
        boot["map"] = tiles
        try:
            p = ctx(request).verify(bearer(request))
            boot.update(await load(_dispatch(request), p, params[key]))
        except (SwitchboardError, DispatchFailure) as exc:
            boot["error"] = {"code": exc.code, "message": exc.message}
            return render(name, boot, exc.status, headers)
        return render(name, boot, headers=headers)

    return endpoint


async def home(request: Request) -> Response:
    """The front page; with ``--demo``, links to every demo page with a fresh token; without,
    the page itself says how to set up a site (home.js)."""
    c = ctx(request)
    boot: dict[str, Any] = {"page": "home", "demo": c.settings.demo, "links": []}
    if c.settings.demo:
        try:
            boot["site"] = public_site(DEMO_SITE, await c.engine.config(DEMO_SITE))
        except SwitchboardError:
            return render("index", boot)
        boot["links"] = demo_links(c.secret, boot["site"], c.settings.token_ttl_s)
        boot["links"] += await dispatch_links(_dispatch(request), c.secret,
                                              c.settings.token_ttl_s)
    return render("index", boot)


def demo_links(secret: str, site: dict[str, Any], ttl_s: int) -> list[dict[str, Any]]:
    s = site["id"]
    device_ttl = max(ttl_s, 365 * 86400)  # wall screens and kiosks must not lapse daily
    display = make_token(secret, "display", site=s, ttl_s=device_ttl, subject="demo:display")
    kiosk = make_token(secret, "kiosk", site=s, ttl_s=device_ttl, subject="demo:kiosk")
    links = [
        {"kind": "board", "lang": "zh", "path": f"/board/{s}?token={display}&lang=zh"},
        {"kind": "board", "lang": "en", "path": f"/board/{s}?token={display}&lang=en"},
        {"kind": "kiosk", "path": f"/kiosk/{s}?token={kiosk}"},
    ]
    supervisor = make_token(secret, "supervisor", site=s, ttl_s=ttl_s, subject="demo:supervisor")
    links.append({"kind": "supervise", "path": f"/supervise/{s}?token={supervisor}"})
    gateway = make_token(secret, "partner", site=s, ttl_s=ttl_s, subject="demo:sms-gateway",
                         channels=["sms"])
    links.append({"kind": "phone", "path": f"/phone/{s}?token={gateway}"})
    # The site's public booking page: a partner token whose only channel is web (public as
    # a kiosk's, limited per address as one).
    web = make_token(secret, "partner", site=s, ttl_s=device_ttl, subject="demo:web-booking",
                     channels=["web"])
    links.append({"kind": "book", "path": f"/book/{s}?token={web}"})
    for c in site["counters"]:
        agent = make_token(secret, "agent", site=s, counter=c["id"], ttl_s=ttl_s,
                           subject=f"demo:agent:{c['id']}")
        links.append({"kind": "counter", "counter": c["id"], "name": c["name"],
                      "path": f"/counter/{s}/{c['id']}?token={agent}"})
    return links


async def dispatch_links(eng: DispatchEngine, secret: str, ttl_s: int) -> list[dict[str, Any]]:
    """The dispatch demo (dispatch/demo.py): technician 1's device with a simulated route,
    the tracking page of a planned job (technician 1's first, if it has one), the ACME
    dashboard and the region's dispatcher console."""
    from dispatch import demo
    tech = demo.TECHS[0][0]
    try:
        t = await eng.tech(tech)
        org = await eng.org(demo.ORG)
    except DispatchFailure:
        return []  # the dispatch demo is not loaded (or not reachable): queue pages only
    device = make_token(secret, "tech", tech=tech, ttl_s=max(ttl_s, 365 * 86400),
                        subject=f"demo:{tech}")
    links: list[dict[str, Any]] = [
        {"kind": "tech", "name": t["name"], "path": f"/tech/{tech}?token={device}&sim=1"}]
    job = await _demo_job(eng, [tid for tid, *_ in demo.TECHS])
    if job:
        customer = make_token(secret, "customer", job=job, ttl_s=ttl_s, subject="demo:customer")
        links.append({"kind": "track", "job": job, "path": f"/track/{job}?token={customer}"})
    dash = make_token(secret, "org", org=demo.ORG, ttl_s=ttl_s, subject="demo:org")
    links.append({"kind": "org", "name": org["name"], "path": f"/org/{demo.ORG}?token={dash}"})
    dispatcher = make_token(secret, "dispatcher", region=demo.REGION, ttl_s=ttl_s,
                            subject="demo:dispatcher")
    links.append({"kind": "console", "region": demo.REGION,
                  "path": f"/dispatch/{demo.REGION}?token={dispatcher}"})
    return links


async def _demo_job(eng: DispatchEngine, techs: list[str]) -> str | None:
    """The first job on a route, technician 1's first (its device demo drives to it)."""
    for tid in techs:
        route = (await eng.tech(tid))["route"]
        job = next((s["j"] for s in route if s.get("j")), None)
        if job:
            return str(job)
    return None


async def ticket_worker(request: Request) -> Response:
    """The tracker's service worker (notifications on phones), allowed the /ticket/ scope."""
    return Response((WEB / "ticket-sw.js").read_bytes(), media_type="text/javascript",
                    headers={"Service-Worker-Allowed": "/ticket/", "Cache-Control": "no-cache"})


# Drawing a QR code is pure Python (~65 ms for 1,024 characters) and /qr.svg needs no token:
# drawn on the event loop, a flood of them delayed every board and kiosk of the process. They
# are drawn in threads, QR_DRAWING at a time; QR_QUEUE more may wait, the rest get 429.
QR_DRAWING, QR_QUEUE = 2, 16


class _QrDrawing:
    """Per app (and so per event loop): the drawing slots and how many hold or wait."""

    def __init__(self) -> None:
        self.slots = asyncio.Semaphore(QR_DRAWING)
        self.pending = 0


def _draw_qr(data: str) -> bytes:
    out = io.BytesIO()
    segno.make(data, error="m", micro=False).save(out, kind="svg", border=4, omitsize=True,
                                                   xmldecl=False, dark="#000", light="#fff")
    return out.getvalue()


async def qr_svg(request: Request) -> Response:
    """A QR code as SVG (the kiosk prints the tracker link with it); no script, no network."""
    data = request.query_params.get("data", "")
    if not data or len(data) > QR_MAX_CHARS:
        raise BadRequest(f"data must be 1 to {QR_MAX_CHARS} characters", field="data")
    qr: _QrDrawing | None = getattr(request.app.state, "qr", None)
    if qr is None:
        qr = request.app.state.qr = _QrDrawing()
    if qr.pending >= QR_DRAWING + QR_QUEUE:
        raise RateLimited("too many QR codes being drawn; retry in 1 s", retry_after_s=1)
    qr.pending += 1
    try:
        async with qr.slots:
            svg = await asyncio.to_thread(_draw_qr, data)
    finally:
        qr.pending -= 1
    return Response(svg, media_type="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=86400",
                             "X-Content-Type-Options": "nosniff"})


SITE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


async def setup_page(request: Request) -> Response:
    """``/setup/{site}``: the site's set-up page for its administrator (services, counters,
    device links). No token in its URL: an admin's token in a query string would end up in
    access logs and browser history. The page takes it from the fragment (``#token=…``,
    never sent to a server) or a paste field, keeps it in the tab's sessionStorage and asks
    the API with it (``Authorization``); so the page itself is served to anyone, with no
    site data in it. The site need not exist yet: saving creates it. Device links start with
    the server's public address when it has one (``public_url``)."""
    site = request.path_params["site"]
    boot: dict[str, Any] = {"page": "setup", "params": {"site": site},
                            "server_ms": clock.now_ms(),
                            **public_url(ctx(request).settings)}
    if not SITE_ID.fullmatch(site):
        boot["error"] = {"code": "bad_request",
                         "message": "site ids are 1-64 letters, digits, '_' or '-'"}
        return render("setup", boot, 400)
    return render("setup", boot)


ROUTES: list[BaseRoute] = [
    Route("/", home, methods=["GET"]),
    Route("/board/{site}", page("board", lambda p: p["site"], lambda pr, p: pr.require(
        "display", "agent", "kiosk", "supervisor", site=p["site"])), methods=["GET"]),
    Route("/ticket/{ticket}", page("ticket", _ticket_site, _ticket_check), methods=["GET"]),
    Route("/booking/{booking}", page("booking", _booking_site, _booking_check, _booking_boot),
          methods=["GET"]),
    Route("/book/{site}", page("book", lambda p: p["site"], _book_check, _book_boot),
          methods=["GET"]),
    Route("/counter/{site}/{counter}", page("counter", lambda p: p["site"], lambda pr, p:
                                            pr.require_counter(p["site"], p["counter"]),
                                            _staff_boot),
          methods=["GET"]),
    Route("/supervise/{site}", page("supervise", lambda p: p["site"], lambda pr, p: pr.require(
        "supervisor", "agent", site=p["site"]), _staff_boot), methods=["GET"]),
    Route("/phone/{site}", page("phone", lambda p: p["site"], lambda pr, p: check_gateway(
        pr, p["site"]), _phone_boot), methods=["GET"]),
    Route("/kiosk/{site}", page("kiosk", lambda p: p["site"], lambda pr, p: pr.require(
        "kiosk", "agent", site=p["site"]), _kiosk_boot), methods=["GET"]),
    Route("/tech/{tech}", dispatch_page("tech", "tech", _tech_boot), methods=["GET"]),
    Route("/track/{job}", dispatch_page("track", "job", _track_boot), methods=["GET"]),
    Route("/org/{org}", dispatch_page("org", "org", _org_boot), methods=["GET"]),
    Route("/dispatch/{region}", dispatch_page("dispatch-console", "region", _console_boot),
          methods=["GET"]),
    Route("/setup/{site}", setup_page, methods=["GET"]),
    Route("/qr.svg", qr_svg, methods=["GET"]),
    Route("/ticket-sw.js", ticket_worker, methods=["GET"]),
    # Compressed for phones on a poor signal: the tracker's scripts are ~100 KB plain, ~30
    # KB gzipped (4 s at 50 KB/s before anything showed).
    Mount("/static", app=GZipMiddleware(Static(directory=WEB, check_dir=False),
                                        minimum_size=1024), name="static"),
]
