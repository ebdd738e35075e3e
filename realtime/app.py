"""The Starlette application factory."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute

from queueing import redisconn
from queueing.engine import Engine
from queueing.store import Store
from realtime import (
    api,
    audit_api,
    booking_api,
    buildinfo,  # noqa: F401 - switchboard_build_info on /metrics
    clock,
    dispatch_api,
    docs,
    erase_api,
    metrics,
    pages,
    readiness,
    revocation_api,
    sms_api,
    stats,
    tokens_api,
    verify,
    ws,
)
from realtime.auth import load_secret
from realtime.context import Context
from realtime.errors import HANDLERS
from realtime.estimates import LiveEstimator
from realtime.httpproto import HeaderTimeoutProtocol
from realtime.hub import dispatch_topics  # noqa: F401 - registers dispatch namespaces
from realtime.hub.hub import Hub
from realtime.revocation import Revocations
from realtime.settings import Settings, from_env
from realtime.stats import StatsRecorder

log = logging.getLogger("switchboard")


def connect(url: str) -> Redis:
    # One pool per process; hiredis packs commands and parses replies.
    return redisconn.connect(url, decode_responses=False, health_check_interval=30,
                             max_connections=512)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or from_env()
    if not settings.redis_url:
        raise SystemExit("switchboard: the app needs redis_url (serve starts Redis and sets it)")
    # Every server process builds its app here, also uvicorn's workers (from the
    # environment): the HTTP protocol (uvicorn_options) takes its header deadline from it.
    HeaderTimeoutProtocol.header_timeout_s = settings.http_read_timeout_s
    HeaderTimeoutProtocol.max_header_bytes = settings.http_max_header_bytes

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        redis = connect(settings.redis_url or "")
        # This process's time: the host's clock, Redis's while they disagree (measured now,
        # before a ticket is stamped, then every few seconds): tickets and tokens go by it.
        clock.ANCHOR.report = metrics.CLOCK_OFFSET.set
        anchor = await clock.ANCHOR.start(redis)
        engine = Engine(Store(redis), clock=clock.now_ms, config_ttl_s=settings.config_cache_s,
                        idempotency_ttl_s=settings.idempotency_ttl_s)
        hub = Hub(settings, redis, engine)
        hub.estimator = LiveEstimator(engine)
        recorder = StatsRecorder(engine, audit_keep_days=settings.audit_keep_days)
        recorder.start()
        app.state.recorder = recorder
        c = app.state.sb = Context(settings=settings, redis=redis, engine=engine,
                                   secret=load_secret(settings.secret, settings.data_path),
                                   hub=hub, revocations=Revocations(settings.max_token_ttl_s))
        c.revocations.on_change = lambda: hub.close_revoked(c.revocations.refusal)
        # Sockets held open for days (a board) count as used: their last_seen is written.
        c.revocations.held = lambda: (conn.principal for conn in hub.live
                                      if conn.principal is not None)
        await c.revocations.start(redis)
        await hub.start()
        await readiness.check_at_start(app, redis)
        try:
            yield
        finally:
            await c.revocations.stop()
            await recorder.stop()
            await hub.stop()
            await clock.stop(anchor)
            await redis.aclose()

    # /readyz (readiness.ROUTES) checks writes and the clock, then api.readyz's Redis/worker.
    routes: list[BaseRoute] = [*readiness.ROUTES, *api.ROUTES, *booking_api.ROUTES,
                               *dispatch_api.ROUTES,
                               *stats.ROUTES, *audit_api.ROUTES, *revocation_api.ROUTES,
                               *sms_api.ROUTES, *tokens_api.ROUTES, *verify.ROUTES, *ws.ROUTES,
                               *erase_api.ROUTES, *metrics.ROUTES, *docs.ROUTES,
                               *pages.ROUTES]
    # ws.App: Starlette, with /ws handed straight to the hub's endpoint (lighter per idle
    # screen: docs/loadtest-report.md).
    return ws.App(routes=routes, lifespan=lifespan, exception_handlers=HANDLERS,
                  middleware=[Middleware(metrics.HttpMetrics), *_cors(settings)])


def _cors(settings: Settings) -> list[Middleware]:
    """The HTTP API answers browsers on the origins ``/ws`` accepts (SWITCHBOARD_ALLOWED_
    ORIGINS); none by default, as for ``/ws``. Tokens travel in the Authorization header, not
    cookies, so no credentials mode."""
    if not settings.allowed_origins:
        return []
    return [Middleware(CORSMiddleware, allow_origins=settings.allowed_origins,
                       allow_methods=["GET", "POST", "PUT", "DELETE"],
                       allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
                       expose_headers=["Idempotent-Replayed"], max_age=600)]


def app_from_env() -> Starlette:
    """Factory for uvicorn workers: settings come from the environment serve prepared."""
    return create_app(from_env())
