"""The websocket hub with real sockets and a real Redis, in one server process."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import websockets
from redis.asyncio import Redis

from clients.client import Client, Position
from queueing import keys
from queueing.engine import Actor, Engine
from queueing.model import Channel, Counter, Service, SiteConfig, TicketRequest
from queueing.store import Store
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server, running_server

AGENT = Actor("agent:demo:1", "counter")


def ws_url(server: Server) -> str:
    return server.base.replace("http", "ws") + "/ws"


async def take(c: Client, n: int, wait_s: float = 5.0) -> list[dict[str, Any]]:
    return [await c.next(wait_s) for _ in range(n)]


async def until(c: Client, pred: Any, wait_s: float = 5.0) -> dict[str, Any]:
    while True:
        msg = await c.next(wait_s)
        if pred(msg):
            return msg


async def raw_ws(server: Server, token: str) -> tuple[asyncio.StreamReader,
                                                     asyncio.StreamWriter]:
    """A websocket opened by hand on a plain socket (JSON subprotocol), after the 101."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.settings.port)
    writer.write((f"GET /ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Protocol: switchboard.v1.json\r\n\r\n").encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 101")
    return reader, writer


@pytest.fixture
async def eng(redis: Redis, server: Server) -> Engine:
    return Engine(Store(redis), config_ttl_s=0)


async def test_snapshot_then_events_in_order(server: Server, eng: Engine) -> None:
    async with Client(ws_url(server), server.token("display", site="demo")) as board:
        await board.subscribe("board:demo")
        snap = await board.next(5)
        assert snap["op"] == "snapshot" and snap["resync"] is False
        assert {c["id"] for c in snap["data"]["counters"]} == {"1", "2", "3", "4", "5", "6"}
        assert snap["data"]["languages"] == ["zh", "en"]
        await eng.issue("demo", TicketRequest("internal", Channel.KIOSK), AGENT)
        await eng.counter_op("demo", "1", "call-next", AGENT)
        await eng.counter_op("demo", "1", "recall", AGENT)
        waiting, called, recalled = await take(board, 3)
        assert waiting["type"] == "waiting" and waiting["data"]["waiting"]["internal"][
            "waiting"] == 1
        assert called["type"] == "called" and called["data"]["number"] == "A001"
        assert called["data"]["announcement"] == {"zh": "请 A001 号到 1号诊室",
                                                  "en": "Ticket A001, please go to Room 1"}
        assert called["data"]["valid_until"] and recalled["type"] == "recalled"
        offsets = [snap["offset"], waiting["offset"], called["offset"], recalled["offset"]]
        as_int = [tuple(map(int, o.split("-"))) for o in offsets]
        assert as_int == sorted(as_int) and len(set(offsets)) == 4


async def test_ticket_topic_tracks_position_and_call(server: Server, eng: Engine) -> None:
    first = (await eng.issue("demo", TicketRequest("internal", Channel.KIOSK), AGENT)).ticket
    r = await server.client.post("/v1/sites/demo/tickets", json={"service": "internal",
                                 "channel": "app"}, headers=server.auth("kiosk", site="demo"))
    mine = r.json()
    async with Client(ws_url(server), mine["token"]) as phone:
        await phone.subscribe(f"ticket:{mine['id']}")
        snap = await phone.next(5)
        assert snap["data"]["position"] == 2 and snap["data"]["people_ahead"] == 1
        await eng.counter_op("demo", "1", "call-next", AGENT)  # the first ticket
        moved = await phone.next(5)
        assert moved["type"] == "position" and moved["data"]["position"] == 1
        await eng.counter_op("demo", "1", "complete", AGENT)
        await eng.counter_op("demo", "1", "call-next", AGENT)
        mine_called = await until(phone, lambda m: m.get("type") == "called")
        assert mine_called["data"]["counter"] == "1"
        assert mine_called["data"]["counter_name"]["en"] == "Room 1"
        assert first["id"] != mine["id"]


async def test_counter_topic_lists_parked_tickets_for_any_console(server: Server,
                                                                 eng: Engine) -> None:
    """A parked patient is on the server, so a console opened on another PC (or after the
    browser's storage was cleared) still lists them; a counter of another service does not."""
    t = (await eng.issue("demo", TicketRequest("internal", Channel.KIOSK), AGENT)).ticket
    await eng.counter_op("demo", "1", "call-next", AGENT)
    agent = server.token("admin")
    async with Client(ws_url(server), agent) as console:
        await console.subscribe("counter:demo:1")
        assert (await console.next(5))["data"]["parked"] == []
        await eng.counter_op("demo", "1", "park", AGENT)
        parked = await until(console, lambda m: m.get("type") == "parked")
        assert parked["data"]["parked"] == [{"id": t["id"], "number": t["number"],
                                             "service": "internal"}]
    async with Client(ws_url(server), agent) as other_pc:
        await other_pc.subscribe("counter:demo:1")
        assert [p["id"] for p in (await other_pc.next(5))["data"]["parked"]] == [t["id"]]
        await other_pc.subscribe("counter:demo:4")  # the lab's counter
        assert (await other_pc.next(5))["data"]["parked"] == []
        await eng.counter_op("demo", "1", "unpark", AGENT, ticket=t["id"])
        back = await until(other_pc, lambda m: m.get("topic") == "counter:demo:1")
        assert back["data"]["parked"] == []


async def test_resume_gets_exactly_the_missed_events(server: Server, eng: Engine) -> None:
    token = server.token("display", site="demo")
    async with Client(ws_url(server), token) as board:
        await board.subscribe("board:demo")
        await board.next(5)
        await eng.issue("demo", TicketRequest("internal", Channel.KIOSK), AGENT)
        seen = await board.next(5)
        pos = Position(seen["epoch"], seen["offset"])
    # Offline: three calls happen.
    for svc in ("lab", "pharmacy", "internal"):
        await eng.issue("demo", TicketRequest(svc, Channel.KIOSK), AGENT)
    for cid in ("4", "5", "1"):
        await eng.counter_op("demo", cid, "call-next", Actor(f"agent:demo:{cid}", "counter"))
    async with Client(ws_url(server), token) as board:
        await board.subscribe("board:demo", since=pos)
        got = await take(board, 3)
        assert [m["type"] for m in got] == ["called", "called", "called"]
        assert [m["data"]["number"] for m in got] == ["C001", "D001", "A001"]
        assert "waiting" in got[-1]["data"]  # current state attached to the last message
        assert all(m["data"]["expired"] is False for m in got)
        with pytest.raises(TimeoutError):
            await board.next(0.3)  # nothing more, nothing twice


async def test_replayed_expired_announcements_are_marked(server: Server, eng: Engine,
                                                         redis: Redis) -> None:
    token = server.token("display", site="demo")
    async with Client(ws_url(server), token) as board:
        await board.subscribe("board:demo")
        snap = await board.next(5)
    await eng.issue("demo", TicketRequest("internal", Channel.KIOSK), AGENT)
    # An engine whose clock is ten minutes behind records the call as long ago.
    old = Engine(Store(redis), clock=lambda: 1_000_000_000_000, config_ttl_s=0)
    await old.counter_op("demo", "1", "call-next", AGENT)
    async with Client(ws_url(server), token) as board:
        await board.subscribe("board:demo", since=Position(snap["epoch"], snap["offset"]))
        called = await until(board, lambda m: m.get("type") == "called")
        assert called["data"]["expired"] is True


async def test_lost_history_and_new_epoch_resync(server: Server, eng: Engine,
                                                 redis: Redis) -> None:
    token = server.token("display", site="demo")
    async with Client(ws_url(server), token) as board:
        await board.subscribe("board:demo")
        snap = await board.next(5)
        stale = Position(snap["epoch"], snap["offset"])
        await board.subscribe("board:demo", since=Position("other-epoch", snap["offset"]))
        again = await board.next(5)
        assert again["op"] == "snapshot" and again["resync"] is True
    for _ in range(5):
        await eng.issue("demo", TicketRequest("internal", Channel.KIOSK), AGENT)
    # Trim everything but the last 2 entries: the stale position falls out of history.
    await eng.trim("demo", 0, 2)
    async with Client(ws_url(server), token) as board:
        await board.subscribe("board:demo", since=stale)
        msg = await board.next(5)
        assert msg["op"] == "snapshot" and msg["resync"] is True
        assert msg["data"]["services"][0]["waiting"] == 5


async def test_scope_violations_rejected(server: Server, eng: Engine) -> None:
    t = (await eng.issue("demo", TicketRequest("internal", Channel.KIOSK), AGENT)).ticket
    url = ws_url(server)
    display = server.token("display", site="demo")
    async with websockets.connect(f"{url}?token={display}") as ws:
        for topic in (f"ticket:{t['id']}", "counter:demo:1", "board:elsewhere",
                      "service:demo:internal"):
            await ws.send(json.dumps({"op": "subscribe", "topic": topic, "id": 7}))
            err = json.loads(await ws.recv())
            assert err["op"] == "error" and err["code"] == "forbidden" and err["id"] == 7
    other = server.token("ticket", site="demo", ticket="demo.someoneelse")
    async with websockets.connect(f"{url}?token={other}") as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": f"ticket:{t['id']}"}))
        assert json.loads(await ws.recv())["code"] == "forbidden"
    async with websockets.connect(url) as ws:  # no token
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo"}))
        assert json.loads(await ws.recv())["code"] == "unauthorized"
        await ws.send(json.dumps({"op": "auth", "token": display, "id": 1}))
        assert json.loads(await ws.recv()) == {"op": "pong", "id": 1}
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo"}))
        assert json.loads(await ws.recv())["op"] == "snapshot"
    async with websockets.connect(f"{url}?token=garbage") as ws:
        assert json.loads(await ws.recv())["code"] == "unauthorized"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001


async def test_foreign_origin_refused(server: Server) -> None:
    token = server.token("display", site="demo")
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(f"{ws_url(server)}?token={token}",
                                      origin="http://evil.example"):  # type: ignore[arg-type]
            pass
    async with websockets.connect(f"{ws_url(server)}?token={token}",
                                  origin=server.base):  # type: ignore[arg-type]
        pass


async def test_malformed_frames_answered_while_others_keep_receiving(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with running_server(redis_server.url, tmp_path, ws_max_frame_bytes=2048) as server:
        eng = Engine(Store(redis), config_ttl_s=0)
        from queueing.demo import demo_site
        await eng.put_site("demo", demo_site(), AGENT)
        await eng.counter_op("demo", "1", "open", AGENT)
        token = server.token("display", site="demo")
        async with Client(ws_url(server), token) as bystander:
            await bystander.subscribe("board:demo")
            await bystander.next(5)
            url = f"{ws_url(server)}?token={token}"
            async with websockets.connect(url, subprotocols=["switchboard.v1.json"]) as bad:
                cases: list[tuple[Any, str]] = [
                    ("{not json", "bad_frame"), ("[1,2]", "bad_frame"),
                    ('{"op": "teleport"}', "unknown_op"),
                    ('{"op": "subscribe", "topic": 5, "id": 3}', "invalid_message"),
                    ('{"op": "subscribe", "topic": "board:demo", "extra": 1}',
                     "invalid_message"),
                    ('{"op": "subscribe", "topic": "nonsense:x"}', "unknown_topic"),
                    ('{"op": "subscribe", "topic": "board:demo:extra", "id": 4}',
                     "unknown_topic"),
                    ('{"op": "subscribe", "topic": "ticket:nosuch", "id": 5}', "unknown_topic"),
                    # 1,000 characters, 3,000 bytes: the 2,048-byte limit counts bytes
                    ('{"op": "ping", "id": 6, "pad": "' + "汉" * 1000 + '"}', "frame_too_large"),
                    ('{"op": "unsubscribe", "topic": "board:demo"}', "not_subscribed"),
                    ("x" * 5000, "frame_too_large"),
                ]
                for frame, code in cases:
                    await bad.send(frame)
                    err = json.loads(await bad.recv())
                    assert err["op"] == "error" and err["code"] == code, (frame[:30], err)
                    if code != "frame_too_large" and '"id": ' in frame:  # echoed, to match
                        assert err["id"] == json.loads(frame)["id"], (frame[:30], err)
                await eng.issue("demo", TicketRequest("internal", Channel.KIOSK), AGENT)
                await bad.send('{"op": "ping", "id": 9}')
                assert json.loads(await bad.recv()) == {"op": "pong", "id": 9}
            async with websockets.connect(url, subprotocols=["switchboard.v1.msgpack"]) as mp:
                await mp.send(b"\xc1\xc1")
                err = msgspec.msgpack.decode(await mp.recv())
                assert err["code"] == "bad_frame"
                await mp.send(msgspec.msgpack.encode({"op": "subscribe", "topic": "board:demo"}))
                assert msgspec.msgpack.decode(await mp.recv())["op"] == "snapshot"
            got = await bystander.next(5)
            assert got["type"] == "waiting"


async def test_repeated_abuse_closes(server: Server) -> None:
    token = server.token("display", site="demo")
    async with websockets.connect(f"{ws_url(server)}?token={token}") as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            for _ in range(200):
                await ws.send("{nope")
                await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code in (4009,)


# -- slow consumers --------------------------------------------------------------------

async def _slow_closes(server: Server) -> float:
    text = (await server.client.get("/metrics")).text
    m = re.search(r"^switchboard_slow_closes_total (\S+)$", text, re.M)
    assert m is not None, "switchboard_slow_closes_total is not in /metrics"
    return float(m.group(1))


# Keepalive off for the slow-client tests (longer than any test may run).
NO_PINGS_S = 600.0


def slow_socket(server: Server) -> socket.socket:
    """A client socket with a small fixed receive buffer (no autotuning to 32 MB), so a
    client that stops reading pushes back on the server quickly."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
    sock.connect(("127.0.0.1", server.settings.port))
    return sock


def waiting_s000(msg: dict[str, Any]) -> int:
    """How many wait for s000 by a board message of the wide site."""
    return int(msg["data"]["waiting"]["s000"]["waiting"])


def wide_site(n: int = 200) -> SiteConfig:
    services = [Service(f"s{i:03d}", f"S{i}", _prefix(i)) for i in range(n)]
    return SiteConfig(name="Wide", timezone="UTC", languages=["en"], services=services,
                      counters=[Counter("1", "One", ["s000"])])


def _prefix(i: int) -> str:
    a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return a[i // 26 % 26] + a[i % 26] + ("X" if i >= 676 else "")


@pytest.fixture
async def wide(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
               ) -> AsyncIterator[tuple[Server, Engine]]:
    # No keepalive pings within a test (120 s at most): these clients stop reading on
    # purpose, and one that answers no ping for 20 + 20 s is dropped 1011 as dead (see
    # test_dead_client_found_by_ping_timeout). On a loaded machine the tickets issued while
    # the client reads nothing took that long (54 s at nice 8 beside 3 busy loops).
    async with running_server(redis_server.url, tmp_path, ws_queue_events=50,
                              ws_ping_interval_s=NO_PINGS_S) as server:
        eng = Engine(Store(redis), config_ttl_s=0)
        await eng.put_site("wide", wide_site(), AGENT)
        await eng.counter_op("wide", "1", "open", AGENT)
        yield server, eng


async def test_slow_client_gets_state_merged_latest_wins(wide: tuple[Server, Engine]) -> None:
    server, eng = wide
    token = server.token("display", site="wide")
    # max_queue=1: the client library stops reading the socket, so TCP pushes back; no
    # pings of its own (it would not read the pongs either).
    async with websockets.connect(f"{ws_url(server)}?token={token}", max_queue=1,
                                  max_size=2**24, sock=slow_socket(server),
                                  ping_interval=None) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:wide"}))
        assert json.loads(await ws.recv())["op"] == "snapshot"
        n = 1500
        for _ in range(n):
            await eng.issue("wide", TicketRequest("s000", Channel.KIOSK), AGENT)
        got: list[dict[str, Any]] = []
        # Read until the latest state comes (a quiet second proved nothing on a loaded
        # machine: the hub may still be on its way there), then make sure nothing follows.
        async with asyncio.timeout(60):
            while not got or waiting_s000(got[-1]) != n:
                got.append(json.loads(await ws.recv()))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.5)  # nothing after the latest
        assert 0 < len(got) < n, "state updates were merged while the client was slow"
        counts = [waiting_s000(m) for m in got]
        assert counts == sorted(counts) and len(set(counts)) == len(counts)  # never older
        offs = [tuple(map(int, m["offset"].split("-"))) for m in got]
        assert offs == sorted(offs) and len(set(offs)) == len(offs)


async def test_slow_event_consumer_closed_then_resumes_cleanly(
        wide: tuple[Server, Engine]) -> None:
    server, eng = wide
    token = server.token("display", site="wide")
    n = 500
    for _ in range(n):
        await eng.issue("wide", TicketRequest("s000", Channel.KIOSK), AGENT)
    slow_closes = await _slow_closes(server)
    async with websockets.connect(f"{ws_url(server)}?token={token}", max_queue=1,
                                  max_size=2**24, sock=slow_socket(server),
                                  ping_interval=None) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:wide"}))
        snap = json.loads(await ws.recv())
        for _ in range(n):  # every call is an event: none may be dropped
            await eng.counter_op("wide", "1", "call-next", AGENT)
            await eng.counter_op("wide", "1", "complete", AGENT)
        numbers: list[str] = []
        last = Position(snap["epoch"], snap["offset"])
        # One deadline for the whole read (not 5 s a message: the close itself may come
        # by the hub's abort, 5 s after the slow close).
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(60):
                while True:
                    msg = json.loads(await ws.recv())
                    if msg["op"] == "event":
                        last = Position(msg["epoch"], msg["offset"])
                        if msg["type"] == "called":
                            numbers.append(msg["data"]["number"])
                    else:
                        assert msg == {"op": "error", "code": "slow",
                                       "message": msg["message"], "temporary": True}
        # 4008 behind the events still queued to it; a client too slow to read that far
        # within ABORT_SLOW_AFTER_S (5 s) sees the connection dropped instead (a
        # starved test process) — closed as slow all the same, as the server counts it.
        rcvd = closed.value.rcvd
        assert rcvd is None or rcvd.code == 4008
        assert await _slow_closes(server) == slow_closes + 1
    assert len(numbers) < n
    async with Client(ws_url(server), token) as again, asyncio.timeout(60):
        await again.subscribe("board:wide", since=last)
        while len(numbers) < n:
            msg = await again.next()
            assert msg["op"] == "event", msg
            if msg["type"] == "called":
                numbers.append(msg["data"]["number"])
    assert numbers == [f"AA{i:03d}" for i in range(1, n + 1)], "every call once, in order"


async def test_metrics_exposed(server: Server) -> None:
    async with Client(ws_url(server), server.token("display", site="demo")) as board:
        await board.subscribe("board:demo")
        await board.next(5)
        text = (await server.client.get("/metrics")).text
    for name in ("switchboard_connections", "switchboard_subscriptions",
                 "switchboard_messages_out", "switchboard_delivery_lag_seconds",
                 "switchboard_resumes", "switchboard_resyncs", "switchboard_slow_closes",
                 "switchboard_auth_failures"):
        assert name in text
    assert keys.events("demo")


async def test_every_message_type_sent_is_documented(server: Server, eng: Engine) -> None:
    from realtime.hub.topics import NAMESPACES
    admin = server.token("admin")
    t = (await eng.issue("demo", TicketRequest("internal", Channel.KIOSK), AGENT)).ticket
    topics = ["board:demo", f"ticket:{t['id']}", "counter:demo:1", "service:demo:internal",
              "service:demo:lab"]
    async with Client(ws_url(server), admin) as c:
        for topic in topics:
            await c.subscribe(topic)
        for _ in topics:
            assert (await c.next(5))["op"] == "snapshot"
        ops = ["call-next", "recall", "park"]
        for op in ops:
            await eng.counter_op("demo", "1", op, AGENT)
        await eng.counter_op("demo", "1", "unpark", AGENT, ticket=t["id"])
        await eng.counter_op("demo", "1", "call-next", AGENT)
        await eng.counter_op("demo", "1", "start", AGENT)
        await eng.counter_op("demo", "1", "transfer", AGENT, service="lab")
        await eng.counter_op("demo", "4", "call-next", AGENT)
        await eng.counter_op("demo", "4", "no-show", AGENT)
        await eng.counter_op("demo", "1", "pause", AGENT)
        await eng.counter_op("demo", "1", "open", AGENT)
        await eng.cancel(t["id"], AGENT)
        seen: dict[str, set[str]] = {}
        while True:
            try:
                m = await c.next(0.5)
            except TimeoutError:
                break
            seen.setdefault(m["topic"].split(":")[0], set()).add(m["type"])
    for ns, types in seen.items():
        assert types <= set(NAMESPACES[ns].event_types), (ns, types)
    assert {"called", "recalled", "counter", "waiting"} <= seen["board"]
    assert {"called", "parked", "waiting", "serving", "transferred", "no_show",
            "cancelled"} <= seen["ticket"]


# -- dead clients ----------------------------------------------------------------------

async def test_dead_client_found_by_ping_timeout(redis: Redis, redis_server: EmbeddedRedis,
                                                 tmp_path: Path) -> None:
    """A phone that walks out of coverage never closes its socket: the server pings it,
    hears no pong, and drops the connection (and its subscriptions) on its own."""
    from realtime import metrics

    async with running_server(redis_server.url, tmp_path, ws_ping_interval_s=0.3,
                              ws_ping_timeout_s=0.3) as server:
        before = metrics.CONNECTIONS._value.get()
        token = server.token("display", site="demo")
        # A raw socket: it completes the handshake, then never answers a ping.
        reader, writer = await raw_ws(server, token)
        assert metrics.CONNECTIONS._value.get() == before + 1
        # Read (but never answer) until the server gives up on us.
        frames = b""
        async with asyncio.timeout(5):
            while chunk := await reader.read(4096):
                frames += chunk
        assert frames[:1] == b"\x89", "the server pinged first"  # FIN + opcode 9 (ping)
        assert b"\x88" in frames, "then closed the connection"  # opcode 8 (close)
        writer.close()
        for _ in range(50):  # the hub forgets the connection
            if metrics.CONNECTIONS._value.get() == before:
                break
            await asyncio.sleep(0.05)
        assert metrics.CONNECTIONS._value.get() == before


async def test_subscribe_and_unsubscribe_in_one_write_both_answered(server: Server) -> None:
    """A subscribe's snapshot is its answer: an unsubscribe of the same topic read in the
    same TCP segment must not withdraw it (a client library awaiting the id would hang)."""
    from loadtest.wsclient import TEXT, client_frame

    token = server.token("display", site="demo")
    reader, writer = await raw_ws(server, token)
    frames = [{"op": "subscribe", "topic": "board:demo", "id": 7},
              {"op": "unsubscribe", "topic": "board:demo", "id": 8},
              {"op": "unsubscribe", "topic": "board:demo", "id": 9},
              {"op": "ping", "id": 10}]
    writer.write(b"".join(client_frame(TEXT, json.dumps(f).encode()) for f in frames))
    got: list[dict[str, Any]] = []
    buf = b""
    async with asyncio.timeout(5):
        while not any(m.get("op") == "pong" for m in got):
            buf += await reader.read(65536)
            while len(buf) >= 2:
                n, at = buf[1] & 0x7F, 2
                if n == 126:
                    n, at = int.from_bytes(buf[2:4], "big"), 4
                elif n == 127:
                    n, at = int.from_bytes(buf[2:10], "big"), 10
                if len(buf) < at + n:
                    break
                if buf[0] & 0x0F == TEXT:
                    got.append(json.loads(buf[at:at + n]))
                buf = buf[at + n:]
    writer.close()
    assert [(m["op"], m.get("id"), m.get("code")) for m in got] == [
        ("snapshot", 7, None), ("error", 9, "not_subscribed"), ("pong", 10, None)]
