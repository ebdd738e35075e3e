"""The hub of one server process: feeds per site, connections, the trim janitor."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from queueing import keys, redisconn
from queueing.engine import Engine
from queueing.errors import Forbidden, SwitchboardError, UnknownSite
from realtime import clock, metrics
from realtime.auth import Principal
from realtime.errors import store_trouble
from realtime.hub import area_board, booking_topics, queue_topics  # noqa: F401 - register namespaces
from realtime.hub.entry import Entry, parse_id
from realtime.hub.feed import SiteFeed
from realtime.hub.outbox import Outbox
from realtime.hub.topics import NAMESPACES, Namespace, Ref, resolve
from realtime.protocol import (
    CLOSE_UNAUTHORIZED,
    JSON,
    Error,
    Event,
    ProtocolError,
    Since,
    Snapshot,
    encode,
    ws_frame,
)
from realtime.settings import Settings

log = logging.getLogger("switchboard.hub")


class Wire(Protocol):
    """Direct access to a websocket's socket (see realtime.ws.UvicornWire)."""

    def state(self) -> int: ...  # WRITABLE, PAUSED or GONE

    def write(self, data: bytes) -> None: ...

    async def wait_writable(self) -> None: ...

    def abort(self) -> None: ...  # drop the socket now, with whatever it still holds


WRITABLE, PAUSED, GONE = 0, 1, 2
# A connection closed as slow whose client does not read even the close within this long
# is dropped (its socket's buffers held memory for as long as the client liked).
ABORT_SLOW_AFTER_S = 5.0
# Held by the process trimming the sites no feed follows, for one trim round.
TRIM_SWEEP_LOCK = f"{keys.ROOT}:hub:trim-unwatched"
# The hub's table sizes go to /metrics (switchboard_hub_table_entries) this often.
CENSUS_EVERY_S = 5


class Flusher:
    """Writes the frames queued for connections once per event-loop iteration.

    A feed delivers a whole XREAD batch without yielding, so every connection gets one
    write for all the messages of the batch instead of one per message: under load the
    batches grow and the writes per message shrink by themselves."""

    def __init__(self) -> None:
        self._dirty: list[Connection] = []
        self._scheduled = False

    def add(self, conn: Connection) -> None:
        self._dirty.append(conn)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._run)

    def _run(self) -> None:
        self._scheduled = False
        dirty, self._dirty = self._dirty, []
        for conn in dirty:
            try:
                conn.flush()
            except Exception:  # one broken socket must not keep the others waiting
                log.exception("could not write to a websocket")
                conn.stop()


