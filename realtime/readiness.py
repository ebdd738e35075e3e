"""/readyz, before realtime.api's checks (Redis answers, a worker is seen): can the store
write, and does this host's clock agree with Redis's? A full disk left PING answering while
every request failed; a wrong clock ordered new tickets by a wrong time (now this process
goes by Redis's time instead: ready, with a ``clock_skew`` warning). A store that says
"not now" (BUSY, LOADING...) is unready for as long: 503, as every request then is."""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import BusyLoadingError, ResponseError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from realtime import api, clock
from realtime.context import ctx
from realtime.errors import busy_body, busy_reason, note_busy, refusal_body, write_refusal

log = logging.getLogger("switchboard.http")

PROBE_KEY = "sb:readyz:probe"
_last_reason: list[str | None] = [None]


async def readyz(request: Request) -> Response:
    redis = ctx(request).redis
    try:
        # A write: PING answers while Redis refuses writes (MISCONF, OOM, READONLY).
        await redis.set(PROBE_KEY, b"1", px=60_000)
        skew = await watch(request.app).skew(redis)
    except (ResponseError, BusyLoadingError) as exc:
        busy = busy_reason(exc)
        if busy is not None:  # BUSY, LOADING...: it answers again in seconds
            note_busy(busy, exc, "at /readyz (not ready)")
            _last_reason[0] = busy
            return JSONResponse({"status": "unavailable", **busy_body(busy)},
                                status_code=503, headers={"Retry-After": "1"})
        reason = write_refusal(exc)
        if reason is None:
            raise
        if _last_reason[0] != reason:  # once per cause, not once per poll
            log.error("not ready: the store refuses writes (%s): %s", reason, exc)
        _last_reason[0] = reason
        return JSONResponse({"status": "unavailable", **refusal_body(reason)},
                            status_code=503, headers={"Retry-After": "5"})
    except Exception:  # unreachable: realtime.api's check says so (and logs it)
        return await api.readyz(request)
    _last_reason[0] = None
    # A clock that disagrees with Redis's: while this process goes by Redis's time (its
    # anchor, realtime/clock.py) tickets, tokens and days are right, so the server stays in
    # service and says so in ``warnings`` (and switchboard_clock_offset_seconds): a load
    # balancer taking the only server out for a compensated clock is an outage for nothing.
    # Not measured yet (TIME too slow to judge by at start-up): 503 until it is. Behind the
    # data alone (a clock corrected back after it ran ahead, when the data's stamps are the
    # wrong ones) is logged at ERROR (clock.Watch) and reported the same way.
    if skew is None:
        return await api.readyz(request)
    body = {"code": "clock_skew", "message": skew.message(), "temporary": True,
            "details": {"behind_s": round(skew.behind_s, 1), "source": skew.source,
                        "using_redis_time": clock.ANCHOR.anchored}}
    if skew.source == "redis" and not clock.ANCHOR.anchored:
        return JSONResponse({"status": "clock_skew", **body}, status_code=503,
                            headers={"Retry-After": "30"})
    return await api.readyz(request, warnings=[body])


def watch(app: Any) -> clock.Watch:
    """The app's clock verdict (one per app: a test's server starts with its own)."""
    if getattr(app.state, "clock_watch", None) is None:
        app.state.clock_watch = clock.Watch()
    w: clock.Watch = app.state.clock_watch
    return w


async def check_at_start(app: Any, redis: Any) -> None:
    """Each server process, once Redis answers: a wrong clock is logged at ERROR now, not
    at the first /readyz."""
    try:
        await watch(app).skew(redis)
    except Exception as exc:  # start anyway: /readyz says what is wrong
        log.debug("clock check at start-up: %s", exc)


ROUTES = [Route("/readyz", readyz, methods=["GET"])]
