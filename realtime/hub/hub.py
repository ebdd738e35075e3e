"""The hub of one server process: feeds per site, connections, the trim janitor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from queueing.engine import Engine
from queueing.errors import Forbidden, SwitchboardError, UnknownSite
from realtime import metrics
from realtime.auth import Principal
from realtime.hub import booking_topics, queue_topics  # noqa: F401 - register namespaces
from realtime.hub.entry import Entry
from realtime.hub.feed import SiteFeed
from realtime.hub.outbox import Outbox
from realtime.hub.topics import NAMESPACES, Namespace, resolve
from realtime.protocol import JSON, Error, Event, ProtocolError, Since, Snapshot, encode
from realtime.settings import Settings

log = logging.getLogger("switchboard.hub")


class Connection:
    """One websocket's server side: its principal, subscriptions and outgoing queue."""

    def __init__(self, send: Callable[[dict[str, Any]], Any], kind: str,
                 max_events: int) -> None:
        self._send = send
        self.kind = kind
        self.principal: Principal | None = None
        self.topics: dict[str, SiteFeed] = {}
        self.outbox = Outbox(max_events)
        self.wake = asyncio.Event()
        self.space = asyncio.Event()  # set by the sender when the event lane has room
        self.slow = False
        self.closed = False

    def deliver(self, msg: Event | Snapshot | Error | Any, frames: dict[str, Any],
                is_event: bool) -> None:
        """Queue one message; frames caches its encoding for the other subscribers."""
        if self.closed or self.slow:
            return
        frame = frames.get(self.kind)
        if frame is None:
            raw = encode(msg, self.kind)
            frame = frames[self.kind] = raw.decode() if self.kind == JSON else raw
        topic = getattr(msg, "topic", "")
        if not self.outbox.push(frame, topic, is_event):
            self.slow = True
            metrics.SLOW_CLOSES.inc()
        self.wake.set()

    async def deliver_paced(self, msg: Event | Snapshot, is_event: bool = True) -> None:
        """Queue a replayed message, waiting while the event lane is half full: a resume
        may carry thousands of missed events, which must not count as being slow."""
        while not self.closed and self.outbox.events >= self.outbox.max_events // 2:
            self.space.clear()
            await self.space.wait()
        self.deliver(msg, {}, is_event)

    def reply(self, msg: Any) -> None:
        """A direct answer (error, pong): always goes out, in order with the rest."""
        self.deliver(msg, {}, True)

    async def sender(self, close: Callable[[int, str], Any]) -> None:
        from realtime.protocol import CLOSE_SLOW
        key = "text" if self.kind == JSON else "bytes"
        while not self.closed:
            await self.wake.wait()
            self.wake.clear()
            if self.slow:
                err = Error("slow", "could not keep up with events; resume from your last "
                            "offset", True)
                raw = encode(err, self.kind)
                with contextlib.suppress(Exception):
                    await self._send({"type": "websocket.send",
                                      key: raw.decode() if self.kind == JSON else raw})
                await close(CLOSE_SLOW, "slow")
                return
            while (frame := self.outbox.pop()) is not None:
                await self._send({"type": "websocket.send", key: frame})
                if self.outbox.events < self.outbox.max_events // 2:
                    self.space.set()
                if self.slow:
                    break
            self.space.set()


