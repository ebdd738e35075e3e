"""The arq worker: ``switchboard worker`` runs background jobs (reminders, dispatch
recomputes) against the same Redis as the server.

Task modules add their functions and cron jobs to ``FUNCTIONS`` and ``CRON_JOBS`` here, and
set-up / tear-down steps to ``ON_STARTUP`` / ``ON_SHUTDOWN`` (each gets arq's ``ctx``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings
from redis.asyncio import Redis

from queueing import keys, redisconn
from realtime.settings import Settings, from_env

HEARTBEAT_KEY = "sb:worker:heartbeat"
Step = Callable[[dict[str, Any]], Awaitable[None]]


async def heartbeat(ctx: dict[str, Any]) -> None:
    """Record that a worker is alive (readable by operators and health checks)."""
    from realtime import clock
    await ctx["redis"].set(HEARTBEAT_KEY, clock.now_ms(), ex=180)


# -- appointments (queueing/booking/tasks.py) ------------------------------------------------

async def booking_due(ctx: dict[str, Any], site: str, at: int | str) -> str:
    """Bookings' due side effects at ``at`` (ms): reminders, lapsed holds and offers, all
    of ``site`` due by now. (A job from before due times were shared names one entry.)"""
    from queueing.booking.tasks import CTX_KEY, fire, fire_due
    if isinstance(at, str) and "|" in at:
        return await fire(ctx[CTX_KEY], site, at)
    return f"fired {await fire_due(ctx[CTX_KEY], site)}"


async def booking_sweep(ctx: dict[str, Any]) -> int:
    """Fire due side effects whose job did not run (lost, or due while no worker ran)."""
    from queueing.booking.tasks import CTX_KEY, sweep
    return await sweep(ctx[CTX_KEY])


async def day_close(ctx: dict[str, Any]) -> int:
    """Close the working day of every site whose ``policy.day_close`` has passed (once per
    local date; queueing/dayclose.py). Returns how many tickets it closed."""
    from queueing.booking.tasks import CTX_KEY
    from queueing.dayclose import close_due
    from queueing.engine import Actor
    from queueing.errors import SwitchboardError
    from realtime import clock
    engine = ctx[CTX_KEY].booking.engine
    if await clock_wrong(engine.store.redis):
        return 0
    closed = 0
    for site in await engine.sites():
        try:
            r = await close_due(engine, site, clock.now_ms(), Actor("day_close", "worker"))
        except SwitchboardError as exc:  # a site removed meanwhile, a bad config
            logging.getLogger("switchboard.dayclose").warning("day close of %s: %s", site, exc)
            continue
        closed += len(r["closed"]) if r else 0
    return closed


async def promote(ctx: dict[str, Any]) -> int:
    """Give early check-ins whose time has come their appointment's place, at every site
    (Engine.promote_due; every 15 s, so at most that late). Returns how many it promoted."""
    from queueing.booking.tasks import CTX_KEY
    from queueing.errors import SwitchboardError
    engine = ctx[CTX_KEY].booking.engine
    promoted = 0
    for site in await engine.sites():
        try:
            promoted += len(await engine.promote_due(site))
        except SwitchboardError as exc:  # a site removed meanwhile, the store refusing writes
            logging.getLogger("switchboard.promote").warning("promotion at %s: %s", site, exc)
    return promoted


_clock_logged = [-1e9]


async def clock_wrong(redis: Redis, now_s: float | None = None) -> bool:
    """This process's time and Redis's disagree (by more than clock.SKEW_LIMIT_S): no day
    is closed by it (a worker 16 h ahead closed tomorrow's day at 11:24, cancelling those
    waiting). Its time is Redis's while the host's clock is wrong (clock_start), so this is
    a clock not measured yet. Logged at ERROR once every 15 min while it lasts."""
    from realtime import clock
    skew = clock.judge(clock.now_s() if now_s is None else now_s,
                       await clock.redis_time(redis), None)
    if skew is None:
        return False
    if time.monotonic() - _clock_logged[0] > 900:
        _clock_logged[0] = time.monotonic()
        logging.getLogger("switchboard.dayclose").error(
            "no day closed: %s", skew.message())
    return True


async def clock_start(ctx: dict[str, Any]) -> None:
    """This process's time: the host's clock, Redis's while they disagree (realtime/clock.py),
    measured now and every few seconds in every worker process."""
    from realtime import clock
    ctx["clock_anchor"] = await clock.ANCHOR.start(ctx["redis"])


async def clock_stop(ctx: dict[str, Any]) -> None:
    from realtime import clock
    task = ctx.pop("clock_anchor", None)
    if task is not None:
        await clock.stop(task)


async def booking_start(ctx: dict[str, Any], settings: Settings | None = None) -> None:
    from queueing.booking import notify
    from queueing.booking.alerts import Thresholds
    from queueing.booking.consumer import Notifications
    from queueing.booking.engine import BookingEngine
    from queueing.booking.jobs import Jobs
    from queueing.booking.tasks import CTX_KEY, Services
    from queueing.engine import Engine
    from queueing.store import Store
    from realtime import clock
    from realtime.links import Links
    s = settings or from_env()
    redis: Redis = ctx["redis"]
    engine = Engine(Store(redis), clock=clock.now_ms, config_ttl_s=s.config_cache_s,
                    idempotency_ttl_s=s.idempotency_ttl_s)
    notifier = notify.from_settings(s.notify_webhook_url, s.notify_webhook_secret,
                                    s.notify_timeout_s)
    if not s.notify_webhook_url and await redis.exists(keys.DEMO):
        notifier = notify.OutboxNotifier(redis)  # the demo's phone page shows the texts
    # Blocking stream reads get their own connections.
    reader = redisconn.connect(redis_url(s))
    # Texts about a booking carry the short link to its page, where people reach the
    # server at a public address (SWITCHBOARD_PUBLIC_URL).
    links = Links(redis, _link_secret(s), s.public_url, s.token_ttl_s).booking
    notes = Notifications(redis, reader, engine, notifier,
                          Thresholds(s.alert_position, s.alert_wait_s), clock=clock.now_ms,
                          links=links, estimates=ServerEstimates(engine))
    notes.start()
    ctx[CTX_KEY] = Services(redis, BookingEngine(engine, Jobs(redis)), notifier, notes,
                            links=links)
    ctx["booking_reader"] = reader


class ServerEstimates:
    """``alerts.WaitEstimates`` by the server's own estimator (realtime/estimates.py), so
    "almost your turn" goes when the ticket page and the SMS desk's STATUS say the wait is
    within the window. It follows each site watcher's view (queueing/booking/consumer.py
    ``SiteWatcher``: a snapshot, then the stream, as the hub's feeds) and is warmed, as the
    hub's, with the site's last week of day-log records."""

    def __init__(self, engine: Any) -> None:
        from realtime.estimates import LiveEstimator
        self.live = LiveEstimator(engine)

    def observe(self, site: Any, kind: str, data: dict[str, Any], eid: str,
                via: str = "") -> None:
        from realtime.hub.entry import Entry, parse_id
        self.live.observe(site, Entry(eid, kind, parse_id(eid)[0], "", via, data))

    def wait(self, site: Any, ticket_id: str, position: int) -> tuple[float, float] | None:
        return self.live.wait_range(site, ticket_id, position)


def _link_secret(s: Settings) -> str:
    """The key the server signs tokens with (the setting, else the data folder's file): a
    link's token must open the page. None known: texts go without links."""
    if not s.public_url:
        return ""
    from realtime.auth import load_secret
    try:
        return load_secret(s.secret, s.data_path, create=False)
    except SystemExit:
        logging.getLogger("switchboard.notify").warning(
            "SWITCHBOARD_PUBLIC_URL is set but the worker knows no token secret "
            "(SWITCHBOARD_SECRET, or --data-dir of the server): texts go without links")
        return ""


async def booking_stop(ctx: dict[str, Any]) -> None:
    from queueing.booking.tasks import CTX_KEY
    svc = ctx.pop(CTX_KEY, None)
    if svc is not None:
        if svc.notifications is not None:
            await svc.notifications.stop()
        await svc.notifier.aclose()
    reader = ctx.pop("booking_reader", None)
    if reader is not None:
        await reader.aclose()


FUNCTIONS: list[Any] = [heartbeat, func(booking_due, keep_result=0, max_tries=20),
                        func(booking_sweep, keep_result=0)]
CRON_JOBS: list[Any] = [
    cron(heartbeat, second={0, 30}, run_at_startup=True),
    cron(booking_sweep, second=set(range(0, 60, 10)), run_at_startup=True, keep_result=0,
         unique=True),
    cron(day_close, second={15}, run_at_startup=True, keep_result=0, unique=True),
    cron(promote, second={0, 15, 30, 45}, run_at_startup=True, keep_result=0, unique=True),
]
ON_STARTUP: list[Step] = [clock_start, booking_start]
ON_SHUTDOWN: list[Step] = [booking_stop, clock_stop]


# -- dispatch (dispatch/tasks.py): recomputes, offer timers, the sweep ------------------------

async def dispatch_start(ctx: dict[str, Any], settings: Settings | None = None) -> None:
    from dispatch import tasks
    from realtime import clock
    s = settings or from_env()
    # Jobs, offers and fixes stamped by this process's time, as its queue engine's (Redis's
    # while the host's clock is off: clock_start keeps it measured).
    await tasks.startup(ctx, s.history_ttl_s, s.history_min_entries, clock=clock.now_ms)


async def dispatch_stop(ctx: dict[str, Any]) -> None:
    from dispatch import tasks
    await tasks.shutdown(ctx)


def _dispatch_jobs() -> tuple[list[Any], list[Any]]:
    from dispatch import tasks
    return tasks.FUNCTIONS, tasks.CRON_JOBS


FUNCTIONS += _dispatch_jobs()[0]
CRON_JOBS += _dispatch_jobs()[1]
ON_STARTUP.append(dispatch_start)
ON_SHUTDOWN.append(dispatch_stop)


# -- the process's own heap (realtime/heap.py) ------------------------------------------------

async def heap_start(ctx: dict[str, Any]) -> None:
    """Give the C heap's free pages back every minute: in every worker process (a cron job
    would run in one of them), so a worker's resident size follows what it uses."""
    from realtime import heap
    ctx["heap_trim"] = asyncio.create_task(heap.trim_every(), name="heap-trim")


async def heap_stop(ctx: dict[str, Any]) -> None:
    task = ctx.pop("heap_trim", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


ON_STARTUP.append(heap_start)
ON_SHUTDOWN.append(heap_stop)


async def on_startup(ctx: dict[str, Any]) -> None:
    for step in ON_STARTUP:
        await step(ctx)


async def on_shutdown(ctx: dict[str, Any]) -> None:
    for step in reversed(ON_SHUTDOWN):
        await step(ctx)
    ctx[STOPPED] = True


STOPPED = "sb_stopped"


async def stop_quietly(ctx: dict[str, Any]) -> None:
    """The shutdown steps, if arq did not run them (Redis failed under it: its ``close``
    stops at its first command). Each step forgets what it stopped, and a failing one (Redis
    still down) does not keep the next from stopping its tasks."""
    if ctx.get(STOPPED) or not ctx:
        return
    for step in reversed(ON_SHUTDOWN):
        try:
            await step(ctx)
        except Exception as exc:  # Redis down: what it held is let go
            logging.getLogger("switchboard.worker").debug("shutdown step %s: %s",
                                                          step.__name__, exc)
    ctx[STOPPED] = True


def redis_url(settings: Settings | None = None) -> str:
    settings = settings or from_env()
    return settings.redis_url or f"unix://{settings.data_path / 'redis.sock'}"


def redis_settings() -> RedisSettings:
    url = redis_url()
    if url.startswith("unix://"):
        return RedisSettings(unix_socket_path=url[len("unix://"):])
    return RedisSettings.from_dsn(url)


class WorkerSettings:
    functions = FUNCTIONS
    cron_jobs = CRON_JOBS
    on_startup = on_startup
    on_shutdown = on_shutdown
    redis_settings = redis_settings()
    max_jobs = 50
    job_timeout = 300
    # arq polls for due jobs every poll_delay; 0.5 s (its default) put an urgent job's
    # offer 423 ms (p95) behind; 50 ms brings it to 60 ms (docs/dispatch.md).
    poll_delay = 0.05
