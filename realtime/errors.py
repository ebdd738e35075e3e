"""Errors as data on the wire: ``{"code", "message", "temporary"?}`` with a stable code.

Domain packages raise their named errors; this module turns any of them (and Starlette's
own HTTP errors) into JSON responses. Every code is listed in docs/protocol.md.
"""

from __future__ import annotations

import logging
import re
import time

from redis.exceptions import (
    BusyLoadingError,
    MasterDownError,
    ReadOnlyError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route

from dispatch.errors import DispatchFailure
from queueing.errors import SwitchboardError

log = logging.getLogger("switchboard.http")

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 408: "request_timeout", 413: "payload_too_large",
              429: "rate_limited"}


async def domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SwitchboardError)  # registered for SwitchboardError only
    # A temporary error that knows when to try again (429, 503, a 409 "still in progress")
    # says so in the header too.
    retry = exc.details.get("retry_after_s") if exc.temporary else None
    return JSONResponse(exc.to_dict(), status_code=exc.status,
                        headers={"Retry-After": str(retry)} if retry else None)


async def dispatch_error(request: Request, exc: Exception) -> Response:
    # dispatch may not import queueing, so its errors have their own root with the same
    # fields (code, status, temporary, message, details): mapped the same way.
    assert isinstance(exc, DispatchFailure)  # registered for DispatchFailure only
    return JSONResponse(exc.to_dict(), status_code=exc.status)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    headers = exc.headers
    allowed = allowed_methods(request) if exc.status_code == 405 else []
    if allowed:  # (a mount, /static, keeps its own)
        headers = {**(headers or {}), "Allow": ", ".join(allowed)}
    return JSONResponse({"code": code, "message": str(exc.detail)}, status_code=exc.status_code,
                        headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path: Starlette's 405 names only the first
    route's (``DELETE /v1/sites/demo`` said ``Allow: PUT``, though GET works too)."""
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches({**request.scope, "method": "GET"})
            if match is not Match.NONE:
                methods |= route.methods
    return sorted(methods)


async def internal_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"code": "internal", "message": "internal error; it has been logged",
                         "temporary": True}, status_code=500)


_last_store_warning = [0.0]


async def store_unavailable(request: Request, exc: Exception) -> Response:
    """Redis is down or restarting: a temporary 503, not a 500 with a traceback per
    request. Logged once every 10 s, not once per request. (Its AOF loading, LOADING, is a
    ConnectionError to redis-py: ``store_busy`` names it.)"""
    reason = busy_reason(exc)
    if reason is not None:
        return store_busy(request, exc, reason)
    note_unreachable(exc, f"on {request.method} {request.url.path}")
    return JSONResponse(UNREACHABLE, status_code=503, headers={"Retry-After": "1"})


UNREACHABLE: dict[str, object] = {"code": "unavailable",
                                  "message": "the store is unreachable; retry", "temporary": True}


def note_unreachable(exc: BaseException, where: str) -> None:
    """One WARNING every 10 s at most."""
    now = time.monotonic()
    if now - _last_store_warning[0] > 10:
        _last_store_warning[0] = now
        log.warning("store unreachable %s: %s", where, exc)


# Redis answers but refuses writes: why (a stable ``details.reason``) and what to do.
REFUSALS = {
    "disk_full": "the store cannot write: its disk is full (free space in the data folder's "
                 "file system)",
    "disk_error": "the store cannot write to its disk (see redis.log in the data folder)",
    "out_of_memory": "the store cannot write: it is out of memory (maxmemory)",
    "read_only": "the store cannot write: it is a read-only replica (point "
                 "SWITCHBOARD_REDIS_URL at the primary)",
}


def write_refusal(exc: BaseException) -> str | None:
    """The ``REFUSALS`` reason of a Redis error that refuses writes (MISCONF: a failed
    snapshot or AOF write with stop-writes-on-bgsave-error; OOM; READONLY), else None. A
    script's write refused inside it carries the same words."""
    if not isinstance(exc, ResponseError):
        return None
    text = str(exc)
    if "MISCONF" in text or "Errors writing to the AOF" in text:
        return "disk_full" if "No space left" in text else "disk_error"
    if "OOM command not allowed" in text or type(exc).__name__ == "OutOfMemoryError":
        return "out_of_memory"
    if isinstance(exc, ReadOnlyError) or "READONLY" in text:
        return "read_only"
    return None


_last_refusal_log = [0.0]


def refusal_body(reason: str) -> dict[str, object]:
    return {"code": "unavailable", "message": REFUSALS[reason] + "; retry",
            "temporary": True, "details": {"reason": reason}}


