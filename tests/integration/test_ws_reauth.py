"""A connection's new token must allow what it follows: a public display token sent as a
fresh ``auth`` used to keep an agent's counter feed flowing after the agent's own token had
expired or been revoked (found by the protocol conformance review)."""

from __future__ import annotations

import asyncio
import time

import websockets

from realtime.auth import LEEWAY_S, make_token
from tests.integration.conftest import SECRET, Server
from tests.integration.test_protocol_conformance import JSON, ask, quiet, recv, ws_url


async def _subscribe(ws: object, topic: str, msg_id: int) -> None:
    await ws.send(f'{{"op": "subscribe", "topic": "{topic}", "id": {msg_id}}}')  # type: ignore[attr-defined]
    while True:
        m = await recv(ws)
        if m.get("op") == "error":
            raise AssertionError(m)
        if m.get("op") == "snapshot":
            return


async def test_a_new_token_must_allow_every_followed_topic(server: Server) -> None:
    agent = server.token("agent", site="demo", counter="5", subject="clerk-5")
    display = server.token("display", site="demo")
    async with websockets.connect(ws_url(server), subprotocols=[JSON]) as ws:
        assert (await ask(ws, {"op": "auth", "token": agent, "id": 1}))["op"] == "pong"
        await _subscribe(ws, "counter:demo:5", 2)
        err = await ask(ws, {"op": "auth", "token": display, "id": 3})
        assert (err["op"], err["code"], err["id"]) == ("error", "forbidden", 3)
        assert "counter:demo:5" in err["message"] and "unsubscribe" in err["message"]
        # Still the agent's connection: it follows the counter and can act as before.
        await ws.send('{"op": "ping", "id": 4}')
        assert await recv(ws) == {"op": "pong", "id": 4}
        # The agent's own fresh token is fine (a renewal), and so is another token of the
        # same counter.
        again = server.token("agent", site="demo", counter="5", subject="clerk-5b")
        assert (await ask(ws, {"op": "auth", "token": again, "id": 5}))["op"] == "pong"
        # Unsubscribed first, the display token is taken; a counter topic then is not.
        await ws.send('{"op": "unsubscribe", "topic": "counter:demo:5", "id": 6}')
        assert await quiet(ws)  # no answer to an unsubscribe
        assert (await ask(ws, {"op": "auth", "token": display, "id": 7}))["op"] == "pong"
        err = await ask(ws, {"op": "subscribe", "topic": "counter:demo:5", "id": 8})
        assert err["code"] == "forbidden"


async def test_refused_reauth_keeps_the_old_expiry(server: Server) -> None:
    """The refused token does not move the connection's expiry: it closes when the agent's
    short-lived token ends, as it would have."""
    # Minted a leeway ago: the socket keeps it until exp + LEEWAY_S, 2 s from now.
    agent = make_token(SECRET, "agent", site="demo", counter="5", ttl_s=2,
                       now=time.time() - LEEWAY_S)
    display = server.token("display", site="demo")
    async with websockets.connect(ws_url(server, agent), subprotocols=[JSON]) as ws:
        await _subscribe(ws, "counter:demo:5", 1)
        assert (await ask(ws, {"op": "auth", "token": display, "id": 2}))["code"] == "forbidden"
        closed = False
        try:
            while True:
                m = await recv(ws, 6)
                if m.get("op") == "error":
                    assert m["code"] == "unauthorized"
        except websockets.ConnectionClosed as exc:
            closed = exc.rcvd is not None and exc.rcvd.code == 4001
        assert closed


async def test_a_boolean_id_is_not_echoed(server: Server) -> None:
    token = server.token("display", site="demo")
    async with websockets.connect(ws_url(server, token), subprotocols=[JSON]) as ws:
        err = await ask(ws, '{"op": "subscribe", "topic": "board:demo", "id": true}')
        assert err["code"] == "invalid_message" and "id" not in err
        assert await quiet(ws)
    await asyncio.sleep(0)
