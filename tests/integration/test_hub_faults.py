"""The hub under faults a hostile network and bad clients bring (a fresh-eyes review): a
client that never reads, a long resume nobody reads, a token that expires mid-connection, a
Redis restored from an older copy, a Redis that is down, deep and out-of-range frames."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import websockets
from redis.asyncio import Redis

from clients.client import Client, Position
from queueing import keys
from queueing.demo import demo_site
from queueing.engine import Actor, Engine
from queueing.model import Channel, TicketRequest
from queueing.store import Store
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server, running_server
from tests.integration.test_hub import wide, ws_url

__all__ = ["wide"]  # the fixture (a server with a queue of 50 per connection)

AGENT = Actor("agent:test", "counter")


def _raw_ws(server: Server, token: str, topic: str, since: dict[str, str] | None = None
            ) -> socket.socket:
    """A websocket opened by hand on a socket with a small receive buffer, subscribed, and
    then never read: what a frozen client looks like to the server."""
    sock = socket.create_connection(("127.0.0.1", server.settings.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert b" 101 " in head.split(b"\r\n")[0], head
    body = json.dumps({"op": "subscribe", "topic": topic,
                       **({"since": since} if since else {})}).encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(body))
    assert len(body) < 126
    sock.sendall(bytes((0x81, 0x80 | len(body))) + mask + masked)
    return sock


def _dropped(sock: socket.socket, within_s: float) -> bool:
    """True once the server has closed or reset the socket (reading what it holds)."""
    sock.settimeout(0.2)
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if sock.recv(1 << 20) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


async def _connections(server: Server) -> float:
    text = (await server.client.get("/metrics")).text
    line = next(x for x in text.splitlines() if x.startswith("switchboard_connections "))
    return float(line.split()[1])


async def _until_no_connections(server: Server, within_s: float = 15.0) -> None:
    for _ in range(int(within_s * 10)):
        if await _connections(server) == 0:
            return
        await asyncio.sleep(0.1)


async def test_a_client_that_never_reads_is_dropped(wide: tuple[Server, Engine]) -> None:
    server, eng = wide
    token = server.token("display", site="wide")
    sock = await asyncio.to_thread(_raw_ws, server, token, "board:wide")
    try:
        await asyncio.sleep(0.3)
        for _ in range(400):  # every call an event: far more than its queue of 50
            await eng.issue("wide", TicketRequest("s000", Channel.KIOSK), AGENT)
            await eng.counter_op("wide", "1", "call-next", AGENT)
            await eng.counter_op("wide", "1", "complete", AGENT)
        # It never reads, so the close handshake cannot happen: the server drops it.
        await _until_no_connections(server)
        assert await _connections(server) == 0
        assert await asyncio.to_thread(_dropped, sock, 15.0)
    finally:
        sock.close()


async def _toggle(eng: Engine, n: int) -> None:
    for _ in range(n):  # two counter events each
        await eng.counter_op("wide", "1", "pause", AGENT)
        await eng.counter_op("wide", "1", "open", AGENT)


async def _seen_then_toggled(server: Server, eng: Engine, token: str, n: int
                             ) -> dict[str, Any]:
    """A board's snapshot of site "wide", then ``n`` pause/open pairs it did not see."""
    async with Client(ws_url(server), token) as board:
        await board.subscribe("board:wide")
        snap: dict[str, Any] = await board.next(5)
    await _toggle(eng, n)
    return snap


async def test_a_long_resume_is_read_in_chunks_once_and_in_order(
        wide: tuple[Server, Engine]) -> None:
    server, eng = wide
    token = server.token("display", site="wide")
    n = 1300  # more than two chunks of history, and far more than the queue of 50
    snap = await _seen_then_toggled(server, eng, token, n)
    async with Client(ws_url(server), token) as board:
        await board.subscribe("board:wide", since=Position(snap["epoch"], snap["offset"]))
        got = [await board.next(5) for _ in range(2 * n)]
        assert all(m["op"] == "event" and m["type"] == "counter" for m in got)
        assert [m["data"]["counter"]["state"] for m in got] == ["paused", "open"] * n
        offs = [tuple(map(int, m["offset"].split("-"))) for m in got]
        assert offs == sorted(offs) and len(set(offs)) == len(offs)
        assert "waiting" in got[-1]["data"]  # the current state rides on the last one
        with pytest.raises(TimeoutError):
            await board.next(0.3)