class Hub:
    def __init__(self, settings: Settings, redis: Redis, engine: Engine) -> None:
        self.settings = settings
        self.redis = redis
        self.engine = engine
        # Blocking XREADs hold a connection each: give them their own pool.
        self.reader: Redis = Redis.from_url(settings.redis_url or "", max_connections=10_000)
        self.feeds: dict[str, SiteFeed] = {}
        self._starting: dict[str, asyncio.Task[SiteFeed]] = {}
        self._janitor: asyncio.Task[None] | None = None
        self.estimator: Any = None  # set by the estimate integration

    @property
    def site_namespaces(self) -> list[Namespace]:
        return [ns for ns in NAMESPACES.values() if ns.feed_kind == "site"]

    async def start(self) -> None:
        self._janitor = asyncio.create_task(self._janitor_loop(), name="hub-janitor")

    async def stop(self) -> None:
        if self._janitor is not None:
            self._janitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._janitor
        for feed in list(self.feeds.values()):
            await feed.stop()
        self.feeds.clear()
        await self.reader.aclose()

    async def feed(self, site: str) -> SiteFeed:
        feed = self.feeds.get(site)
        if feed is not None:
            return feed
        task = self._starting.get(site)
        if task is None:
            task = asyncio.create_task(self._start_feed(site))
            self._starting[site] = task
        try:
            return await asyncio.shield(task)
        finally:
            self._starting.pop(site, None)

    async def _start_feed(self, site: str) -> SiteFeed:
        feed = SiteFeed(self, site)
        await feed.start()
        self.feeds[site] = feed
        return feed

    async def subscribe(self, conn: Connection, topic: str, since: Since | None,
                        msg_id: int | None) -> None:
        if conn.principal is None:
            raise ProtocolError("unauthorized", "authenticate first", msg_id)
        if topic in conn.topics:
            conn.topics[topic].unsubscribe(conn, topic)
            conn.topics.pop(topic)
            metrics.SUBSCRIPTIONS.dec()
        elif len(conn.topics) >= self.settings.ws_max_subscriptions:
            raise ProtocolError("too_many_subscriptions", "at most "
                                f"{self.settings.ws_max_subscriptions} subscriptions", msg_id)
        ns, ref = resolve(topic)
        try:
            ns.authorize(conn.principal, ref)
        except Forbidden as exc:
            raise ProtocolError("forbidden", exc.message, msg_id) from exc
        try:
            feed = await self.feed(ref.source)
        except UnknownSite as exc:
            raise ProtocolError("unknown_topic", f"unknown site {ref.source}", msg_id) from exc
        except (RedisError, OSError) as exc:
            raise ProtocolError("unavailable", "the store is unreachable", msg_id, True) from exc
        conn.topics[topic] = feed
        metrics.SUBSCRIPTIONS.inc()
        try:
            await feed.subscribe(conn, ns, ref, since, msg_id)
        except ProtocolError as exc:
            self._forget(conn, topic)
            exc.id = msg_id
            raise
        except SwitchboardError as exc:
            self._forget(conn, topic)
            raise ProtocolError("unknown_topic", exc.message, msg_id) from exc
        except (RedisError, OSError) as exc:
            self._forget(conn, topic)
            raise ProtocolError("unavailable", "the store is unreachable", msg_id, True) from exc

    def _forget(self, conn: Connection, topic: str) -> None:
        if conn.topics.pop(topic, None) is not None:
            metrics.SUBSCRIPTIONS.dec()

    def unsubscribe(self, conn: Connection, topic: str, msg_id: int | None) -> None:
        feed = conn.topics.pop(topic, None)
        if feed is None:
            raise ProtocolError("not_subscribed", f"not subscribed to {topic}", msg_id)
        feed.unsubscribe(conn, topic)
        conn.outbox.drop_topic(topic)
        metrics.SUBSCRIPTIONS.dec()

    def drop(self, conn: Connection) -> None:
        for topic, feed in conn.topics.items():
            feed.unsubscribe(conn, topic)
            metrics.SUBSCRIPTIONS.dec()
        conn.topics.clear()

    # -- estimates (wired to queueing.estimate by realtime.estimates) -----------------------

    def observe(self, feed: SiteFeed, entry: Entry) -> None:
        if self.estimator is not None:
            self.estimator.observe(feed, entry)

    def estimate_ticket(self, feed: SiteFeed, ticket_id: str) -> Any:
        return None if self.estimator is None else self.estimator.ticket(feed, ticket_id)

    def estimate_service(self, feed: SiteFeed, service: str) -> Any:
        return None if self.estimator is None else self.estimator.service(feed, service)

    # -- janitor ---------------------------------------------------------------------------

    async def _janitor_loop(self) -> None:
        s = self.settings
        while True:
            await asyncio.sleep(s.trim_interval_s)
            for site, feed in list(self.feeds.items()):
                try:
                    r = await self.engine.trim(site, s.history_ttl_s * 1000,
                                               s.history_min_entries)
                    if r.get("upto"):
                        feed.trimmed = r["upto"]
                except (RedisError, OSError, SwitchboardError) as exc:
                    log.warning("trim of %s failed: %s", site, exc)
                if feed.idle_since and time.monotonic() - feed.idle_since > 60:
                    await feed.stop()
                    self.feeds.pop(site, None)
