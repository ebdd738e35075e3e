"""Prometheus metrics (prometheus-client). With several worker processes, set by serve,
``PROMETHEUS_MULTIPROC_DIR`` makes /metrics sum every process."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from queueing.booking import delivery

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
# A client that stops reading altogether (a frozen tab, a dead network) answers no keepalive
# ping and is closed with 1011 before its queue of events is full enough for a slow close.
PING_TIMEOUTS = Counter("switchboard_ping_timeouts", "Connections closed (1011) for answering "
                        "no keepalive ping within SWITCHBOARD_WS_PING_TIMEOUT_S")
AUTH_FAILURES = Counter("switchboard_auth_failures", "Websocket authentication failures")
PROTOCOL_ERRORS = Counter("switchboard_protocol_errors", "Error frames sent", ["code"])
# What a long-running process holds, taken every few seconds by the hub: a table that only
# grows while clients come and go is a leak (loadtest/soak.py plots these).
HUB_TABLES = Gauge("switchboard_hub_table_entries", "Entries in the hub's in-memory tables "
                   "(connections, feeds, subscribers, per-topic state, tracked tickets, "
                   "estimates) and asyncio tasks", ["table"], multiprocess_mode="livesum")

# Per site, as this process's hub holds it (``site_gauges``: every 5 s by the hub's census
# and at each scrape by the process answering it). Bounded: sites × roles.
SITE_CONNECTIONS = Gauge("switchboard_site_connections", "Open websocket connections by site "
                         "('' for a token of no site) and role ('' before authentication)",
                         ["site", "role"], multiprocess_mode="livesum")
# A site's queue as the hub's live view of it holds it (no Redis read): reported by every
# process following the site (a board, kiosk, console or supervisor page open on it), the
# most recent write wins across processes.
SITE_WAITING = Gauge("switchboard_site_waiting", "People waiting (waiting or transferred "
                     "tickets) at the site", ["site"], multiprocess_mode="livemostrecent")
SITE_LONGEST_WAIT = Gauge("switchboard_site_longest_wait_seconds", "How long the longest "
                          "waiting ticket at the site has waited since it was issued (0: none "
                          "waiting)", ["site"], multiprocess_mode="livemostrecent")
SITE_COUNTERS_OPEN = Gauge("switchboard_site_counters_open", "Counters open at the site "
                           "(paused and closed ones not counted)", ["site"],
                           multiprocess_mode="livemostrecent")
_QUEUE_GAUGES = (SITE_WAITING, SITE_LONGEST_WAIT, SITE_COUNTERS_OPEN)
# What this process last reported: a pair or site it no longer has is zeroed or dropped.
_reported_conns: set[tuple[str, str]] = set()
_reported_sites: set[str] = set()


def site_figures(view: Any, now_ms: int) -> tuple[int, float, int]:
    """``(waiting, longest wait in s, counters open)`` of a site's live view
    (queueing/view.py ``SiteView``): what the hub already holds, read in memory."""
    waiting, oldest = 0, now_ms
    for ids in view.queues.values():
        waiting += len(ids)
        for tid in ids:
            t = view.tickets.get(tid)
            issued = int(t.get("issued_ms") or 0) if t is not None else 0
            if issued and issued < oldest:
                oldest = issued
    counters_open = sum(1 for st in view.counters.values() if st.get("state") == "open")
    return waiting, max(0.0, (now_ms - oldest) / 1000), counters_open


def site_gauges(hub: Any) -> None:
    """Set this process's per-site series from its hub: connections by site and role
    (``hub.live``), and each followed site's queue (``hub.feeds``' live views). A pair
    seen before and gone now reads 0; a site no longer followed here is dropped (with
    several processes, where series cannot be removed, it reads NaN until a process
    following it writes again, within 5 s)."""
    from realtime import clock
    counts: dict[tuple[str, str], int] = {}
    for conn in list(hub.live):
        p = conn.principal
        k = ("", "") if p is None else (p.site or "", p.role)
        counts[k] = counts.get(k, 0) + 1
    for k in _reported_conns - counts.keys():
        SITE_CONNECTIONS.labels(*k).set(0)
    for k, n in counts.items():
        SITE_CONNECTIONS.labels(*k).set(n)
    _reported_conns.update(counts)
    now_ms = clock.now_ms()
    sites = {key: feed for key, feed in list(hub.feeds.items()) if hasattr(feed, "view")}
    for site in _reported_sites - sites.keys():
        for gauge in _QUEUE_GAUGES:
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                gauge.labels(site).set(float("nan"))
            else:
                gauge.remove(site)
    for site, feed in sites.items():
        for gauge, value in zip(_QUEUE_GAUGES, site_figures(feed.view, now_ms), strict=True):
            gauge.labels(site).set(value)
    _reported_sites.intersection_update(sites)
    _reported_sites.update(sites)


# The worker's last heartbeat (epoch s; 0 when none is kept), read from Redis at each scrape:
# alert on ``time() - switchboard_worker_heartbeat_timestamp_seconds > 90``.
WORKER_BEAT = Gauge("switchboard_worker_heartbeat_timestamp_seconds",
                    "When a worker last wrote its heartbeat (every 30 s), 0 if none is kept",
                    multiprocess_mode="max")

# This host's clock against Redis's (Redis's time minus the host's, at the last measurement,
# every 5 s): past 1 s the process goes by Redis's time (realtime/clock.py); alert on
# ``abs(switchboard_clock_offset_seconds) > 60`` all the same (NTP / chrony is broken).
CLOCK_OFFSET = Gauge("switchboard_clock_offset_seconds", "Redis's clock minus this host's, "
                     "as last measured (past 1 s this process goes by Redis's time)",
                     multiprocess_mode="max")

HTTP_RESPONSES = Counter("switchboard_http_responses", "HTTP responses by status class "
                         "(2xx, 3xx, 4xx, 5xx); 5xx also for a request that failed before "
                         "answering", ["status"])
HTTP_SECONDS = Histogram("switchboard_http_request_seconds",
                         "HTTP request to the end of its response headers",
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10))
_CLASSES = {n: HTTP_RESPONSES.labels(f"{n}xx") for n in range(1, 6)}


class HttpMetrics:
    """Counts HTTP responses by status class and times them, for alerts on API errors
    (docs/deployment.md, "Monitoring"). Plain ASGI: websockets and lifespan pass straight
    through, and a request costs one wrapped ``send``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        answered = False

        async def counted(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start" and not answered:
                answered = True
                _CLASSES.get(message["status"] // 100, _CLASSES[5]).inc()
                HTTP_SECONDS.observe(time.perf_counter() - t0)
            await send(message)

        try:
            await self.app(scope, receive, counted)
        except BaseException:
            if not answered:
                _CLASSES[5].inc()
            raise


class NotificationStats(Collector):
    """The notifications' outcomes as the worker counted them in Redis
    (queueing/booking/delivery.py), read at the scrape like the heartbeat: the worker sends
    the texts, the server is what Prometheus scrapes. Alert on failures and on the oldest
    undelivered one's age (docs/deployment.md, "Monitoring")."""

    def __init__(self, stats: delivery.Stats, now_s: float) -> None:
        self.stats = stats
        self.now_s = now_s

    def collect(self) -> Any:
        counts = {k: 0 for k in delivery.KINDS}
        families = {
            "sent": CounterMetricFamily("switchboard_notifications_sent",
                                        "Notifications the gateway took", labels=["kind"]),
            "failed": CounterMetricFamily(
                "switchboard_notification_failures",
                "Attempts the gateway refused or did not answer (each is tried again)",
                labels=["kind"]),
            "given_up": CounterMetricFamily(
                "switchboard_notifications_given_up",
                "Notifications given up after their last retry was refused", labels=["kind"]),
        }
        for outcome, family in families.items():
            by_kind = counts | {k: n for (o, k, _), n in self.stats.counts.items()
                                if o == outcome}
            for kind, n in sorted(by_kind.items()):
                family.add_metric([kind], n)
            yield family
        dropped = CounterMetricFamily(
            "switchboard_notifications_dropped",
            "Retries dropped as no longer true (the ticket served, moved or cancelled, the "
            "booking gone, past valid_until)", labels=["kind", "reason"])
        for (o, kind, reason), n in sorted(self.stats.counts.items()):
            if o == "stale":
                dropped.add_metric([kind, reason], n)
        yield dropped
        yield GaugeMetricFamily("switchboard_notifications_undelivered",
                                "Notifications refused and not yet sent, given up or dropped",
                                value=self.stats.undelivered)
        oldest = self.stats.oldest_undelivered_ms
        yield GaugeMetricFamily(
            "switchboard_notification_oldest_undelivered_seconds",
            "Age of the oldest notification still undelivered (since first refused), 0 if none",
            value=max(0.0, self.now_s - oldest / 1000) if oldest is not None else 0.0)
        yield GaugeMetricFamily("switchboard_notification_retries_pending",
                                "Notifications waiting for their next try, or for the end "
                                "of a site's quiet hours (sb:nt:retry)",
                                value=self.stats.pending_retries)


async def _expiring_tokens(redis: Any, refusal: Any) -> bytes:
    """``switchboard_tokens_expiring_soon{site,role}``: issued links (realtime/token_registry.py)
    still active and expiring within a week, read from Redis at the scrape (the ids expiring
    in that week, then their records: one range and one pipelined read). Alert on ``> 0``
    to renew them before the day they all stop. Nothing when Redis does not answer."""
    from realtime import clock, token_registry
    now = clock.now_s()
    try:
        recs = await token_registry.records(redis, now, lo=now, hi=now + token_registry.SOON_S)
    except Exception:  # Redis unreachable: the rest is still worth scraping
        return b""
    counts: dict[tuple[str, str], int] = {}
    for rec in recs:
        if token_registry.status(rec, now, refusal) == "active":
            k = (rec.get("site", ""), rec["role"])
            counts[k] = counts.get(k, 0) + 1
    family = GaugeMetricFamily(
        "switchboard_tokens_expiring_soon",
        f"Issued links (POST /v1/tokens, switchboard token) active and expiring within "
        f"{token_registry.SOON_S // 86400} days, by site ('' for none) and role",
        labels=["site", "role"])
    for (site, role), n in sorted(counts.items()):
        family.add_metric([site, role], n)
    return generate_latest(_Once(family))


class _Once(Collector):
    """A registry-like collector of prepared families (generate_latest takes a registry)."""

    def __init__(self, *families: Any) -> None:
        self.families = families

    def collect(self) -> Any:
        return iter(self.families)


async def _notifications(redis: Any) -> bytes:
    """The notification series, or nothing when Redis does not answer."""
    try:
        stats = await delivery.read(redis)
    except Exception:  # Redis unreachable: the rest is still worth scraping
        return b""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NotificationStats(stats, time.time()))
    return generate_latest(registry)


def forget_dead(folder: str) -> list[int]:
    """Drop the live gauges (connections, subscriptions, hub tables) of processes that are
    gone: uvicorn restarts a hub process that died, and its last counts stayed in the sum.
    Counters and histograms stay (their totals happened). The processes it forgot."""
    from prometheus_client import multiprocess
    dead = []
    for f in Path(folder).glob("gauge_live*_*.db"):
        pid = int(f.stem.rsplit("_", 1)[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]
            dead.append(pid)
        except PermissionError:  # alive, another user's
            pass
    return sorted(set(dead))


async def metrics_endpoint(request: Request) -> Response:
    from realtime.context import ctx
    from realtime.worker import HEARTBEAT_KEY
    redis = ctx(request).redis
    site_gauges(ctx(request).hub)  # this process's, as of now (the others': their last census)
    try:
        beat = await redis.get(HEARTBEAT_KEY)
    except Exception:  # Redis unreachable: the rest is still worth scraping (/readyz says it)
        pass
    else:
        WORKER_BEAT.set(int(beat) / 1000 if beat else 0)
    # Read from Redis, not kept in this process: appended after the process's own series.
    extra = await _notifications(redis)
    extra += await _expiring_tokens(redis, ctx(request).revocations.refusal)
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        from prometheus_client import multiprocess
        forget_dead(folder)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry) + extra, media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest() + extra, media_type=CONTENT_TYPE_LATEST)


ROUTES = [Route("/metrics", metrics_endpoint, methods=["GET"])]
