"""/readyz, before realtime.api's checks (Redis answers, a worker is seen): can the store
write, and does this host's clock agree with Redis's? A full disk left PING answering while
every request failed; a wrong clock ordered new tickets by a wrong time (now this process
goes by Redis's time instead: ready, with a ``clock_skew`` warning). A store that says
"not now" (BUSY, LOADING...) is unready for as long: 503, as every request then is."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
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


async def worker_seen_s(redis: Any) -> float | None:
    """Seconds since a worker's last heartbeat by Redis's clock (the worker stamps it by
    Redis's time when its host's disagrees), None when none is kept (no worker for 180 s)."""
    from realtime.worker import HEARTBEAT_KEY
    beat = await redis.get(HEARTBEAT_KEY)
    if beat is None:
        return None
    secs, micros = await redis.time()
    return max(0.0, (int(secs) * 1000 + int(micros) // 1000 - int(beat)) / 1000)


def worker_missing(seen_s: float | None) -> bool:
    """As ``/readyz?worker=1`` judges it: unseen for three beats."""
    return seen_s is None or seen_s > api.WORKER_SILENT_S


# A missing worker is logged again at most this often (seconds) while it stays missing.
WORKER_WARN_EVERY_S = 900


class WorkerWatch:
    """A real server's warning while no worker runs with it: nothing else said that day
    close, reminders, texts and dispatch offers had stopped (``/readyz?worker=1`` only
    answers who asks). Logged once the worker has been missing past a start-up grace (a
    worker started with the server beats within seconds), then every ``every_s`` at most,
    and once when it is seen again."""

    def __init__(self, start_hint: str, every_s: float = WORKER_WARN_EVERY_S,
                 grace_s: float = api.WORKER_SILENT_S,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.hint, self.every_s, self.grace_s, self.now = start_hint, every_s, grace_s, now
        self.started = now()
        self.warned_at: float | None = None

    def note(self, seen_s: float | None) -> bool:
        """One look at the heartbeat; True when a warning was logged."""
        t = self.now()
        if not worker_missing(seen_s):
            if self.warned_at is not None:
                log.info("worker: seen again (%.0f s ago); end of day, reminders, texts and "
                         "dispatch run again", seen_s)
            self.warned_at = None
            return False
        if t - self.started < self.grace_s:
            return False
        if self.warned_at is not None and t - self.warned_at < self.every_s:
            return False
        self.warned_at = t
        since = "none is running" if seen_s is None else f"last seen {seen_s:.0f} s ago"
        log.warning("no worker (%s): day close, reminders, texts and dispatch offers are "
                    "not running; start one: %s / 未检测到 worker：日终关闭、提醒、短信与派单"
                    "均未运行", since, self.hint)
        return True


def start_worker_watch(url: str, start_hint: str, every_s: float = 30.0
                       ) -> threading.Event:
    """``WorkerWatch`` in a daemon thread of ``switchboard serve`` (one per server, not one
    per ``--workers`` process), reading the heartbeat every ``every_s``; set the returned
    event to stop it."""
    from queueing import redisconn
    stop = threading.Event()
    watch = WorkerWatch(start_hint)

    async def look() -> float | None:
        redis = redisconn.connect(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            return await worker_seen_s(redis)
        finally:
            await redis.aclose()

    def run() -> None:
        while not stop.is_set():
            try:
                watch.note(asyncio.run(look()))
            except Exception as exc:  # Redis restarting: /readyz says so
                log.debug("worker watch: %s", exc)
            stop.wait(every_s)

    threading.Thread(target=run, name="worker-watch", daemon=True).start()
    return stop


ROUTES = [Route("/readyz", readyz, methods=["GET"])]
