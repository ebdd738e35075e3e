"""The ``/ws`` endpoint: handshake, authentication, limits, and the receive loop.

Everything that can go wrong with a frame is answered with an ``error`` frame and the
connection keeps serving; repeated abuse closes it (4009). Slow consumers of events are
closed with 4008 ``slow`` and resume from their last offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import struct
import time
from collections import deque
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from queueing.errors import Forbidden, SwitchboardError
from realtime import clock, metrics
from realtime.auth import LEEWAY_S, verify_until
from realtime.context import Context, ctx
from realtime.errors import store_trouble
from realtime.hub.hub import GONE, PAUSED, WRITABLE, Connection, Hub
from realtime.hub.topics import resolve
from realtime.protocol import (
    CLOSE_ABUSE,
    CLOSE_ORIGIN,
    CLOSE_UNAUTHORIZED,
    JSON,
    MSGPACK,
    Auth,
    ClientMessage,
    Error,
    Ping,
    Pong,
    ProtocolError,
    Subscribe,
    Unsubscribe,
    error_frame,
    parse,
)
from realtime.settings import Settings

log = logging.getLogger("switchboard.ws")

# Publish ops other parts add: op class → async handler(conn, msg, hub).
PUBLISH_HANDLERS: dict[type[ClientMessage], object] = {}


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """No Origin (not a browser) is fine; a browser must come from this host or the list."""
    if not origin:
        return True
    if "*" in allowed or origin in allowed:
        return True
    return urlsplit(origin).netloc == (host or "")


class Bucket:
    """Token bucket: ``rate`` messages per second, bursts up to ``burst``."""

    __slots__ = ("at", "burst", "rate", "tokens")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.at = time.monotonic()

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False

    def wait_s(self) -> float:
        """Seconds until the next message would pass (after a ``take`` that refused),
        rounded up to the millisecond: an error frame's ``details.retry_after_s``."""
        return math.ceil(max(0.0, 1 - self.tokens) / self.rate * 1000) / 1000


class Abuse:
    """Counts violations; too many within the window closes the connection."""

    __slots__ = ("limit", "times", "window_s")

    def __init__(self, limit: int = 20, window_s: float = 10.0) -> None:
        self.limit, self.window_s = limit, window_s
        self.times: deque[float] | None = None  # most connections never misbehave

    def add(self, now: float) -> bool:
        if self.times is None:
            self.times = deque()
        self.times.append(now)
        while self.times and now - self.times[0] > self.window_s:
            self.times.popleft()
        return len(self.times) > self.limit


class UvicornWire:
    """Writes whole websocket frames straight to the socket of uvicorn's websockets-sansio
    protocol (the default with ``uvicorn[standard]``), bypassing per-frame ASGI sends.

    Safe because a server frame needs no per-connection state (no mask, and no extension:
    ``of`` refuses a connection that negotiated one), each write is whole frames, and
    back-pressure, close and disconnect are read from the protocol's own flags. Anything
    else (another server, another websocket implementation) gets ``None``: the ASGI path.
    """

    __slots__ = ("proto",)

    def __init__(self, proto: Any) -> None:
        self.proto = proto

    @classmethod
    def of(cls, receive: Any) -> UvicornWire | None:
        proto = getattr(receive, "__self__", None)
        if not isinstance(proto, WebSocketsSansIOProtocol):
            return None
        sansio = getattr(proto, "conn", None)
        if (getattr(sansio, "extensions", None) != [] or getattr(proto, "transport", None) is None
                or not isinstance(getattr(proto, "writable", None), asyncio.Event)
                or not hasattr(proto, "close_sent")):
            return None
        return cls(proto)

    def accepted(self) -> None:
        """The handshake is done: uvicorn keeps its request and response (headers and
        all, ~4 KB) for the life of the connection but reads them only until the accept."""
        p = self.proto
        if getattr(p, "handshake_complete", False):
            for name in ("request", "response"):
                if hasattr(p, name):
                    setattr(p, name, None)

    def state(self) -> int:
        p = self.proto
        if p.close_sent or p.transport.is_closing():
            return GONE
        return WRITABLE if p.writable.is_set() else PAUSED

    def write(self, data: bytes) -> None:
        self.proto.transport.write(data)

    async def wait_writable(self) -> None:
        await self.proto.writable.wait()

    def abort(self) -> None:
        transport = self.proto.transport
        if not transport.is_closing() or transport.get_write_buffer_size():
            # Linger 0: a reset, so the kernel frees what it still holds for this client
            # too (megabytes a frozen client would otherwise keep queued for minutes).
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()


