"""The websocket refuses with the same machine-readable ``details`` as HTTP, and keeps a
token for as long as HTTP accepts it (exp plus the leeway). Real server, real sockets."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import websockets
from redis.asyncio import Redis
from websockets.typing import Subprotocol

from realtime.auth import LEEWAY_S, make_token
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import SECRET, Server, running_server

JSON = Subprotocol("switchboard.v1.json")
MSGPACK = Subprotocol("switchboard.v1.msgpack")


def ws_url(server: Server, token: str | None = None) -> str:
    url = server.base.replace("http", "ws") + "/ws"
    return f"{url}?token={token}" if token else url


async def recv(ws: Any, wait_s: float = 5.0) -> dict[str, Any]:
    frame = await asyncio.wait_for(ws.recv(), wait_s)
    out: dict[str, Any] = (msgspec.msgpack.decode(frame) if isinstance(frame, bytes)
                           else json.loads(frame))
    return out


def expired_token() -> str:
    # Minted when the test runs (never at collection): an hour past its leeway.
    return make_token(SECRET, "display", site="demo", ttl_s=60,
                      now=time.time() - 3600 - LEEWAY_S)


async def test_unauthorized_frames_carry_the_http_reason(server: Server) -> None:
    token = expired_token()
    r = await server.client.get("/v1/sites/demo", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json()["details"] == {"reason": "expired"}
    # ?token= (JSON) and the auth op (msgpack): the same details as HTTP.
    async with websockets.connect(ws_url(server, token), subprotocols=[JSON]) as ws:
        err = await recv(ws)
        assert err["code"] == "unauthorized" and err["details"] == {"reason": "expired"}, err
    async with websockets.connect(ws_url(server), subprotocols=[MSGPACK]) as ws:
        await ws.send(msgspec.msgpack.encode({"op": "auth", "token": "not.a.token", "id": 7}))
        err = await recv(ws)
        assert err == {"op": "error", "code": "unauthorized", "message": err["message"],
                       "id": 7, "details": {"reason": "malformed"}}, err
        # Before any auth: no token at all, as HTTP's "missing".
        await ws.send(msgspec.msgpack.encode({"op": "subscribe", "topic": "board:demo"}))
        err = await recv(ws)
        assert err["code"] == "unauthorized" and err["details"] == {"reason": "missing"}, err


async def test_forbidden_and_revoked_carry_details(server: Server) -> None:
    other = server.token("display", site="elsewhere")
    async with websockets.connect(ws_url(server, other), subprotocols=[JSON]) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo", "id": 1}))
        err = await recv(ws)
        assert err["code"] == "forbidden" and err["id"] == 1, err
        assert err["details"] == {"role": "display"}, err
    token = server.token("display", site="demo")
    async with websockets.connect(ws_url(server, token), subprotocols=[JSON]) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo", "id": 1}))
        assert (await recv(ws))["op"] == "snapshot"
        r = await server.client.post("/v1/revocations", json={"token": token},
                                     headers=server.auth("admin"))
        assert r.status_code == 200, r.text
        err = await recv(ws)
        assert err["code"] == "unauthorized" and err["details"] == {"reason": "revoked"}, err


async def test_unknown_region_is_named_a_region(server: Server) -> None:
    async with websockets.connect(ws_url(server, server.token("admin")),
                                  subprotocols=[JSON]) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": "region:zz", "id": 2}))
        err = await recv(ws)
        assert err["code"] == "unknown_topic" and err["message"] == "unknown region zz", err
        await ws.send(json.dumps({"op": "subscribe", "topic": "tech:zz.t1", "id": 3}))
        err = await recv(ws)
        assert err["message"] == "unknown region zz (of tech:zz.t1)", err
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:zz", "id": 4}))
        assert (await recv(ws))["message"] == "unknown site zz"


async def test_a_frame_without_op_is_an_invalid_message(server: Server) -> None:
    async with websockets.connect(ws_url(server, server.token("admin")),
                                  subprotocols=[JSON]) as ws:
        await ws.send(json.dumps({"topic": "board:demo", "id": 5}))
        err = await recv(ws)
        assert err["code"] == "invalid_message" and err["id"] == 5, err
        assert err["message"].startswith("op is required"), err


async def test_a_token_in_its_leeway_is_served_until_it_ends(server: Server) -> None:
    # exp 57 s ago: HTTP still accepts it for 3 s (LEEWAY_S 60); so does the socket.
    left_s = 3.0
    token = make_token(SECRET, "display", site="demo", ttl_s=60,
                       now=time.time() - 60 - (LEEWAY_S - left_s))
    r = await server.client.get("/v1/sites/demo", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    async with websockets.connect(ws_url(server, token), subprotocols=[JSON]) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo", "id": 1}))
        assert (await recv(ws))["op"] == "snapshot"  # not dropped at exp
        started = time.monotonic()
        err = await recv(ws, left_s + 5)
        assert err["code"] == "unauthorized" and err["details"] == {"reason": "expired"}, err
        assert time.monotonic() - started > 1.0
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001


@pytest.fixture
async def slow_server(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
                      ) -> AsyncIterator[Server]:
    async with running_server(redis_server.url, tmp_path, ws_rate_per_s=2,
                              ws_rate_burst=1) as s:
        yield s


async def test_rate_limited_says_when_to_retry(slow_server: Server) -> None:
    async with websockets.connect(ws_url(slow_server, slow_server.token("admin")),
                                  subprotocols=[JSON]) as ws:
        await ws.send(json.dumps({"op": "ping", "id": 1}))
        await ws.send(json.dumps({"op": "ping", "id": 2}))
        assert (await recv(ws)) == {"op": "pong", "id": 1}
        err = await recv(ws)
        assert err["code"] == "rate_limited" and err["temporary"] is True, err
        wait = err["details"]["retry_after_s"]
        assert 0 < wait <= 0.5, err  # 2 messages/s: the next one passes within 0.5 s
        await asyncio.sleep(wait)
        await ws.send(json.dumps({"op": "ping", "id": 3}))
        assert (await recv(ws)) == {"op": "pong", "id": 3}
