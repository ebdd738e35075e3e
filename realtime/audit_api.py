"""``GET /v1/sites/{site}/audit``: the audit trail of one local day (docs/audit.md).

Supervisors of the site and admins only: the trail names the staff token that did each step,
which is for the person answering a complaint, not for colleagues at the counters. Records
come oldest first (a ticket's history reads as it happened), a page at a time: ``cursor`` is
where the last page stopped, and stays valid while the day's trail grows (records are filed
by stream offset). Filters scan the day; a day of a large site is some tens of thousands of
records, read in chunks.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from queueing import keys
from queueing.audit import Filter, public
from queueing.errors import BadRequest
from queueing.numbering import local_day
from realtime.context import ctx, principal
from realtime.docs import Operation, register
from realtime.stats import parse_day

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
CHUNK = 500
_dec = msgspec.json.Decoder()
# Query values: bounded, printable, no spaces (a subject may hold ':', '.', '@').
_LIMITS = {"ticket": 128, "number": 40, "actor": 200, "counter": 64}
_TEXT = re.compile(r"[!-~]+")


def _text(q: Any, name: str) -> str:
    value = str(q.get(name) or "")
    if value and (len(value) > _LIMITS[name] or not _TEXT.fullmatch(value)):
        raise BadRequest(f"'{name}' is 1 to {_LIMITS[name]} printable characters, no spaces",
                         field=name)
    return value


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT):
        raise BadRequest(f"'limit' is a whole number from 1 to {MAX_LIMIT}", field="limit")
    return int(raw)


def _cursor(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19):
        raise BadRequest("'cursor' is the cursor a previous page answered", field="cursor")
    return int(raw)


async def read_page(redis: Any, key: str, want: Filter, limit: int, after: int | None
                    ) -> tuple[list[dict[str, Any]], int | None]:
    """Up to ``limit`` records ``want`` keeps, after score ``after``; and the cursor of the
    next page (None: the day has no more)."""
    out: list[dict[str, Any]] = []
    low = "-inf" if after is None else f"({after}"
    while True:
        rows = await redis.zrangebyscore(key, low, "+inf", start=0, num=CHUNK,
                                         withscores=True)
        for raw, sc in rows:
            rec = _dec.decode(raw)
            if want(rec):
                out.append(rec)
                if len(out) == limit:
                    return out, int(sc)
        if len(rows) < CHUNK:
            return out, None
        low = f"({int(rows[-1][1])}"


async def audit_endpoint(request: Request) -> Response:
    site = request.path_params["site"]
    principal(request).require("supervisor", site=site)
    c = ctx(request)
    cfg = await c.engine.config(site)  # unknown_site
    q = request.query_params
    day = parse_day(q.get("date") or local_day(c.engine.clock(), cfg.timezone))
    want = Filter(ticket=_text(q, "ticket"), number=_text(q, "number"),
                  actor=_text(q, "actor"), counter=_text(q, "counter"))
    limit, after = _limit(q.get("limit")), _cursor(q.get("cursor"))
    recs, nxt = await read_page(c.redis, keys.prefix(site) + "audit:" + day, want, limit, after)
    body = {"site": site, "date": day, "records": [public(r) for r in recs],
            "cursor": None if nxt is None else str(nxt)}
    return Response(msgspec.json.encode(body), media_type="application/json",
                    headers={"Cache-Control": "no-store"})


ROUTES = [Route("/v1/sites/{site}/audit", audit_endpoint, methods=["GET"])]

register(Operation(
    "get", "/v1/sites/{site}/audit",
    "The audit trail of a local day, oldest first: each step of each ticket (issued, called, "
    "recalled, started, completed, no-show, transferred, parked, cancelled with its reason), "
    "booking and counter, with its time, counter, the staff token's subject and the channel; "
    "filtered by `ticket`, `number`, `actor`, `counter`; `limit` (1-1000, default 100) a page, "
    "`cursor` the next (docs/audit.md)", "supervisor of the site",
    errors=("bad_request", "unknown_site"),
    query=("date", "ticket", "number", "actor", "counter", "limit", "cursor")))