async def test_a_resume_nobody_reads_while_events_pile_up_is_closed(
        wide: tuple[Server, Engine]) -> None:
    server, eng = wide
    token = server.token("display", site="wide")
    snap = await _seen_then_toggled(server, eng, token, 600)
    sock = await asyncio.to_thread(_raw_ws, server, token, "board:wide",
                                   {"epoch": snap["epoch"], "offset": snap["offset"]})
    try:
        await asyncio.sleep(0.5)
        await _toggle(eng, 300)  # live events behind the unread replay
        await _until_no_connections(server)
        assert await _connections(server) == 0, "closed as slow, not buffered without end"
    finally:
        sock.close()


async def test_an_expired_token_ends_the_connection(server: Server) -> None:
    from realtime.auth import LEEWAY_S, make_token
    from tests.integration.conftest import SECRET
    # Minted a leeway ago: the socket keeps it until exp + LEEWAY_S, 2 s from now.
    token = make_token(SECRET, "display", site="demo", ttl_s=2, now=time.time() - LEEWAY_S)
    async with websockets.connect(f"{ws_url(server)}?token={token}") as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo", "id": 1}))
        assert json.loads(await ws.recv())["op"] == "snapshot"
        # The error frame arrives before the close (it was held back, and lost, while the
        # close waited for it to go out).
        msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert msg["op"] == "error" and msg["code"] == "unauthorized"
        assert "expired" in msg["message"]
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
    # A fresh `auth` before expiry keeps the connection going.
    short = make_token(SECRET, "display", site="demo", ttl_s=2, now=time.time() - LEEWAY_S)
    async with websockets.connect(f"{ws_url(server)}?token={short}") as ws:
        await ws.send(json.dumps({"op": "auth", "id": 7, "token": server.token(
            "display", site="demo")}))
        assert json.loads(await ws.recv()) == {"op": "pong", "id": 7}
        await asyncio.sleep(2.5)
        await ws.send(json.dumps({"op": "ping", "id": 8}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"op": "pong", "id": 8}


async def test_a_store_restored_without_its_tail_changes_the_epoch(
        server: Server, redis: Redis) -> None:
    eng = Engine(Store(redis), config_ttl_s=0)
    async with Client(ws_url(server), server.token("display", site="demo")) as board:
        await board.subscribe("board:demo")
        snap = await board.next(5)
        for cid in ("4", "4", "4"):
            await eng.counter_op("demo", cid, "pause", AGENT)
            await eng.counter_op("demo", cid, "open", AGENT)
        seen = [await board.next(5) for _ in range(6)]
        # "Restore from an older copy": the last four entries are gone, epoch unchanged,
        # and the hub's connections to Redis drop (as when Redis restarts).
        tail = await redis.xrevrange(keys.events("demo"), count=4)
        await redis.xdel(keys.events("demo"), *[eid for eid, _ in tail])
        await redis.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        msg: dict[str, Any] = await board.next(15)
        while msg.get("op") != "snapshot":
            msg = await board.next(15)
        assert msg["resync"] is True and msg["epoch"] != snap["epoch"]
        assert (await redis.get(keys.prefix("demo") + "epoch")).decode() == msg["epoch"]
        assert seen[-1]["epoch"] == snap["epoch"]


async def test_a_resume_after_a_restore_with_the_hub_stopped_resyncs(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """The documented restore: stop the server, restore, start it, and kiosks write before
    the screens come back. The epoch is the backup's, the client's offset is gone from the
    stream and new entries have later ids: replaying from it would skip the difference
    without a word. It must resync."""
    eng = Engine(Store(redis), config_ttl_s=0)
    await eng.put_site("demo", demo_site(), AGENT)
    await eng.counter_op("demo", "4", "open", AGENT)
    stream = keys.events("demo")
    backup = await redis.dump(stream)  # the backup, taken before the call below
    async with running_server(redis_server.url, tmp_path) as server, websockets.connect(
            f"{ws_url(server)}?token={server.token('display', site='demo')}") as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo", "id": 1}))
        snap = json.loads(await asyncio.wait_for(ws.recv(), 5))
        await eng.issue("demo", TicketRequest("lab", Channel.KIOSK), AGENT)
        await eng.counter_op("demo", "4", "call-next", AGENT)
        last = snap
        while last.get("type") != "called":
            last = json.loads(await asyncio.wait_for(ws.recv(), 5))
    await redis.restore(stream, 0, backup, replace=True)  # the restore, server stopped
    async with running_server(redis_server.url, tmp_path) as server:
        await eng.issue("demo", TicketRequest("internal", Channel.KIOSK), AGENT)  # a kiosk
        async with websockets.connect(
                f"{ws_url(server)}?token={server.token('display', site='demo')}") as ws:
            await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo", "id": 2,
                                      "since": {"epoch": last["epoch"],
                                                "offset": last["offset"]}}))
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert msg["op"] == "snapshot" and msg["resync"] is True, msg
            # A resume from an offset the stream still holds replays as before.
            await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo", "id": 3,
                                      "since": {"epoch": msg["epoch"],
                                                "offset": snap["offset"]}}))
            again = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert again["op"] == "event", again


