"""``GET /v1/sites/{site}/devices``: a site's screens, kiosks and consoles, and whether each
is connected now (for the hospital IT admin and the floor's supervisor).

A device is an issued link (realtime/token_registry.py) of role display, kiosk or agent for
the site, or a websocket of the site open in this process (any role but a person's own:
ticket, booking, customer). A live socket is matched to its link by the token's id.

"Online": a websocket of the device is open in this server process (the hub knows only its
own sockets: with ``--workers N`` each process has its own ``Hub.live``). With several
processes, a device is also online when its link's ``last_seen`` (written by whichever
process holds its socket, realtime/revocation.py) is within ``ONLINE_WINDOW_S``: a held
socket is marked seen at most once per ``SEEN_EVERY_S`` (5 min) per process, so the window
is that throttle plus the mark's period and the batch write, not 3 minutes (which would
call a board held by another process offline most of the time).
"""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from realtime import clock, token_registry
from realtime.context import ctx, principal
from realtime.docs import Operation, register
from realtime.hub.hub import GONE_AT
from realtime.revocation import SEEN_WRITE_S

DEVICE_ROLES = ("display", "kiosk", "agent")
# A person's own page (a patient's phone) is not a device of the site: never listed.
PERSON_ROLES = frozenset({"ticket", "booking", "customer"})
ONLINE_WINDOW_S = int(token_registry.SEEN_EVERY_S * 1.5 + SEEN_WRITE_S + 30)
_ROLE_ORDER = {r: i for i, r in enumerate(DEVICE_ROLES)}


def _row(rec: dict[str, str] | None, p: Any, now: float, refusal: Any) -> dict[str, Any]:
    if rec is not None:
        exp = float(rec["expires_at"])
        link: dict[str, Any] | None = {
            "jti": rec["jti"], "status": token_registry.status(rec, now, refusal),
            "expires_at": token_registry.iso(exp), "replaced_by": rec.get("replaced_by"),
            "days_left": max(0, int((exp - now) // 86400))}
        role, subject = rec["role"], rec["sub"]
        area, counter = rec.get("area"), rec.get("counter")
        seen = float(rec["last_seen"]) if "last_seen" in rec else None  # at most 5 min old
    else:
        link, role, subject, area, counter, seen = None, p.role, p.subject, p.area, p.counter, None
    return {"subject": subject, "role": role, "area": area, "counter": counter,
            "online": False, "online_via": None, "connections_here": 0,
            "connected_since": None, "last_seen": seen, "link": link}


def _superseded(row: dict[str, Any]) -> bool:
    """A link revoked, or expired and replaced: no longer a device that should be up."""
    link = row["link"]
    return link is not None and (link["status"] == "revoked"
                                 or (link["status"] == "expired" and link["replaced_by"]))


def sort_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """Offline first; of those, what should be up (active or expired links) before
    what was revoked or replaced; then displays, kiosks, consoles, others; by subject."""
    return (row["online"], _superseded(row), _ROLE_ORDER.get(row["role"], 9), row["subject"])


async def site_devices(request: Request) -> Response:
    site = request.path_params["site"]
    principal(request).require("supervisor", site=site)
    c = ctx(request)
    await c.engine.config(site)  # unknown_site (404)
    now = clock.now_s()
    refusal = c.revocations.refusal
    rows: dict[str, dict[str, Any]] = {}
    for rec in await token_registry.records(c.redis, now):
        if rec.get("site") == site and rec["role"] in DEVICE_ROLES:
            rows[rec["jti"]] = _row(rec, None, now, refusal)
    for conn in list(c.hub.live):
        p = conn.principal
        if p is None or conn.closed or p.site != site or p.role in PERSON_ROLES:
            continue
        key = p.token_id or f"unlisted:{p.role}:{p.subject}"
        row = rows.get(key)
        if row is None:  # a token not in the registry (minted offline): listed as seen here
            row = rows[key] = _row(None, p, now, refusal)
        row["online"], row["online_via"] = True, "here"
        row["connections_here"] += 1
        since = row["connected_since"]
        row["connected_since"] = conn.since if since is None else min(since, conn.since)
    several = c.settings.workers > 1
    for key, row in rows.items():
        if row["online"]:
            row["last_seen"] = now
        elif key in GONE_AT:  # its page closed here since the registry last noted it
            row["last_seen"] = max(row["last_seen"] or 0.0, GONE_AT[key])
        elif several and row["last_seen"] is not None \
                and now - row["last_seen"] <= ONLINE_WINDOW_S:
            row["online"], row["online_via"] = True, "last_seen"
        for k in ("connected_since", "last_seen"):
            if row[k] is not None:
                row[k] = token_registry.iso(row[k])
    devices = sorted(rows.values(), key=sort_key)
    return Response(msgspec.json.encode({
        "site": site, "devices": devices, "offline": sum(not d["online"] for d in devices),
        "processes": c.settings.workers,
        "online_window_s": ONLINE_WINDOW_S if several else None}),
        media_type="application/json", headers={"Cache-Control": "no-store"})


ROUTES = [Route("/v1/sites/{site}/devices", site_devices, methods=["GET"])]

register(
    Operation("get", "/v1/sites/{site}/devices",
              "The site's devices: every issued link of role display, kiosk or agent for the "
              "site (GET /v1/tokens) and every websocket of the site open now (any role but "
              "ticket, booking, customer): `{site, devices: [{subject, role, area, counter, "
              "online, online_via, connections_here, connected_since, last_seen, link: {jti, "
              "status, expires_at, days_left, replaced_by} | null}], offline, processes, "
              "online_window_s}`, offline first. `online`: a websocket open in the process "
              "answering (`online_via: here`); with several server processes also a link "
              "seen within `online_window_s` (`online_via: last_seen`)",
              "admin, or supervisor of the site", errors=("unauthorized", "unknown_site")),
)
