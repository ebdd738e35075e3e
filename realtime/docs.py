"""The OpenAPI document (built from the same msgspec types that validate requests) and a
small offline docs page that renders it."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from queueing.model import (
    CloseDayRequest,
    NotifyRequest,
    SiteConfig,
    TransferRequest,
)


@dataclass(frozen=True)
class Operation:
    """One HTTP route as /openapi.json shows it. ``errors``: the codes particular to the
    route; those every route of its kind can answer (a token refused or out of scope, a
    body too large or malformed, a public token's rate limit) are added by ``error_codes``.
    ``response``: the type (a msgspec Struct or a dataclass) of the success answer, when
    the route encodes one; its schema is generated with the bodies' (none is hand-written)."""

    method: str
    path: str
    summary: str
    roles: str
    body: type | None = None
    status: int = 200
    errors: tuple[str, ...] = ()
    query: tuple[str, ...] = ()
    headers: tuple[str, ...] = field(default=())
    response: type | None = None


OPERATIONS: list[Operation] = []


def register(*ops: Operation) -> None:
    OPERATIONS.extend(ops)


def _counter_body() -> type:
    from realtime.api import CounterOpBody
    return CounterOpBody


def _ticket_body() -> type:
    from realtime.api import TicketBody  # a TicketRequest and ``lang``
    return TicketBody


# Bodies defined in modules that import this one: looked up when the document is built.
_LATE_BODIES = {("post", "/v1/sites/{site}/tickets"): _ticket_body}


def _body(op: Operation) -> type | None:
    late = _LATE_BODIES.get((op.method, op.path))
    if late is not None:
        return late()
    return op.body or (_counter_body() if op.path.endswith("{op}") else None)


register(
    Operation("get", "/healthz", "Liveness", "none"),
    Operation("get", "/readyz", "Readiness: Redis reachable and taking writes, this host's "
              "clock within a minute of Redis's (?worker=1: and a worker seen within 90 s)",
              "none", errors=("unavailable", "clock_skew", "worker_down")),
    Operation("get", "/v1/sites", "List sites", "admin"),
    Operation("put", "/v1/sites/{site}", "Create or replace a site (idempotent). What GET "
              "answers may be put back as it is: `version` makes the PUT fail if another "
              "admin saved since (409 site_changed; 404 unknown_site: no such site), an `id` "
              "naming another site makes it a copy, taken only as a new site (else 400, "
              "details.field `id`); `languages` starts with zh or en (400, details.field "
              "`languages`, details.allowed)", "admin",
              SiteConfig, errors=("bad_request", "unknown_field", "service_in_use",
                                  "counter_busy", "payload_too_large", "site_changed",
                                  "unknown_site")),
    Operation("get", "/v1/sites/{site}", "A site with its counters' current state (and "
              "`unserved`: waiting tickets per service no counter lists, when any)",
              "admin, or agent/kiosk/display/supervisor of the site", errors=("unknown_site",)),
    Operation("post", "/v1/sites/{site}/tickets", "Take a ticket. Outside the site's issuing "
              "hours (policy.hours) a self-service channel's is refused: 409 site_closed, or "
              "service_closed (the service's own hours), details.next_open (ISO 8601 with "
              "the site's offset; null: none within a year) and next_open_local; nothing "
              "changes. Channel window (staff) issues at any time",
              "kiosk or agent of the site",
              None, 201, ("unknown_site", "unknown_service", "unknown_priority",
                          "service_not_served", "idempotency_mismatch", "bad_request",
                          "unknown_field", "site_closed", "service_closed"),
              headers=("Idempotency-Key",)),
    Operation("get", "/v1/sites/{site}/tickets",
              "Find the open ticket with a number (`number`=A023): `{tickets: [ticket]}`, "
              "empty when none is open (no two open tickets share a number)",
              "agent or supervisor of the site", errors=("unknown_site", "bad_request"),
              query=("number",)),
    Operation("get", "/v1/tickets/{ticket}", "A ticket with its position",
              "the ticket's own token, or agent of its site", errors=("unknown_ticket",)),
    Operation("post", "/v1/tickets/{ticket}/cancel",
              "Cancel a ticket not being served (its `cancel_reason` says by whom)",
              "the ticket's own token, or agent", errors=("unknown_ticket",
                                                          "invalid_transition")),
    Operation("post", "/v1/tickets/{ticket}/notify",
              "Where an open ticket's alerts go (`to`: an SMS number or push endpoint; null "
              "stops them); 'almost your turn' is armed as for a ticket issued with `notify`",
              "the ticket's own token (a mobile number only; 5 changes, then 2 a minute), "
              "or agent of its site", NotifyRequest,
              errors=("unknown_ticket", "invalid_transition", "bad_request", "unknown_field",
                      "rate_limited")),
    Operation("post", "/v1/tickets/{ticket}/transfer",
              "Send a waiting or parked ticket to another service; it keeps its class and "
              "arrival there and becomes `transferred`. With an Idempotency-Key a retry is "
              "answered as the first time (Idempotent-Replayed: true), not done again",
              "agent of the ticket's site",
              TransferRequest, errors=("unknown_ticket", "unknown_service",
                                       "service_not_served", "invalid_transition",
                                       "bad_request", "unknown_field", "forbidden",
                                       "idempotency_mismatch", "conflict"),
              headers=("Idempotency-Key",)),
    Operation("post", "/v1/sites/{site}/close-day",
              "End the day: cancel (reason day_closed) every ticket still open issued before "
              "`before` (default now); tickets being served are listed in `kept`; then close "
              "the counters open or paused since before it that serve nobody "
              "(`counters_closed`)", "admin",
              CloseDayRequest, errors=("unknown_site", "bad_request", "unknown_field")),
    Operation("post", "/v1/sites/{site}/counters/{counter}/{op}",
              "Counter operation: open, pause, close, call-next, call {ticket, service?} "
              "(service: where the caller saw it; refused if moved since), recall, start, "
              "complete {outcome?}, no-show, park, unpark {ticket}, transfer {service}, undo "
              "(takes back the counter's last complete or no-show, within "
              "policy.undo_window_s: docs/protocol.md). open/pause/close answer {counter, "
              "state, ticket, offset?}: offset is the stream id of the event the change made, "
              "absent when the counter was already in that state; the others the ticket view. "
              "With an Idempotency-Key a retry is answered as the first time "
              "(Idempotent-Replayed: true), not done again",
              "agent of that counter", None, 200,
              ("queue_empty", "counter_not_open", "counter_busy", "counter_idle",
               "recall_limit", "invalid_transition", "unknown_counter", "unknown_ticket",
               "unknown_service", "service_not_served", "nothing_to_undo", "undo_expired",
               "ticket_changed", "idempotency_mismatch", "conflict"),
              headers=("Idempotency-Key",)),
    Operation("get", "/v1/sites/{site}/services/{service}/queue",
              "A service's waiting tickets in call order (`limit`: 0 = all, at most "
              "100000)", "agent or supervisor of the site",
              errors=("unknown_service", "bad_request"), query=("limit",)),
)


# Roles whose tokens are public (a kiosk's page URL, a site's booking page, an SMS
# gateway): what they create is rate-limited (realtime.api.kiosk_budget, the SMS and
# verification budgets), so a route that lets them create answers 429 too.
_LIMITED_ROLES = ("kiosk", "partner")


def error_codes(op: Operation, has_body: bool) -> tuple[str, ...]:
    """``op.errors`` with the codes its kind of route answers whatever it does: 401 and
    403 with a token, 400 and 413 with a body, 429 for public tokens' writes."""
    shared: list[str] = []
    if has_body:
        shared += ["bad_request", "payload_too_large"]
    if op.roles != "none":
        shared += ["unauthorized", "forbidden"]
        if op.method != "get" and any(r in op.roles for r in _LIMITED_ROLES):
            shared.append("rate_limited")
    return tuple(dict.fromkeys([*op.errors, *shared]))


@functools.cache
def _statuses() -> dict[str, int]:
    """Each error code's HTTP status, from the error classes themselves."""
    from dispatch.errors import all_error_classes as dispatch_errors
    from queueing.errors import all_error_classes
    from realtime.errors import HTTP_CODES
    # /readyz's own answers (realtime.readiness, realtime.api), not error classes.
    out = {code: status for status, code in HTTP_CODES.items()} | {
        "clock_skew": 503, "worker_down": 503}
    for cls in dispatch_errors():
        out.setdefault(cls.code, cls.status)
    for qcls in all_error_classes():
        out.setdefault(qcls.code, qcls.status)
    return out


def _error_responses(codes: tuple[str, ...]) -> dict[str, Any]:
    """One response per status (its codes in the description), and ``4XX`` with every
    client error's code (a code of no known status counts as one)."""
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    by_status: dict[str, list[str]] = {}
    statuses = _statuses()
    for code in codes:
        if code in statuses:
            by_status.setdefault(str(statuses[code]), []).append(code)
    out: dict[str, Any] = {}
    for status, named in sorted(by_status.items()):
        out[status] = {"description": "Error: " + ", ".join(named), "content": content}
        if status in ("429", "503"):
            out[status]["headers"] = {"Retry-After": {
                "description": "whole seconds (also details.retry_after_s)",
                "schema": {"type": "integer"}}}
    client = [c for c in codes if statuses.get(c, 400) < 500]
    if client:
        out["4XX"] = {"description": "Error: " + ", ".join(client), "content": content}
    return out


def _success(op: Operation) -> dict[str, Any]:
    if op.response is None:
        return {"description": "OK"}
    return {"description": "OK", "content": {"application/json": {"schema": {
        "$ref": f"#/components/schemas/{op.response.__name__}"}}}}


def openapi() -> dict[str, Any]:
    bodies = [b for b in map(_body, OPERATIONS) if b is not None]
    answers = [op.response for op in OPERATIONS if op.response is not None]
    _, components = msgspec.json.schema_components(
        list(dict.fromkeys([*bodies, *answers])), ref_template="#/components/schemas/{name}")
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        body = _body(op)
        params = [{"name": n.strip("{}"), "in": "path", "required": True,
                   "schema": {"type": "string"}}
                  for n in op.path.split("/") if n.startswith("{")]
        params += [{"name": q, "in": "query", "schema": {"type": "string"}} for q in op.query]
        params += [{"name": h, "in": "header", "schema": {"type": "string"}}
                   for h in op.headers]
        entry: dict[str, Any] = {
            "summary": op.summary,
            "description": f"Token: {op.roles}.",
            "parameters": params,
            "responses": {str(op.status): _success(op)} | _error_responses(
                error_codes(op, body is not None)),
        }
        if body is not None:
            entry["requestBody"] = {"required": op.method == "put", "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{body.__name__}"}}}}
        if op.roles != "none":
            entry["security"] = [{"bearer": []}]
        paths.setdefault(op.path, {})[op.method] = entry
    components["Error"] = {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "temporary": {"type": "boolean"}, "details": {"type": "object"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Switchboard", "version": "1",
                 "description": "Queues, appointments and dispatch. Errors are "
                                "{code, message, temporary?, details?}; codes in "
                                "docs/protocol.md."},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }


