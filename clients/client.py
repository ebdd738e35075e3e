"""The Python asyncio client for Switchboard's websocket protocol.

It connects, authenticates, subscribes, and keeps every subscription alive: when the
connection drops (network, server restart, a ``slow`` close) it reconnects with exponential
backoff and jitter and resubscribes each topic ``since`` the last offset it saw, so it gets
exactly what it missed, or a snapshot marked ``resync`` when the server's history no longer
reaches back. Messages come out of one queue in arrival order.

    async with Client("ws://127.0.0.1:8000/ws", token) as c:
        await c.subscribe("board:demo")
        async for msg in c:
            print(msg["op"], msg.get("type"), msg["data"])
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection

log = logging.getLogger("switchboard.client")

JSON = "switchboard.v1.json"
MSGPACK = "switchboard.v1.msgpack"


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


class Client:
    def __init__(self, url: str, token: str | None = None, encoding: str = "json",
                 backoff_min_s: float = 0.1, backoff_max_s: float = 5.0,
                 token_in_url: bool = True, queue_size: int = 0) -> None:
        self.url = url
        self.token = token
        self.kind = MSGPACK if encoding == "msgpack" else JSON
        self.backoff_min_s = backoff_min_s
        self.backoff_max_s = backoff_max_s
        self.token_in_url = token_in_url
        self.positions: dict[str, Position | None] = {}
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(queue_size)
        self.stats = Stats()
        self.connected = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._next_id = 0
        self._enc = msgspec.json.Encoder() if self.kind == JSON else msgspec.msgpack.Encoder()
        self._dec = msgspec.json.Decoder() if self.kind == JSON else msgspec.msgpack.Decoder()

    async def __aenter__(self) -> Client:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self, timeout_s: float = 10.0) -> None:
        self._task = asyncio.create_task(self._run(), name="switchboard-client")
        await asyncio.wait_for(self.connected.wait(), timeout_s)

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
        self.positions[topic] = since
        if self._ws is not None:
            await self._send_subscribe(topic)

    async def unsubscribe(self, topic: str) -> None:
        self.positions.pop(topic, None)
        await self.send({"op": "unsubscribe", "topic": topic})

    async def send(self, msg: dict[str, Any]) -> None:
        """Send a raw client message (publish ops such as GPS fixes)."""
        if self._ws is None:
            raise ConnectionError("not connected")
        await self._ws.send(self._frame(msg))

    async def next(self, timeout_s: float | None = None) -> dict[str, Any]:
        return await asyncio.wait_for(self.queue.get(), timeout_s)

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            yield await self.queue.get()

    # -- internals ---------------------------------------------------------------------

    def _frame(self, msg: dict[str, Any]) -> str | bytes:
        raw = self._enc.encode(msg)
        return raw.decode() if self.kind == JSON else raw

    async def _send_subscribe(self, topic: str) -> None:
        self._next_id += 1
        msg: dict[str, Any] = {"op": "subscribe", "topic": topic, "id": self._next_id}
        pos = self.positions.get(topic)
        if pos is not None:
            msg["since"] = {"epoch": pos.epoch, "offset": pos.offset}
            self.stats.resumes += 1
        await self.send(msg)

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            url = self.url
            if self.token and self.token_in_url:
                url += ("&" if "?" in url else "?") + "token=" + self.token
            try:
                async with websockets.connect(url, subprotocols=[self.kind],  # type: ignore[list-item]
                                              max_size=2**24, open_timeout=10) as ws:
                    self._ws = ws
                    attempt = 0
                    self.stats.connects += 1
                    if self.token and not self.token_in_url:
                        await ws.send(self._frame({"op": "auth", "token": self.token}))
                    for topic in list(self.positions):
                        await self._send_subscribe(topic)
                    self.connected.set()
                    async for frame in ws:
                        self._receive(frame)
            except (OSError, websockets.WebSocketException, TimeoutError) as exc:
                code = getattr(getattr(exc, "rcvd", None), "code", None)
                if code is not None:
                    self.stats.closes.append(code)
                log.debug("connection lost: %s", exc)
            finally:
                self._ws = None
                self.connected.clear()
            if self._closing:
                return
            attempt += 1
            delay = min(self.backoff_max_s, self.backoff_min_s * 2 ** (attempt - 1))
            await asyncio.sleep(delay * random.uniform(0.5, 1.5))  # jitter spreads reconnects

    def _receive(self, frame: str | bytes) -> None:
        msg = self._dec.decode(frame.encode() if isinstance(frame, str) else frame)
        op = msg.get("op")
        if op in ("snapshot", "event"):
            topic = msg["topic"]
            if topic in self.positions:
                self.positions[topic] = Position(msg["epoch"], msg["offset"])
            if op == "snapshot" and msg.get("resync"):
                self.stats.resyncs += 1
        self.queue.put_nowait(msg)