class WsEndpoint:
    """The ``/ws`` ASGI endpoint: handshake, authentication, then the receive loop.

    An ASGI app rather than a function endpoint so that it sees the server's own
    ``receive`` (which carries the uvicorn protocol for ``UvicornWire``) and reads frames
    from it directly: thousands of idle screens each hold this call's frames for hours, so
    every layer of coroutine between the socket and the loop costs memory per connection.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        c = ctx(websocket)
        s: Settings = c.settings
        hub: Hub = c.hub
        if not origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host"),
                              s.allowed_origins):
            await websocket.close(code=CLOSE_ORIGIN, reason="origin not allowed")
            return
        offered = scope.get("subprotocols") or []
        kind = MSGPACK if MSGPACK in offered else JSON
        wire = UvicornWire.of(receive)
        await websocket.accept(subprotocol=kind if kind in offered else None)
        if wire is not None:
            wire.accepted()
        conn = Connection(websocket.send, kind, s.ws_queue_events, wire, hub.flusher)
        metrics.CONNECTIONS.inc()
        hub.connections += 1
        hub.live.add(conn)

        async def close(code: int, reason: str) -> None:
            conn.closed = True
            with contextlib.suppress(Exception):
                await websocket.close(code=code, reason=reason)

        sender = conn.start(close)
        try:
            token = websocket.query_params.get("token")
            if token and not _authenticate(conn, c, token, None):
                await conn.close_after_flush(CLOSE_UNAUTHORIZED, "unauthorized")
                return
            await _receive_loop(receive, conn, hub, s, c)
        finally:
            hub.live.discard(conn)
            hub.drop(conn)
            conn.stop()
            if sender is not None:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sender
            metrics.CONNECTIONS.dec()
            hub.connections -= 1


def _authenticate(conn: Connection, c: Context, token: str, msg_id: int | None) -> bool:
    refused = _refused(conn, c, token)
    if refused is not None:
        conn.reply(error_frame(refused, msg_id))
        return False
    return True


def _refused(conn: Connection, c: Context, token: str) -> SwitchboardError | None:
    """Authenticate ``conn`` with ``token``: None, or why not (an ``Unauthorized`` with
    its ``details.reason``, as HTTP answers the same token)."""
    try:
        principal, exp = verify_until(c.secret, token, c.revocations)
    except SwitchboardError as exc:
        metrics.AUTH_FAILURES.inc()
        return exc
    conn.principal = principal
    # The connection lives as long as HTTP accepts its token (exp plus the same leeway,
    # realtime.auth.verify_until): then it is told and closed (a fresh `auth` before then
    # moves the moment).
    if conn.expiry is not None:
        conn.expiry.cancel()
    conn.expiry = asyncio.get_running_loop().call_later(
        expires_in_s(exp, clock.now_s()), conn.expire, CLOSE_UNAUTHORIZED, "token expired")
    return None


def expires_in_s(exp: float, now: float) -> float:
    """Seconds until a token with this ``exp`` stops being accepted (HTTP's rule)."""
    return max(0.0, exp + LEEWAY_S - now)


def _covers(conn: Connection, c: Context, msg: Auth) -> None:
    """A new token on a connection that follows topics must allow every one of them: else
    a public display token would keep an agent's counter feed flowing after the agent's own
    token expired or was revoked. Refused (``forbidden``): the connection keeps its token,
    its topics and its expiry; unsubscribe first to change scope."""
    try:
        principal, _ = verify_until(c.secret, msg.token, c.revocations)
    except SwitchboardError:
        return  # an invalid token: _refused says why
    for topic in conn.topics:
        ns, ref = resolve(topic)
        try:
            ns.authorize(principal, ref)
        except Forbidden as exc:
            raise ProtocolError("forbidden", f"this token may not follow {topic} "
                                f"({exc.message}); unsubscribe from it first", msg.id,
                                details=exc.details) from exc


async def _receive_loop(receive: Receive, conn: Connection, hub: Hub, s: Settings,
                        c: Context) -> None:
    bucket = Bucket(s.ws_rate_per_s, s.ws_rate_burst)
    abuse = Abuse()
    auth_deadline = time.monotonic() + s.ws_auth_timeout_s
    while not conn.closed:
        if conn.principal is not None:
            message = await receive()
        else:
            try:
                message = await asyncio.wait_for(
                    receive(), max(0.0, auth_deadline - time.monotonic()))
            except TimeoutError:
                conn.reply(Error("unauthorized", "no auth within "
                                 f"{s.ws_auth_timeout_s:g} s", False,
                                 details={"reason": "missing"}))
                await conn.close_after_flush(CLOSE_UNAUTHORIZED, "unauthorized")
                return
        if message["type"] != "websocket.receive":
            return  # websocket.disconnect
        frame = message.get("text")
        if frame is None:
            frame = message.get("bytes") or b""
        now = time.monotonic()
        try:
            if not bucket.take(now):
                raise ProtocolError("rate_limited", f"more than {s.ws_rate_per_s} messages/s",
                                    temporary=True,
                                    details={"retry_after_s": bucket.wait_s()})
            msg = parse(frame, conn.kind, s.ws_max_frame_bytes)
            await _handle(msg, conn, hub, c)
        except ProtocolError as exc:
            metrics.PROTOCOL_ERRORS.labels(exc.code).inc()
            conn.reply(exc.to_message())
            if exc.code != "unavailable" and abuse.add(now):
                await conn.close_after_flush(CLOSE_ABUSE, "abuse")
                return
        except SwitchboardError as exc:
            conn.reply(error_frame(exc, getattr(msg, "id", None)))
        except Exception as exc:
            # Redis down, busy or refusing writes: what HTTP says (503), not a traceback.
            body = store_trouble(exc, "on a websocket frame")
            if body is None:
                log.exception("error handling a websocket frame")
                conn.reply(Error("internal", "internal error; it has been logged", True))
            else:
                conn.reply(Error(str(body["code"]), str(body["message"]), True,
                                 getattr(msg, "id", None),
                                 body.get("details")))  # type: ignore[arg-type]


async def _handle(msg: ClientMessage, conn: Connection, hub: Hub, c: Context) -> None:
    if isinstance(msg, Auth):
        if conn.topics:
            _covers(conn, c, msg)
        refused = _refused(conn, c, msg.token)
        if refused is not None:  # an error like any other: repeated, it closes (4009)
            raise ProtocolError("unauthorized", refused.message, msg.id,
                                details=refused.details)
        conn.reply(Pong(msg.id))
        return
    if isinstance(msg, Ping):
        conn.reply(Pong(msg.id))
        return
    if conn.principal is None:
        raise ProtocolError("unauthorized", "send {op: auth, token} first",
                            getattr(msg, "id", None), details={"reason": "missing"})
    if isinstance(msg, Subscribe):
        await hub.subscribe(conn, msg.topic, msg.since, msg.id)
    elif isinstance(msg, Unsubscribe):
        hub.unsubscribe(conn, msg.topic, msg.id)
    else:
        handler = PUBLISH_HANDLERS.get(type(msg))
        if handler is None:
            raise ProtocolError("unknown_op", "this op is not served here",
                                getattr(msg, "id", None))
        await handler(conn, msg, hub)  # type: ignore[operator]


ROUTES = [WebSocketRoute("/ws", WsEndpoint())]


# -- lighter per-connection plumbing (wired by realtime/app.py and realtime/cli.py) --------

class App(Starlette):
    """Starlette, with ``/ws`` handed straight to ``WsEndpoint``: a websocket spends hours
    idle, and each middleware layer it passes (error handler, exception handler, router)
    holds a coroutine frame and a request object for all that time (~3 KB per screen).
    Those layers do nothing for this route: its errors are answered on the socket."""

    _ws = WsEndpoint()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == "/ws":
            scope["app"] = self
            await self._ws(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class _Inbox:
    """What uvicorn's protocol uses of ``asyncio.Queue`` (put_nowait, get, empty), without
    the three deques and the Event an ``asyncio.Queue`` allocates up front (~3 KB)."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class _Flag(asyncio.Event):
    """``asyncio.Event`` with a list for its waiters: an empty deque costs 760 bytes, an
    empty list 56, and a socket's "writable" flag almost never has a waiter."""

    def __init__(self) -> None:
        super().__init__()
        self._waiters = []  # type: ignore[assignment]


class SlimWebSocketsProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol with a lighter receive queue and writable flag
    (``uvicorn.Config(ws="realtime.ws:SlimWebSocketsProtocol")``); behaviour unchanged.
    Measured with 3,000 idle screens: 24.7 KB per connection as shipped, 20.8 with this,
    17.9 with this and ``App``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = _Flag()
        self.writable.set()

    def keepalive_timeout(self) -> None:
        """No pong in time: uvicorn closes with 1011 "keepalive ping timeout" and says so
        only at TRACE level. Counted and logged here, as a slow close is."""
        if not (self.close_sent or self.transport.is_closing()):
            metrics.PING_TIMEOUTS.inc()
            _ping_timeouts.note(time.monotonic(), self.client, self.ping_timeout)
        super().keepalive_timeout()


class _PingTimeouts:
    """An INFO line for ping-timeout closes, one every 10 s at most, with how many there
    were since the last (a network outage closes every screen at once)."""

    __slots__ = ("at", "unlogged")

    def __init__(self) -> None:
        self.at = -math.inf
        self.unlogged = 0

    def note(self, now: float, client: Any, timeout_s: float | None) -> None:
        self.unlogged += 1
        if now - self.at < 10:
            return
        who = f"{client[0]}:{client[1]}" if client else "a client"
        more = f" (and {self.unlogged - 1} more since the last such line)" if (
            self.unlogged > 1) else ""
        log.info("websocket of %s closed (1011): no answer to a keepalive ping within "
                 "%g s%s", who, timeout_s or 0, more)
        self.at, self.unlogged = now, 0


_ping_timeouts = _PingTimeouts()


def slim_protocol() -> type[Any]:
    return SlimWebSocketsProtocol
