"""Prometheus metrics (prometheus-client). With several worker processes, set by serve,
``PROMETHEUS_MULTIPROC_DIR`` makes /metrics sum every process."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

CONNECTIONS = Gauge("switchboard_connections", "Open websocket connections",
                    multiprocess_mode="livesum")
SUBSCRIPTIONS = Gauge("switchboard_subscriptions", "Active topic subscriptions",
                      multiprocess_mode="livesum")
MESSAGES_OUT = Counter("switchboard_messages_out", "Messages queued to clients",
                       ["namespace"])
LAG = Histogram("switchboard_delivery_lag_seconds", "Change in Redis to fan-out in the hub",
                buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
RESUMES = Counter("switchboard_resumes", "Subscriptions resumed from an offset")
RESYNCS = Counter("switchboard_resyncs", "Subscriptions answered with a resync snapshot")
SLOW_CLOSES = Counter("switchboard_slow_closes", "Connections closed as too slow for events")
AUTH_FAILURES = Counter("switchboard_auth_failures", "Websocket authentication failures")
PROTOCOL_ERRORS = Counter("switchboard_protocol_errors", "Error frames sent", ["code"])


async def metrics_endpoint(request: Request) -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


ROUTES = [Route("/metrics", metrics_endpoint, methods=["GET"])]
