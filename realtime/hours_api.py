"""``GET /v1/sites/{site}/hours``: whether the site issues tickets now, for the pages.

A kiosk, a board, a set-up page or a booking page reads when the site's self-service
channels take tickets (``policy.hours``, queueing/hours.py): ``open_now``, ``closes_at``,
``next_open`` (ISO 8601 with the site's offset) and ``next_open_local``, today's intervals
(``today``, site-local), ``closed_note`` on a closed date with a name, and the same for each
service with hours of its own (``services``). A site without hours: ``configured`` false,
``open_now`` true.
"""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from queueing import hours
from realtime.context import ctx, principal
from realtime.docs import Operation, register


async def site_hours(request: Request) -> Response:
    site = request.path_params["site"]
    principal(request).require("kiosk", "display", "agent", "supervisor", "partner", site=site)
    c = ctx(request)
    cfg = await c.engine.config(site)
    body = {"site": site, **hours.view(cfg, c.engine.clock())}
    return Response(msgspec.json.encode(body), media_type="application/json")


ROUTES = [Route("/v1/sites/{site}/hours", site_hours, methods=["GET"])]

register(
    Operation("get", "/v1/sites/{site}/hours", "Whether the site issues tickets now "
              "(policy.hours): {configured, timezone, date, open_now, closes_at, next_open, "
              "next_open_local, today, closed_note?, services: {id: the same}}",
              "admin, or kiosk/display/agent/supervisor/partner of the site",
              errors=("unknown_site",)),
)
