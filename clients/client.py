"""The Python asyncio client for Switchboard's websocket protocol.

It connects, authenticates, subscribes, and keeps every subscription alive: when the
connection drops (network, server restart, a ``slow`` close) it reconnects with exponential
backoff and jitter and resubscribes each topic ``since`` the last offset it saw, so it gets
exactly what it missed, or a snapshot marked ``resync`` when the server's history no longer
reaches back. Messages come out of one queue in arrival order.

A refusal that another try cannot change ends the client instead: a token the server does not
take (bad, expired or revoked: ``unauthorized``, close 4001) or a handshake refused (HTTP 401
or 403, e.g. an origin not allowed). The messages already queued still come out, then
iterating, ``next()`` and ``start()`` raise :class:`Refused`, which says why; the client does
not reconnect. A topic the token may not follow (``forbidden`` answering one of the client's
own subscribes) ends that subscription only: its error frame comes out as a message, and the
topic is not subscribed again on a reconnect. Other ``error`` frames (an op of yours refused,
``rate_limited`` …) are messages like any other: look at ``msg["op"]`` before reading
``msg["data"]``.

    async with Client("ws://127.0.0.1:8000/ws", token) as c:
        await c.subscribe("board:demo")
        async for msg in c:  # raises Refused if the token is refused
            if msg["op"] == "error":
                print("error", msg["code"], msg.get("message"))
            else:
                print(msg["op"], msg.get("type"), msg.get("data"))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection

log = logging.getLogger("switchboard.client")

JSON = "switchboard.v1.json"
MSGPACK = "switchboard.v1.msgpack"

# Close codes and handshake statuses that mean "this token (or origin) is refused": trying
# again with the same token would be refused again (docs/protocol.md, "Close codes").
REFUSED_CLOSES = frozenset({4001, 4003})
REFUSED_STATUSES = frozenset({401, 403})


@dataclass
class Position:
    epoch: str
    offset: str


@dataclass
class Stats:
    connects: int = 0
    resumes: int = 0
    resyncs: int = 0
    closes: list[int] = field(default_factory=list)


class Refused(Exception):
    """The server refused this client in a way no reconnect can change.

    ``code`` is the protocol's error code (``unauthorized``, or ``forbidden`` for a handshake
    refused with 403 or a close 4003); ``reason`` is
    its ``details.reason`` when it has one (``expired``, ``revoked``, ``bad_signature`` …);
    ``close_code`` the websocket close code (4001) or the handshake's HTTP status (401, 403);
    ``topic`` is kept for callers that set it (the client itself no longer does)."""

    def __init__(self, code: str, message: str = "", reason: str | None = None,
                 close_code: int | None = None, topic: str | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.reason = reason
        self.close_code = close_code
        self.topic = topic


def backoff_s(attempt: int, min_s: float, max_s: float, rng: random.Random | None = None
              ) -> float:
    """The wait before reconnect number ``attempt`` (1, 2, …) since the last connection that
    stayed up: doubling from ``min_s`` up to ``max_s``, times a jitter of 0.5–1.5 so that
    thousands of clients dropped together do not come back together."""
    delay = min(max_s, min_s * 2.0 ** max(0, attempt - 1))
    jitter = rng.uniform(0.5, 1.5) if rng is not None else random.uniform(0.5, 1.5)
    return delay * jitter


class Client:
    """``stable_s``: a connection that stayed up that long (or brought a snapshot or event)
    counts as a good one, and the next drop starts the backoff from ``backoff_min_s`` again;
    one dropped sooner makes the next wait longer."""

    def __init__(self, url: str, token: str | None = None, encoding: str = "json",
                 backoff_min_s: float = 0.1, backoff_max_s: float = 5.0,
                 token_in_url: bool = True, queue_size: int = 0,
                 stable_s: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.kind = MSGPACK if encoding == "msgpack" else JSON
        self.backoff_min_s = backoff_min_s
        self.backoff_max_s = backoff_max_s
        self.stable_s = stable_s
        self.token_in_url = token_in_url
        self.positions: dict[str, Position | None] = {}
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(queue_size)
        self.stats = Stats()
        self.connected = asyncio.Event()
        self.refused: Refused | None = None  # set when the client ended on a refusal
        self._ended = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._next_id = 0
        self._subscribes: dict[int, str] = {}  # subscribe ids not yet answered → topic
        self._got_data = False
        self._enc = msgspec.json.Encoder() if self.kind == JSON else msgspec.msgpack.Encoder()
        self._dec = msgspec.json.Decoder() if self.kind == JSON else msgspec.msgpack.Decoder()

    async def __aenter__(self) -> Client:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self, timeout_s: float = 10.0) -> None:
        """Connect: returns once a connection has opened, and raises :class:`Refused` if
        the handshake itself is refused (a refusal after the open comes from ``next()``)."""
        self._task = asyncio.create_task(self._run(), name="switchboard-client")
        connected = asyncio.ensure_future(self.connected.wait())
        ended = asyncio.ensure_future(self._ended.wait())
        try:
            await asyncio.wait({connected, ended}, timeout=timeout_s,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            connected.cancel()
            ended.cancel()
        if self.stats.connects:
            return
        if self.refused is not None:
            raise self.refused
        raise TimeoutError(f"no connection to {self.url} within {timeout_s} s")

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # -- API ---------------------------------------------------------------------------

    async def subscribe(self, topic: str, since: Position | None = None) -> None:
        """Follow ``topic``; with ``since``, resume from that position."""
        if self.refused is not None:
            raise self.refused
        self.positions[topic] = since
        if self._ws is not None:
            await self._send_subscribe(topic)

    async def unsubscribe(self, topic: str) -> None:
        self.positions.pop(topic, None)
        await self.send({"op": "unsubscribe", "topic": topic})

    async def send(self, msg: dict[str, Any]) -> None:
        """Send a raw client message (publish ops such as GPS fixes)."""
        if self.refused is not None:
            raise self.refused
        if self._ws is None:
            raise ConnectionError("not connected")
        await self._ws.send(self._frame(msg))

    async def next(self, timeout_s: float | None = None) -> dict[str, Any]:
        """The next message; raises :class:`Refused` once the queue is empty after a
        refusal."""
        return await asyncio.wait_for(self._get(), timeout_s)

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            yield await self._get()

    # -- internals ---------------------------------------------------------------------

    async def _get(self) -> dict[str, Any]:
        if self.queue.empty() and self.refused is not None:
            raise self.refused
        if self._ended.is_set():  # closed: what is queued, then nothing (as before)
            return await self.queue.get()
        getter = asyncio.ensure_future(self.queue.get())
        ended = asyncio.ensure_future(self._ended.wait())
        try:
            await asyncio.wait({getter, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ended.cancel()
            if not getter.done():
                getter.cancel()
        if getter.done() and not getter.cancelled():
            return getter.result()
        if self.refused is not None:
            raise self.refused
        return await self.queue.get()

    def _frame(self, msg: dict[str, Any]) -> str | bytes:
        raw = self._enc.encode(msg)
        return raw.decode() if self.kind == JSON else raw

    async def _send_subscribe(self, topic: str) -> None:
        self._next_id += 1
        msg: dict[str, Any] = {"op": "subscribe", "topic": topic, "id": self._next_id}
        self._subscribes[self._next_id] = topic
        pos = self.positions.get(topic)
        if pos is not None:
            msg["since"] = {"epoch": pos.epoch, "offset": pos.offset}
            self.stats.resumes += 1
        await self.send(msg)

    def _url(self) -> str:
        url = self.url
        if self.token and self.token_in_url:
            # Quoted: a token is URL-safe, but a pasted placeholder ("<display token>") with
            # spaces would make the request line invalid, a drop rather than a refusal.
            url += ("&" if "?" in url else "?") + "token=" + quote(self.token, safe="")
        return url

    async def _run(self) -> None:
        attempt = 0  # reconnects since the last connection that stayed up
        try:
            while not self._closing:
                up_since = await self._connect_once()
                if self.refused is not None:
                    log.info("refused, not reconnecting: %s", self.refused)
                    return
                if self._closing:
                    return
                # Reset only after a connection that held: one that drops at once (a
                # server failing at start-up, a proxy closing every upgrade) is retried
                # later and later rather than ten times a second.
                stayed = up_since is not None and (
                    self._got_data or time.monotonic() - up_since >= self.stable_s)
                attempt = 1 if stayed else attempt + 1
                await asyncio.sleep(backoff_s(attempt, self.backoff_min_s,
                                              self.backoff_max_s))
        finally:
            self._ended.set()

    async def _connect_once(self) -> float | None:
        """One connection, until it ends; when it opened (monotonic), None if it did not."""
        up_since: float | None = None
        self._got_data = False
        self._subscribes.clear()
        try:
            async with websockets.connect(self._url(),
                                          subprotocols=[self.kind],  # type: ignore[list-item]
                                          max_size=2**24, open_timeout=10) as ws:
                self._ws = ws
                up_since = time.monotonic()
                self.stats.connects += 1
                if self.token and not self.token_in_url:
                    await ws.send(self._frame({"op": "auth", "token": self.token}))
                for topic in list(self.positions):
                    await self._send_subscribe(topic)
                self.connected.set()
                async for frame in ws:
                    self._receive(frame)
                    if self.refused is not None:
                        break  # leaving the block closes the connection
        except websockets.InvalidStatus as exc:
            status = exc.response.status_code
            log.debug("handshake refused: HTTP %s", status)
            if status in REFUSED_STATUSES:
                self.refused = Refused("unauthorized" if status == 401 else "forbidden",
                                       f"handshake refused with HTTP {status}",
                                       close_code=status)
        except (OSError, websockets.WebSocketException, TimeoutError) as exc:
            rcvd = getattr(exc, "rcvd", None)  # the close frame, for ConnectionClosed
            code = getattr(rcvd, "code", None)
            if code is not None:
                self.stats.closes.append(code)
                if code in REFUSED_CLOSES and self.refused is None:
                    # The error frame said why; a close alone still means the same.
                    self.refused = Refused("unauthorized" if code == 4001 else "forbidden",
                                           str(getattr(rcvd, "reason", "")),
                                           close_code=code)
                elif self.refused is not None:
                    self.refused.close_code = code
            log.debug("connection lost: %s", exc)
        finally:
            self._ws = None
            self.connected.clear()
        return up_since

    def _receive(self, frame: str | bytes) -> None:
        msg = self._dec.decode(frame.encode() if isinstance(frame, str) else frame)
        op = msg.get("op")
        if op in ("snapshot", "event"):
            self._got_data = True
            topic = msg["topic"]
            if topic in self.positions:
                self.positions[topic] = Position(msg["epoch"], msg["offset"])
            if op == "snapshot" and msg.get("resync"):
                self.stats.resyncs += 1
        elif op == "error" and self._refusal(msg):
            return
        if isinstance(msg.get("id"), int):
            self._subscribes.pop(msg["id"], None)
        self.queue.put_nowait(msg)

    def _refusal(self, msg: dict[str, Any]) -> bool:
        """Whether an error frame ends the client: ``unauthorized`` (the token is refused,
        whatever op it answers). A ``forbidden`` answer to one of our subscribes ends that
        subscription only: the topic is not subscribed again on a reconnect, and the error
        frame is delivered as any other (the client's other topics go on)."""
        code, msg_id = msg.get("code"), msg.get("id")
        if code == "forbidden" and isinstance(msg_id, int):
            topic = self._subscribes.get(msg_id)
            if topic is not None:
                self.positions.pop(topic, None)
            return False
        if code != "unauthorized":
            return False
        details = msg.get("details") or {}
        self.refused = Refused(str(code), str(msg.get("message") or ""),
                               reason=details.get("reason"))
        return True