async def store_refused(request: Request, exc: Exception) -> Response:
    """Redis refuses writes: a temporary 503 naming the cause, logged at ERROR once every
    10 s (a full disk gave two tracebacks per request). Any other error reply is a bug:
    500 ``internal``, one traceback."""
    reason = write_refusal(exc)
    if reason is None:
        busy = busy_reason(exc)
        if busy is not None:
            return store_busy(request, exc, busy)
        return await internal_error(request, exc)
    note_refusal(reason, exc, f"on {request.method} {request.url.path}")
    return JSONResponse(refusal_body(reason), status_code=503, headers={"Retry-After": "5"})


def note_refusal(reason: str, exc: BaseException, where: str) -> None:
    """One ERROR every 10 s at most."""
    now = time.monotonic()
    if now - _last_refusal_log[0] > 10:
        _last_refusal_log[0] = now
        log.error("store refuses writes (%s) %s: %s", reason, where, exc)


# Redis answers but cannot serve this now: why (a stable ``details.reason``). Each lasts
# seconds, not until someone acts: a script or module command over busy-reply-threshold
# (BUSY: every other client is refused until it ends, 5 s by default), the data loading
# after a restart (LOADING), a replica cut off from its primary (MASTERDOWN), too few
# replicas in reach for min-replicas-to-write (NOREPLICAS), a cluster moving slots
# (TRYAGAIN). redis-py names LOADING (BusyLoadingError, a ConnectionError), TRYAGAIN and
# MASTERDOWN (only in cluster mode); BUSY and NOREPLICAS are plain ResponseErrors.
BUSY = {
    "busy": "the store is busy running a long script or command",
    "loading": "the store is loading its data (it is starting)",
    "primary_down": "the store is a replica that lost its primary",
    "no_replicas": "the store cannot write: too few replicas are in reach",
    "try_again": "the store is moving the keys asked for",
}
_BUSY_WORDS = {"BUSY": "busy", "LOADING": "loading", "MASTERDOWN": "primary_down",
               "NOREPLICAS": "no_replicas", "TRYAGAIN": "try_again"}
# The reply's first word; a script's write refused inside it carries the same words after
# the script's name. Not BUSYKEY nor BUSYGROUP: those are answers about a key.
_BUSY_RE = re.compile(r"(?:^|[\s:-])(BUSY|LOADING|MASTERDOWN|NOREPLICAS|TRYAGAIN) ")
_BUSY_CLASSES = ((MasterDownError, "primary_down"), (TryAgainError, "try_again"))


def busy_reason(exc: BaseException) -> str | None:
    """The ``BUSY`` reason of a Redis error that says "not now, soon", else None."""
    if isinstance(exc, BusyLoadingError):  # its text has lost the LOADING word
        return "loading"
    if not isinstance(exc, ResponseError):
        return None
    m = _BUSY_RE.search(str(exc))
    if m is not None:
        return _BUSY_WORDS[m.group(1)]
    for cls, reason in _BUSY_CLASSES:  # cluster replies, their word taken off as LOADING's
        if isinstance(exc, cls):
            return reason
    return None


_last_busy_log = [0.0]


def busy_body(reason: str) -> dict[str, object]:
    return {"code": "unavailable", "message": BUSY[reason] + "; retry",
            "temporary": True, "details": {"reason": reason}}


def store_busy(request: Request, exc: BaseException, reason: str) -> Response:
    """Redis says "not now" (``BUSY``): a temporary 503 with ``Retry-After: 1``, logged
    at WARNING once every 10 s. A 7-second script answered every request 500 ``internal``
    with a traceback each."""
    note_busy(reason, exc, f"on {request.method} {request.url.path}")
    return JSONResponse(busy_body(reason), status_code=503, headers={"Retry-After": "1"})


def note_busy(reason: str, exc: BaseException, where: str) -> None:
    """One WARNING every 10 s at most, for requests and /readyz alike."""
    now = time.monotonic()
    if now - _last_busy_log[0] > 10:
        _last_busy_log[0] = now
        log.warning("store busy (%s) %s: %s", reason, where, exc)


def store_trouble(exc: BaseException, where: str) -> dict[str, object] | None:
    """The ``unavailable`` body for a store that is down, busy or refusing writes, logged
    as the HTTP handlers log each (once every 10 s); None for anything else (a bug). For
    callers outside a request: a websocket frame answered ``internal`` with a traceback
    while Redis was busy."""
    busy = busy_reason(exc)
    if busy is not None:
        note_busy(busy, exc, where)
        return busy_body(busy)
    refused = write_refusal(exc)
    if refused is not None:
        note_refusal(refused, exc, where)
        return refusal_body(refused)
    if isinstance(exc, (RedisConnectionError, RedisTimeoutError, ConnectionError)):
        note_unreachable(exc, where)
        return dict(UNREACHABLE)
    return None


HANDLERS = {SwitchboardError: domain_error, ResponseError: store_refused,
            DispatchFailure: dispatch_error,
            HTTPException: http_error, RedisConnectionError: store_unavailable,
            RedisTimeoutError: store_unavailable, ConnectionError: store_unavailable,
            FileNotFoundError: store_unavailable, Exception: internal_error}
