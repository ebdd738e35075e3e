"""The web pages people see, served from clients/web/ (no build step).

Each page is a static HTML file with one JSON "boot" block filled in here: the site's public
configuration (names, languages, services, counters, time zone), the server's clock (so a
screen can tell an expired announcement even when its own clock is off) and, when the link's
token does not open the page, the error to show instead. The scripts read ids and the token
from the URL and speak the websocket protocol through clients/web/js/client.js.

Routes: ``/`` (the demo's pages with ready tokens when the server runs with ``--demo``),
``/board/{site}``, ``/ticket/{id}``, ``/counter/{site}/{counter}``, ``/kiosk/{site}``,
``/qr.svg?data=…`` (a ticket's QR code), ``/ticket-sw.js`` (the tracker's service worker,
for notifications) and ``/static/…`` (CSS, JS, images).
"""

from __future__ import annotations

import io
import time
from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import msgspec
import segno
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from queueing.demo import DEMO_SITE
from queueing.errors import BadRequest, SwitchboardError, UnknownCounter
from queueing.keys import site_of_ticket
from queueing.model import SiteConfig
from realtime.auth import Principal, make_token, verify
from realtime.context import bearer, ctx

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
                               "base-uri 'none'; form-action 'self'",
}

Check = Callable[[Principal, dict[str, str]], None]


def _template(name: str) -> str:
    return (WEB / f"{name}.html").read_text(encoding="utf-8")


def render(name: str, boot: dict[str, Any], status: int = 200) -> HTMLResponse:
    """The page ``name`` with ``boot`` in its JSON block (``<`` escaped: no ``</script>``)."""
    blob = msgspec.json.encode(boot).decode().replace("<", "\\u003c")
    return HTMLResponse(_template(name).replace(BOOT_MARK, blob, 1), status, headers=HEADERS)


def public_site(site: str, cfg: SiteConfig) -> dict[str, Any]:
    """What any screen of the site may know: names, languages, services, counters."""
    return {
        "id": site, "name": cfg.name, "languages": cfg.languages, "timezone": cfg.timezone,
        "announce_ttl_s": cfg.policy.announce_ttl_s,
        "services": [{"id": s.id, "name": s.name, "prefix": s.prefix} for s in cfg.services],
        "counters": [{"id": c.id, "name": c.name, "services": c.services}
                     for c in cfg.counters],
    }


def page(name: str, site_of: Callable[[dict[str, str]], str], check: Check
         ) -> Callable[[Request], Awaitable[Response]]:
    """A page route: verify the link's token for this page, then render it with its site."""

    async def endpoint(request: Request) -> Response:
        params = dict(request.path_params)
        boot: dict[str, Any] = {"page": name, "params": params,
                                "server_ms": int(time.time() * 1000)}
        try:
            site = site_of(params)
            check(verify(ctx(request).secret, bearer(request)), params)
            cfg = await ctx(request).engine.config(site)
            if "counter" in params and cfg.counter(params["counter"]) is None:
                raise UnknownCounter(f"unknown counter {params['counter']}")
            boot["site"] = public_site(site, cfg)
        except SwitchboardError as exc:
            boot["error"] = {"code": exc.code, "message": exc.message}
            return render(name, boot, exc.status)
        return render(name, boot)

    return endpoint


def _ticket_site(params: dict[str, str]) -> str:
    site = site_of_ticket(params["ticket"])
    if not site:
        raise BadRequest("ticket ids are SITE.ID", field="ticket")
    return site


def _ticket_check(p: Principal, params: dict[str, str]) -> None:
    if p.role == "ticket":
        if p.ticket != params["ticket"]:
            from queueing.errors import Forbidden
            raise Forbidden("this link is for another ticket")
        return
    p.require("agent", site=_ticket_site(params))


async def home(request: Request) -> Response:
    """The front page; with ``--demo``, links to every demo page with a fresh token."""
    c = ctx(request)
    boot: dict[str, Any] = {"page": "home", "demo": c.settings.demo, "links": []}
    if c.settings.demo:
        try:
            boot["site"] = public_site(DEMO_SITE, await c.engine.config(DEMO_SITE))
        except SwitchboardError:
            return render("index", boot)
        boot["links"] = demo_links(c.secret, boot["site"], c.settings.token_ttl_s)
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
    for c in site["counters"]:
        agent = make_token(secret, "agent", site=s, counter=c["id"], ttl_s=ttl_s,
                           subject=f"demo:agent:{c['id']}")
        links.append({"kind": "counter", "counter": c["id"], "name": c["name"],
                      "path": f"/counter/{s}/{c['id']}?token={agent}"})
    return links


async def ticket_worker(request: Request) -> Response:
    """The tracker's service worker (notifications on phones), allowed the /ticket/ scope."""
    return Response((WEB / "ticket-sw.js").read_bytes(), media_type="text/javascript",
                    headers={"Service-Worker-Allowed": "/ticket/", "Cache-Control": "no-cache"})


async def qr_svg(request: Request) -> Response:
    """A QR code as SVG (the kiosk prints the tracker link with it); no script, no network."""
    data = request.query_params.get("data", "")
    if not data or len(data) > QR_MAX_CHARS:
        raise BadRequest(f"data must be 1 to {QR_MAX_CHARS} characters", field="data")
    out = io.BytesIO()
    segno.make(data, error="m", micro=False).save(out, kind="svg", border=2, omitsize=True,
                                                   xmldecl=False, dark="#000", light="#fff")
    return Response(out.getvalue(), media_type="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=86400",
                             "X-Content-Type-Options": "nosniff"})


ROUTES: list[BaseRoute] = [
    Route("/", home, methods=["GET"]),
    Route("/board/{site}", page("board", lambda p: p["site"], lambda pr, p: pr.require(
        "display", "agent", "kiosk", site=p["site"])), methods=["GET"]),
    Route("/ticket/{ticket}", page("ticket", _ticket_site, _ticket_check), methods=["GET"]),
    Route("/counter/{site}/{counter}", page("counter", lambda p: p["site"], lambda pr, p:
                                            pr.require_counter(p["site"], p["counter"])),
          methods=["GET"]),
    Route("/kiosk/{site}", page("kiosk", lambda p: p["site"], lambda pr, p: pr.require(
        "kiosk", "agent", site=p["site"])), methods=["GET"]),
    Route("/qr.svg", qr_svg, methods=["GET"]),
    Route("/ticket-sw.js", ticket_worker, methods=["GET"]),
    Mount("/static", app=StaticFiles(directory=WEB, check_dir=False), name="static"),
]
