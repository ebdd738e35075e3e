"""The hub's two ways out and the lighter plumbing, end to end (issue 7's hub work).

With uvicorn's default websocket protocol the hub writes pre-built frames straight to the
socket (``UvicornWire``); with any other server it sends through ASGI from a sender task
(forced here by refusing the wire). The
lighter protocol (``slim_protocol``) and ``App`` (``/ws`` past the middleware) are wired
by the CLI and the app factory. Each combination must deliver the same messages, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from redis.asyncio import Redis
from starlette.applications import Starlette

import realtime.app
import realtime.ws
from clients.client import Client, Position
from queueing.demo import demo_site
from queueing.engine import Actor, Engine
from queueing.model import Channel, TicketRequest
from queueing.store import Store
from realtime.auth import make_token
from realtime.hub.hub import Connection
from realtime.redisproc import EmbeddedRedis
from realtime.settings import Settings
from realtime.ws import App, SlimWebSocketsProtocol, UvicornWire
from tests.conftest import free_port

SECRET = "paths-secret-0123456789abcdef012345"
AGENT = Actor("agent:demo:1", "counter")


@contextlib.asynccontextmanager
async def serve(redis_url: str, tmp: Path, ws: Any, app_class: Any
                ) -> AsyncIterator[tuple[str, Any]]:
    port = free_port()
    settings = Settings(port=port, redis_url=redis_url, secret=SECRET, data_dir=str(tmp))
    original = realtime.ws.App
    realtime.ws.App = app_class  # type: ignore[misc]
    try:
        app = realtime.app.create_app(settings)
    finally:
        realtime.ws.App = original  # type: ignore[misc]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            ws_ping_interval=None, ws_per_message_deflate=False, ws=ws,
                            lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"ws://127.0.0.1:{port}/ws", app
    finally:
        server.should_exit = True
        await task


def _wires(app: Any) -> set[str]:
    subs = app.state.sb.hub.feeds["demo"].subs["board:demo"].values()
    conns: list[Connection] = [sub.conn for sub in subs]
    return {type(c.wire).__name__ for c in conns}


@pytest.mark.parametrize(("ws", "app_class", "wire"), [
    ("auto", Starlette, "UvicornWire"),
    ("auto", Starlette, "NoneType"),  # the ASGI path (any other server)
    ("realtime.ws:SlimWebSocketsProtocol", App, "UvicornWire"),
])
async def test_same_messages_every_way(redis: Redis, redis_server: EmbeddedRedis,
                                       tmp_path: Path, ws: Any, app_class: Any,
                                       wire: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if wire == "NoneType":
        monkeypatch.setattr(UvicornWire, "of", classmethod(lambda cls, receive: None))
    eng = Engine(Store(redis), config_ttl_s=0)
    await eng.put_site("demo", demo_site(), AGENT)
    await eng.counter_op("demo", "1", "open", AGENT)
    token = make_token(SECRET, "display", site="demo")
    async with serve(redis_server.url, tmp_path, ws, app_class) as (url, app):
        boards = [Client(url, token) for _ in range(5)]
        for b in boards:
            await b.start()
            await b.subscribe("board:demo")
            assert (await b.next(5))["op"] == "snapshot"
        assert _wires(app) == {wire}
        for _ in range(3):
            await eng.issue("demo", TicketRequest("internal", Channel.KIOSK), AGENT)
        for _ in range(3):
            await eng.counter_op("demo", "1", "call-next", AGENT)
            await eng.counter_op("demo", "1", "complete", AGENT)
        for b in boards:
            got = [await b.next(5) for _ in range(9)]
            called = [m["data"]["number"] for m in got if m.get("type") == "called"]
            assert called == ["A001", "A002", "A003"]
            offs = [tuple(map(int, m["offset"].split("-"))) for m in got]
            assert offs == sorted(offs) and len(set(offs)) == 9
        last = Position(got[-1]["epoch"], got[-1]["offset"])
        for b in boards:
            await b.close()
        await eng.issue("demo", TicketRequest("internal", Channel.KIOSK), AGENT)
        await eng.counter_op("demo", "1", "call-next", AGENT)
        async with Client(url, token) as again:  # resume: exactly what was missed
            await again.subscribe("board:demo", since=last)
            msg = await again.next(5)
            assert msg["op"] == "event" and msg["data"]["number"] == "A004"
            with pytest.raises(TimeoutError):
                await again.next(0.3)


def test_wire_refuses_what_it_cannot_write_to() -> None:
    assert UvicornWire.of(lambda: None) is None
    assert UvicornWire.of(object()) is None
    assert issubclass(SlimWebSocketsProtocol, __import__(
        "uvicorn.protocols.websockets.websockets_sansio_impl",
        fromlist=["x"]).WebSocketsSansIOProtocol)