@functools.cache
def _openapi_bytes() -> bytes:
    # Built once (~7 ms of schema generation): every operation registers at import, before
    # the first request.
    return msgspec.json.encode(openapi())


async def openapi_json(request: Request) -> Response:
    return Response(_openapi_bytes(), media_type="application/json",
                    headers={"Cache-Control": "public, max-age=300"})


DOCS_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Switchboard API</title><meta name="viewport" content="width=device-width">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
code{background:#f2f2f2;padding:0 .3em}h2{margin-top:2rem}.m{font-weight:700;
text-transform:uppercase;display:inline-block;width:4.5em}</style></head><body>
<h1>Switchboard API / 接口文档</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a>.
Websocket protocol: docs/protocol.md.</p><div id="ops">Loading…</div>
<script type="module">
const spec = await (await fetch('/openapi.json')).json();
const out = [];
for (const [path, ops] of Object.entries(spec.paths)) for (const [m, op] of Object.entries(ops)) {
  out.push(`<h2><span class="m">${m}</span><code>${path}</code></h2><p>${op.summary}. ` +
    `${op.description}</p>` + (op.requestBody ? `<p>Body: <code>${
      op.requestBody.content['application/json'].schema.$ref.split('/').pop()}</code></p>` : '') +
    `<p>Errors: ${Object.entries(op.responses).filter(([s]) => !s.startsWith('2') && s !== '4XX')
      .map(([s, r]) => `${s} ${r.description.replace('Error: ', '')}`).join('; ') || 'none'}</p>`);
}
document.getElementById('ops').innerHTML = out.join('');
</script></body></html>"""


async def docs_page(request: Request) -> Response:
    return HTMLResponse(DOCS_PAGE)


ROUTES = [Route("/openapi.json", openapi_json, methods=["GET"]),
          Route("/docs", docs_page, methods=["GET"])]