async def test_http_says_unavailable_while_redis_is_down(tmp_path: Path) -> None:
    own = EmbeddedRedis(tmp_path / "redis")
    own.start()
    try:
        async with running_server(own.url, tmp_path) as s:
            admin = s.auth("admin")
            r = await s.client.put("/v1/sites/demo", headers=admin,
                                   content=_json(demo_site()))
            assert r.status_code == 200
            own.stop()
            r = await s.client.get("/v1/sites/demo", headers=admin)
            assert r.status_code == 503, r.text
            assert r.json() == {"code": "unavailable", "message": r.json()["message"],
                                "temporary": True}
            assert r.headers["retry-after"] == "1"
    finally:
        own.stop()


def _json(obj: Any) -> bytes:
    import msgspec
    return msgspec.json.encode(obj)


async def test_frames_too_deep_or_out_of_range_are_the_clients_error(server: Server) -> None:
    token = server.token("display", site="demo")
    async with websockets.connect(f"{ws_url(server)}?token={token}") as ws:
        await ws.send('{"op":"ping","x":' + "[" * 30000 + "]" * 30000 + "}")
        err = json.loads(await ws.recv())
        assert (err["code"], err.get("temporary", False)) == ("bad_frame", False)
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo", "id": 3,
                                  "since": {"epoch": "e", "offset": "1-18446744073709551616"}}))
        err = json.loads(await ws.recv())
        assert err["code"] == "invalid_message" and err.get("id") == 3
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo\n", "id": 4}))
        assert json.loads(await ws.recv())["code"] == "invalid_message"
        await ws.send(json.dumps({"op": "ping", "id": 5}))
        assert json.loads(await ws.recv()) == {"op": "pong", "id": 5}


async def test_guessing_tokens_over_one_connection_is_abuse(server: Server) -> None:
    token = server.token("display", site="demo")
    async with websockets.connect(f"{ws_url(server)}?token={token}") as ws:
        await ws.send(json.dumps({"op": "auth", "token": "not-a-token", "id": 1}))
        err = json.loads(await ws.recv())
        assert (err["code"], err["id"]) == ("unauthorized", 1)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            for i in range(60):
                await ws.send(json.dumps({"op": "auth", "token": f"guess-{i}", "id": i}))
                await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4009