class Connection:
    """One websocket's server side: its principal, subscriptions and outgoing queue.

    Frames leave one of two ways. With a ``wire`` (uvicorn's websockets-sansio protocol,
    no extension negotiated), a message is encoded once *as a complete websocket frame*
    and that one bytes object is written to every subscriber's socket by the ``Flusher``:
    no task and no wake-up per connection per message. Without one, a sender task per
    connection sends through ASGI. Either way everything goes through the ``Outbox``,
    which holds what a paused socket cannot take yet (merging state, bounding events).
    """

    __slots__ = ("__weakref__", "_closer", "_closing", "_drain", "_fkey", "_flusher", "_send",
                 "_space", "closed", "dirty", "expiry", "kind", "outbox", "principal", "since",
                 "slow", "topics", "wake", "wire")

    def __init__(self, send: Callable[[dict[str, Any]], Any], kind: str, max_events: int,
                 wire: Wire | None = None, flusher: Flusher | None = None) -> None:
        self._send = send
        self.kind = kind
        self.principal: Principal | None = None
        self.topics: dict[str, SiteFeed] = {}
        self.outbox = Outbox(max_events)
        self.wire = wire if flusher is not None else None
        self._flusher = flusher
        # The cache key of this connection's frame encoding in a message's frames dict.
        self._fkey = kind + "+ws" if self.wire is not None else kind
        # The ASGI path's sender waits on ``wake``; the wire path needs no event at all.
        self.wake: asyncio.Event | None = None if self.wire is not None else asyncio.Event()
        self._space: asyncio.Event | None = None  # made when a replay must wait for room
        self._drain: asyncio.Task[None] | None = None
        # The close after an expired or revoked token: not ``_drain``, which ``flush`` reads
        # as "wait for the socket" (it would hold back the error frame the close waits for).
        self._closing: asyncio.Task[None] | None = None
        self._closer: Callable[[int, str], Any] | None = None
        self.dirty = False
        self.slow = False
        self.closed = False
        self.expiry: asyncio.TimerHandle | None = None  # when the token stops being good
        # When the socket opened (epoch s, this process's clock): the devices list
        # (realtime/devices_api.py) says since when a board or kiosk has been connected.
        self.since = clock.now_s()

    def _encode(self, msg: Any) -> bytes | str:
        raw = encode(msg, self.kind)
        if self.wire is not None:
            return ws_frame(raw, self.kind)
        return raw.decode() if self.kind == JSON else raw

    def deliver(self, msg: Event | Snapshot | Error | Any, frames: dict[str, Any],
                is_event: bool, answer: bool = False) -> None:
        """Queue one message; frames caches its encoding for the other subscribers.
        ``answer``: it replies to the client's frame, so an unsubscribe cannot withdraw it."""
        if self.closed or self.slow:
            return
        key = self._fkey
        frame = frames.get(key)
        if frame is None:
            frame = frames[key] = self._encode(msg)
        if not self.outbox.push(frame, getattr(msg, "topic", ""), is_event, answer):
            self.slow = True
            metrics.SLOW_CLOSES.inc()
        self._kick()

    def mark_slow(self) -> None:
        """Close as slow (4008): too much waits for this client (a resume it does not read
        while live events pile up behind it)."""
        if self.closed or self.slow:
            return
        self.slow = True
        metrics.SLOW_CLOSES.inc()
        self._kick()

    def _kick(self) -> None:
        if self.wire is None:
            self.wake.set()  # type: ignore[union-attr]
        elif not self.dirty:
            self.dirty = True
            self._flusher.add(self)  # type: ignore[union-attr]

    async def deliver_paced(self, msg: Event | Snapshot, is_event: bool = True) -> None:
        """Queue a replayed message, waiting while the event lane is half full: a resume
        may carry thousands of missed events, which must not count as being slow."""
        while (not self.closed and not self.slow
               and self.outbox.events >= self.outbox.max_events // 2):
            if self._space is None:
                self._space = asyncio.Event()
            self._space.clear()
            await self._space.wait()
        self.deliver(msg, {}, is_event)

    def reply(self, msg: Any) -> None:
        """A direct answer (error, pong): always goes out, in order with the rest."""
        self.deliver(msg, {}, True)

    def _room(self) -> None:
        if self._space is not None and self.outbox.events < self.outbox.max_events // 2:
            self._space.set()

    # -- the wire path ---------------------------------------------------------------------

    def flush(self) -> None:
        """Write what waits (wire path): now, or when the socket takes writes again."""
        self.dirty = False
        wire = self.wire
        if wire is None or self.closed:
            return
        if self.slow and wire.state() != GONE:
            # Also while the socket is paused: a client that stopped reading would never
            # let a wait for room end, and would hold its buffers for ever.
            if self._drain is not None:
                self._drain.cancel()
                self._drain = None
            self._close_slow(wire)
            return
        if self._drain is not None:
            return
        state = wire.state()
        if state == GONE:
            self.outbox.take()
            self.closed = True
            self._room()
            if self._space is not None:
                self._space.set()
            return
        if self.slow:
            self._close_slow(wire)
            return
        if state == PAUSED:
            # The client reads slower than we write: keep merging state in the outbox
            # until the socket drains (as the ASGI path does while ``send`` waits).
            self._drain = asyncio.create_task(self._wait_then_flush(wire))
            return
        frames = self.outbox.take()
        if frames:
            wire.write(frames[0] if len(frames) == 1 else b"".join(frames))  # type: ignore[arg-type]
        self._room()

    async def _wait_then_flush(self, wire: Wire) -> None:
        try:
            await wire.wait_writable()
        finally:
            if self._drain is asyncio.current_task():
                self._drain = None
        self.flush()

    def _close_slow(self, wire: Wire) -> None:
        from realtime.protocol import CLOSE_SLOW
        self.outbox.take()
        self.closed = True
        self._room()
        if self._space is not None:
            self._space.set()
        wire.write(ws_frame(encode(_SLOW, self.kind), self.kind))
        if self._closer is not None:
            self._drain = asyncio.create_task(self._closer(CLOSE_SLOW, "slow"))
        asyncio.get_running_loop().call_later(ABORT_SLOW_AFTER_S, wire.abort)

    def start(self, close: Callable[[int, str], Any]) -> asyncio.Task[None] | None:
        """Begin sending; returns the ASGI path's sender task (None on the wire path)."""
        self._closer = close
        if self.wire is not None:
            return None
        return asyncio.create_task(self.sender(close))

    def expire(self, code: int, reason: str,
               why: str = "the token has expired; connect again with a fresh one",
               cause: str = "expired") -> None:
        """The token expired (or was revoked): no more messages, an ``unauthorized``
        error (``details.reason``: ``cause``, as HTTP would answer the token), then close."""
        if self.expiry is not None:  # revoked before it expired: the timer holds this
            self.expiry.cancel()  # connection until then (a year for a kiosk's token)
        self.expiry = None
        if self.closed:
            return
        self.principal = None  # no new subscription; the close ends the rest
        self.reply(Error("unauthorized", why, False, details={"reason": cause}))
        if self._closer is not None:
            self._closing = asyncio.create_task(self.close_after_flush(code, reason))

    async def close_after_flush(self, code: int, reason: str) -> None:
        """Close with ``code`` once what waits (an error frame) has gone out, or 0.5 s."""
        for _ in range(50):
            if not len(self.outbox):
                break
            await asyncio.sleep(0.01)
        if self._closer is not None:
            await self._closer(code, reason)

    def stop(self) -> None:
        """The socket is gone: forget what waits and wake anyone waiting for room."""
        if self.principal is not None and self.principal.token_id:
            gone(self.principal.token_id)
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
        self.closed = True
        if self.wake is not None:
            self.wake.set()
        if self._space is not None:
            self._space.set()
        for task in (self._drain, self._closing):
            if task is not None and not task.done() and task is not asyncio.current_task():
                task.cancel()

    # -- the ASGI path ---------------------------------------------------------------------

    async def sender(self, close: Callable[[int, str], Any]) -> None:
        from realtime.protocol import CLOSE_SLOW
        wake = self.wake
        assert wake is not None
        key = "text" if self.kind == JSON else "bytes"
        while not self.closed:
            await wake.wait()
            wake.clear()
            if self.slow:
                raw = encode(_SLOW, self.kind)
                with contextlib.suppress(Exception):
                    await self._send({"type": "websocket.send",
                                      key: raw.decode() if self.kind == JSON else raw})
                await close(CLOSE_SLOW, "slow")
                return
            while (frame := self.outbox.pop()) is not None:
                await self._send({"type": "websocket.send", key: frame})
                self._room()
                if self.slow:
                    break
            if self._space is not None:
                self._space.set()


# When this process last had a socket of a token close (token id -> epoch s): the devices
# list's last_seen of a board closed a moment ago (the registry's is written at most every
# 5 min). Bounded: past GONE_KEEP entries the older half goes.
GONE_AT: dict[str, float] = {}
GONE_KEEP = 4096


def gone(token_id: str) -> None:
    GONE_AT.pop(token_id, None)  # re-inserted last: the dict stays in closing order
    GONE_AT[token_id] = clock.now_s()
    if len(GONE_AT) > GONE_KEEP:
        for k in list(GONE_AT)[:GONE_KEEP // 2]:
            del GONE_AT[k]


_SLOW = Error("slow", "could not keep up with events; resume from your last offset", True)


def _unknown_source(ns: Namespace, ref: Ref) -> str:
    """An ``unknown_topic`` message naming what is missing: a dispatch topic (``region:``,
    ``tech:``, ``job:``, ``org:``) lives in a region, the others in a site."""
    if ns.feed_kind != "region":
        return f"unknown site {ref.source}"
    if ns.name == "region":
        return f"unknown region {ref.source}"
    return f"unknown region {ref.source} (of {ref.topic})"


class GcPolicy:
    """Keeps the cyclic garbage collector's full passes short while thousands of sockets
    stay open.

    Each connection leaves ~120 objects the collector tracks; a full pass over 5,000
    connections took 380 ms here (measured), and every message in flight waited for it.
    Once connections settle (grown by 5 % since last time), their long-lived objects are
    moved out of the collector's sight (``gc.freeze``): passes then take ~10 ms. Every
    ``full_every_s``, or when a quarter of the connections have gone, everything is put
    back for one full pass, so the cycles of closed connections are still reclaimed.
    Below ``min_connections`` it does nothing (and undoes what it did).
    """

    def __init__(self, min_connections: int = 1000, full_every_s: float = 600.0) -> None:
        self.min_connections = min_connections
        self.full_every_s = full_every_s
        self.frozen_at = 0  # connections when last frozen (0: nothing frozen)
        self.full_at = time.monotonic()

    def step(self, connections: int, now: float) -> str:
        """One look (each second): ``"freeze"``, ``"full"``, ``"thaw"`` or ``""``."""
        if connections < self.min_connections:
            if self.frozen_at:
                self.frozen_at = 0
                gc.unfreeze()
                return "thaw"
            return ""
        if now - self.full_at > self.full_every_s or connections < 0.75 * self.frozen_at:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self.frozen_at, self.full_at = connections, now
            return "full"
        if connections > 1.05 * self.frozen_at:
            gc.freeze()
            self.frozen_at = connections
            return "freeze"
        return ""

    def stop(self) -> None:
        if self.frozen_at:
            self.frozen_at = 0
            gc.unfreeze()


class Hub:
    def __init__(self, settings: Settings, redis: Redis, engine: Engine) -> None:
        self.settings = settings
        self.redis = redis
        self.engine = engine
        # Blocking XREADs hold a connection each: give them their own pool.
        self.reader: Redis = redisconn.connect(settings.redis_url or "", max_connections=10_000)
        # Feeds by kind: "site" (a queue site's stream), "region" (dispatch) — the kind a
        # topic's namespace declares (``feed_kind``). A site and a region may share an id.
        self.feeds: dict[str, SiteFeed] = {}
        self.region_feeds: dict[str, SiteFeed] = {}
        self._starting: dict[tuple[str, str], asyncio.Task[SiteFeed]] = {}
        self._janitor: asyncio.Task[None] | None = None
        self.estimator: Any = None  # set by the estimate integration
        self.flusher = Flusher()
        self.connections = 0  # open websockets (kept by realtime.ws)
        self.live: set[Connection] = set()  # the same sockets, to close on a revocation
        self.gc = GcPolicy()
        self._gc_task: asyncio.Task[None] | None = None

    @property
    def site_namespaces(self) -> list[Namespace]:
        return [ns for ns in NAMESPACES.values() if ns.feed_kind == "site"]

    def _feeds(self, kind: str) -> dict[str, SiteFeed]:
        return self.region_feeds if kind == "region" else self.feeds

    async def start(self) -> None:
        self._janitor = asyncio.create_task(self._janitor_loop(), name="hub-janitor")
        self._gc_task = asyncio.create_task(self._gc_loop(), name="hub-gc")

    async def _gc_loop(self) -> None:
        tick = 0
        while True:
            await asyncio.sleep(1.0)
            tick += 1
            if tick % CENSUS_EVERY_S == 0:
                for table, n in self.census().items():
                    metrics.HUB_TABLES.labels(table).set(n)
                metrics.site_gauges(self)
            t0 = time.perf_counter()
            what = self.gc.step(self.connections, time.monotonic())
            if what == "full":
                log.info("full garbage collection with %d connections: %.0f ms",
                         self.connections, (time.perf_counter() - t0) * 1000)

    def census(self) -> dict[str, int]:
        """Entries in this process's tables: with clients coming and going for days, each
        must follow the clients, not the time (a leak shows here first)."""
        feeds = [*self.feeds.values(), *self.region_feeds.values()]
        out = {"connections": len(self.live), "feeds": len(feeds),
               "feeds_starting": len(self._starting), "asyncio_tasks": len(asyncio.all_tasks())}
        for feed in feeds:
            for table, n in feed.sizes().items():
                out[table] = out.get(table, 0) + n
        # Bounded by design, shown so that memory growth can be told from a leak: tokens
        # verified and remembered (an LRU of 8,192), and the interpreter's allocated blocks.
        from realtime.auth import _verified
        out["token_cache"] = _verified.cache_info().currsize
        out["python_blocks"] = sys.getallocatedblocks()
        est = self.estimator
        if est is not None:
            out["estimate_sites"] = len(est.sites)
            out["estimates_sent"] = sum(len(s.sent) for s in est.sites.values())
        return out

    async def stop(self) -> None:
        for task in (self._janitor, self._gc_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.gc.stop()
        for feeds in (self.feeds, self.region_feeds):
            for feed in list(feeds.values()):
                await feed.stop()
            feeds.clear()
        await self.reader.aclose()

    async def feed(self, key: str, kind: str = "site") -> SiteFeed:
        """The running feed of site (or region) ``key``, started on first use."""
        feed = self._feeds(kind).get(key)
        if feed is not None:
            return feed
        task = self._starting.get((kind, key))
        if task is None:
            task = asyncio.create_task(self._start_feed(key, kind))
            self._starting[(kind, key)] = task
        try:
            return await asyncio.shield(task)
        finally:
            self._starting.pop((kind, key), None)

    async def _start_feed(self, key: str, kind: str) -> SiteFeed:
        if kind == "region":
            from realtime.hub.dispatch_topics import RegionFeed
            feed: SiteFeed = RegionFeed(self, key)
        else:
            feed = SiteFeed(self, key)
        await feed.start()
        self._feeds(kind)[key] = feed
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
        try:
            ns, ref = resolve(topic)
        except ProtocolError as exc:
            exc.id = msg_id  # the namespaces' parsers do not know the frame's id
            raise
        try:
            ns.authorize(conn.principal, ref)
        except Forbidden as exc:
            raise ProtocolError("forbidden", exc.message, msg_id, details=exc.details) from exc
        try:
            feed = await self.feed(ref.source, ns.feed_kind)
            if conn.principal is None or conn.closed:  # revoked or expired meanwhile
                raise ProtocolError("unauthorized", "the token is no longer valid", msg_id)
        except UnknownSite as exc:
            raise ProtocolError("unknown_topic", _unknown_source(ns, ref), msg_id) from exc
        except (RedisError, OSError) as exc:
            raise _unavailable(exc, msg_id) from exc
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
            raise ProtocolError("unknown_topic", exc.message, msg_id,
                                details=exc.details) from exc
        except (RedisError, OSError) as exc:
            self._forget(conn, topic)
            raise _unavailable(exc, msg_id) from exc

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

    def close_revoked(self, refusal: Callable[[Principal], str | None]) -> int:
        """Close every socket whose token ``refusal`` now refuses (a revocation): it gets
        nothing more, not even what already waits for it, then ``unauthorized`` and 4001."""
        closed = 0
        for conn in list(self.live):
            why = None if conn.principal is None else refusal(conn.principal)
            if why is None:
                continue
            for topic in conn.topics:
                conn.outbox.drop_topic(topic)
            self.drop(conn)
            conn.expire(CLOSE_UNAUTHORIZED, "token revoked", why, "revoked")
            closed += 1
        if closed:
            log.info("closed %d websocket(s) holding revoked tokens", closed)
        return closed

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
            for feeds in (self.feeds, self.region_feeds):
                for key, feed in list(feeds.items()):
                    await self._trim(feed, key)
                    refresh = getattr(feed, "refresh", None)
                    if refresh is not None:
                        refresh()  # estimates time alone moved (a counter nobody is at)
                    if feed.idle_since and time.monotonic() - feed.idle_since > 60:
                        await feed.stop()
                        feeds.pop(key, None)
            await self._trim_unwatched()

    async def _trim_unwatched(self) -> None:
        """Trim the streams of the sites this process has no feed for. Only a feed's trim
        ran before, and a process has a site's feed only while someone watches the site or
        once it issued a ticket there: what other paths append (appointments booked online,
        the worker's reminders and day close, counters working after the screens went off)
        stayed until a feed came back, and a site taking only bookings kept every event for
        ever. One process a round does it (a lock that lasts the round); trimming a site
        twice is harmless. Regions without a feed are trimmed by the worker
        (dispatch/tasks.py)."""
        s = self.settings
        try:
            if not await self.redis.set(TRIM_SWEEP_LOCK, b"1", nx=True,
                                        px=int(s.trim_interval_s * 1000)):
                return
            for site in await self.engine.sites():
                if site not in self.feeds:
                    await self.engine.trim(site, s.history_ttl_s * 1000, s.history_min_entries)
        except Exception as exc:  # the next round tries again; the loop must not stop
            log.warning("trim of the unwatched sites failed: %s", exc)

    async def _trim(self, feed: SiteFeed, key: str) -> None:
        s = self.settings
        # A feed kind with its own trim rule (a region keeps its KPI checkpoint) has trim().
        own = getattr(feed, "trim", None)
        try:
            if own is not None:
                r = await own(s.history_ttl_s * 1000, s.history_min_entries)
            else:
                r = await self.engine.trim(key, s.history_ttl_s * 1000, s.history_min_entries)
            if r.get("upto"):  # the mark only rises (an erasure may have set it higher)
                feed.trimmed = max(feed.trimmed, r["upto"], key=parse_id)
            # Topics the mark has passed get their state at a kept offset: a page that
            # missed nothing resumes after a drop or a restart instead of resyncing.
            moved = await feed.keep_in_history()
            if moved:
                log.debug("trim of %s: %d quiet topic(s) moved past the trim mark", key, moved)
        except Exception as exc:  # a region's trim raises its own errors; keep the loop
            log.warning("trim of %s failed: %s", key, exc)


def _unavailable(exc: BaseException, msg_id: int | None) -> ProtocolError:
    """A subscription the store could not serve: what HTTP says of the same trouble (busy,
    refusing writes: ``details.reason``), else that it is unreachable. Logged as HTTP logs it."""
    body = store_trouble(exc, "on a subscription")
    if body is None:
        return ProtocolError("unavailable", "the store is unreachable", msg_id, True)
    details = body.get("details")
    return ProtocolError("unavailable", str(body["message"]), msg_id, True,
                         details=details if isinstance(details, dict) else None)
