"""``GET /v1/sites/{site}/audit``: the audit trail of one local day (docs/audit.md).

Supervisors of the site and admins only: the trail names the staff token that did each step,
which is for the person answering a complaint, not for colleagues at the counters. Records
come oldest first (a ticket's history reads as it happened), a page at a time: ``cursor`` is
where the last page stopped, ``SCORE.SEEN`` — the last record's score and how many records
of that score were passed (records of one score, past 1,000 steps of one millisecond, are
not split or skipped). Records are filed by stream offset but recorded in the order the
stats consumers record them: a record recorded late (an entry claimed from a process that
died) may land behind a cursor already handed out (docs/audit.md). Filters scan the day; a
day of a large site is some tens of thousands of records, read in chunks.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from queueing import keys, typed
from queueing.audit import EVENTS, Filter, public
from queueing.errors import BadRequest
from queueing.numbering import local_day
from queueing.tickets import number_key
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
    if name == "number" and value:
        # As staff type it: "Ａ００１" (a Chinese input method's full-width forms), "A 001".
        # Nothing left (only spaces) is no number, not "every ticket".
        value = typed.compact(value) or " "
    if value and (len(value) > _LIMITS[name] or not _TEXT.fullmatch(value)):
        raise BadRequest(f"'{name}' is 1 to {_LIMITS[name]} printable characters, no spaces",
                         field=name)
    if name == "number" and value and number_key(value) is None:
        # "hello", a phone number: no ticket has it; an empty 200 read as "nothing happened".
        raise BadRequest("'number' is a ticket number: 1 to 3 letters and digits, e.g. A023",
                         field=name, reason="not_a_ticket_number")
    return value


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT):
        raise BadRequest(f"'limit' is a whole number from 1 to {MAX_LIMIT}", field="limit")
    return int(raw)


_CURSOR = re.compile(r"([0-9]{1,19})(?:\.([0-9]{1,9}))?")


def _cursor(raw: str | None) -> tuple[int, int | None] | None:
    """(score, records of that score passed); a bare score (as answered before) is after
    every record of that score."""
    if raw is None or raw == "":
        return None
    m = _CURSOR.fullmatch(raw) if raw.isascii() else None
    if m is None:
        raise BadRequest("'cursor' is the cursor a previous page answered", field="cursor")
    return int(m[1]), None if m[2] is None else int(m[2])


async def read_page(redis: Any, key: str, want: Filter, limit: int,
                    after: tuple[int, int | None] | None
                    ) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` records ``want`` keeps, after the cursor ``after``; and the cursor of
    the next page (None: the day has no more). Read from (score, rows of it to pass): rows
    of one score are in a fixed order (by member), so passing a count resumes between them."""
    out: list[dict[str, Any]] = []
    if after is None:
        low, at, seen = "-inf", -1, 0
    elif after[1] is None:
        low, at, seen = f"({after[0]}", -1, 0
    else:
        at, seen = after[0], after[1]
        low = str(at)
    while True:
        rows = await redis.zrangebyscore(key, low, "+inf", start=seen if at >= 0 else 0,
                                         num=CHUNK, withscores=True)
        for raw, sc in rows:
            at, seen = (at, seen + 1) if int(sc) == at else (int(sc), 1)
            rec = _dec.decode(raw)
            if want(rec):
                out.append(rec)
                if len(out) == limit:
                    return out, f"{at}.{seen}"
        if len(rows) < CHUNK:
            return out, None
        low = str(at)


async def audit_endpoint(request: Request) -> Response:
    site = request.path_params["site"]
    principal(request).require("supervisor", site=site)
    c = ctx(request)
    cfg = await c.engine.config(site)  # unknown_site
    q = request.query_params
    unknown = sorted(set(q) - QUERY)
    if unknown:  # a typo (?conter=) would otherwise answer every record, unfiltered
        raise BadRequest(f"unknown filter {unknown[0]!r}; the trail filters by "
                         f"{', '.join(sorted(QUERY - {'token'}))}", field=unknown[0])
    day = parse_day(q.get("date") or local_day(c.engine.clock(), cfg.timezone))
    event = q.get("event") or ""
    if event and event not in EVENTS:
        raise BadRequest(f"unknown event {event[:40]!r}; events: {', '.join(sorted(EVENTS))}",
                         field="event")
    want = Filter(ticket=_text(q, "ticket"), number=_text(q, "number"),
                  actor=_text(q, "actor"), counter=_text(q, "counter"), event=event)
    limit, after = _limit(q.get("limit")), _cursor(q.get("cursor"))
    recs, nxt = await read_page(c.redis, keys.prefix(site) + "audit:" + day, want, limit, after)
    body = {"site": site, "date": day, "records": [public(r) for r in recs],
            "cursor": nxt}
    return Response(msgspec.json.encode(body), media_type="application/json",
                    headers={"Cache-Control": "no-store"})


# What the trail reads from the query (``token``: a browser page's, as on every page).
QUERY = frozenset({"date", "ticket", "number", "actor", "counter", "event", "limit", "cursor",
                   "token"})
ROUTES = [Route("/v1/sites/{site}/audit", audit_endpoint, methods=["GET"])]

register(Operation(
    "get", "/v1/sites/{site}/audit",
    "The audit trail of a local day, oldest first: each step of each ticket (issued, called, "
    "recalled, started, completed, no-show, transferred, parked, cancelled with its reason), "
    "booking and counter, with its time, counter, the staff token's subject and the channel; "
    "filtered by `ticket`, `number`, `actor`, `counter`, `event` (its kind, e.g. `no_show`); "
    "an unknown parameter, or a `number` that is no ticket number (`details.reason` "
    "`not_a_ticket_number`), is `bad_request`; `limit` (1-1000, default 100) a page, "
    "`cursor` the next (docs/audit.md)", "supervisor of the site",
    errors=("bad_request", "unknown_site"),
    query=("date", "ticket", "number", "actor", "counter", "event", "limit", "cursor")))
