"""The Python client (clients/client.py) against a real server: a token the server refuses
ends the client with ``Refused`` after the first refusal, never a reconnect storm (it used to
reconnect ~9 times a second forever); a server that keeps dropping the connection is
retried later and later, and a connection that held starts the backoff afresh."""

from __future__ import annotations

import asyncio
import itertools
import random
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve

from clients.client import JSON, Client, Refused, backoff_s
from tests.integration.conftest import Server


def ws_url(server: Server) -> str:
    return server.base.replace("http", "ws") + "/ws"


async def refused(c: Client, topic: str) -> Refused:
    """Subscribe and read until the refusal: it comes from subscribe() if it arrived
    first, else from next() once what was queued before it has come out."""
    with pytest.raises(Refused) as err:
        await c.subscribe(topic)
        while True:
            await c.next(5)
    return err.value


@pytest.mark.parametrize("in_url", [True, False])
async def test_a_bad_token_ends_the_client_after_one_connection(server: Server,
                                                                in_url: bool) -> None:
    async with Client(ws_url(server), "<display token>", token_in_url=in_url) as c:
        err = await refused(c, "board:demo")
        assert err.code == "unauthorized" and err.reason == "malformed", vars(err)
        await asyncio.sleep(1.0)  # the old client had reconnected ~9 times by now
        assert c.stats.connects == 1
        assert c.refused is err and not c.connected.is_set()
        with pytest.raises(Refused):  # and every later call says the same
            await c.subscribe("board:demo")


async def test_a_revoked_token_ends_the_client(server: Server) -> None:
    token = server.token("display", site="demo")
    async with Client(ws_url(server), token) as c:
        await c.subscribe("board:demo")
        assert (await c.next(5))["op"] == "snapshot"
        r = await server.client.post("/v1/revocations", json={"token": token},
                                     headers=server.auth("admin"))
        assert r.status_code in (200, 201), r.text
        with pytest.raises(Refused) as raised:
            await c.next(5)
        err = raised.value
        assert err.code == "unauthorized" and err.reason == "revoked", vars(err)
        await asyncio.sleep(1.0)
        assert c.stats.connects == 1


async def test_a_topic_the_token_may_not_follow_ends_that_subscription_only(
        server: Server) -> None:
    token = server.token("display", site="demo")  # a board's token, not a console's
    async with Client(ws_url(server), token) as c:
        await c.subscribe("board:demo")
        assert (await c.next(5))["op"] == "snapshot"
        await c.subscribe("service:demo:internal")
        err = await c.next(5)
        assert err["op"] == "error" and err["code"] == "forbidden", err
        # Not subscribed again on a reconnect; the board goes on, and the client with it.
        assert "service:demo:internal" not in c.positions and "board:demo" in c.positions
        assert c.refused is None
        await asyncio.sleep(0.5)
        assert c.stats.connects == 1


async def test_a_server_dropping_every_connection_is_retried_later_and_later() -> None:
    opened: list[float] = []
    hold_s = {"n": 0.0}  # how long to keep the next connection up
    arrived = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        opened.append(time.monotonic())
        arrived.set()
        await asyncio.sleep(hold_s["n"])
        await ws.close(1012, "restarting")  # as a server restart does

    async def connections(n: int) -> None:
        while len(opened) < n:
            arrived.clear()
            await arrived.wait()

    async with serve(handler, "127.0.0.1", 0, subprotocols=[JSON]) as srv:  # type: ignore
        port = srv.sockets[0].getsockname()[1]
        c = Client(f"ws://127.0.0.1:{port}/ws", "token", backoff_min_s=0.05,
                   backoff_max_s=1.0, stable_s=0.3)
        await c.start()
        try:
            await asyncio.wait_for(connections(6), 15)
            gaps = [b - a for a, b in itertools.pairwise(opened)]
            # Waits of 0.05, 0.1, 0.2, 0.4, 0.8 s, each ×0.5–1.5 (a busy machine only
            # adds): the old client waited 0.05 s ×0.5–1.5 every time, ~20 a second.
            assert gaps[3] >= 0.19 and gaps[4] >= 0.39, gaps
            assert c.refused is None and set(c.stats.closes) == {1012}

            # A connection that stays up stable_s counts as good: the next wait is short
            # again (0.05 s ×0.5–1.5, where it would be ≥ 0.5 s by now).
            hold_s["n"] = 0.4
            seen = len(opened)
            await asyncio.wait_for(connections(seen + 1), 15)
            hold_s["n"] = 0.0
            await asyncio.wait_for(connections(seen + 2), 15)
            assert opened[seen + 1] - opened[seen] < 0.4 + 0.25, "backoff not reset"
        finally:
            await c.close()


def test_backoff_doubles_to_its_cap_with_jitter() -> None:
    rng = random.Random(7)
    waits = [backoff_s(n, 0.1, 5.0, rng) for n in range(1, 12)]
    for n, w in enumerate(waits, start=1):
        base = min(5.0, 0.1 * 2 ** (n - 1))
        assert 0.5 * base <= w <= 1.5 * base
    assert max(waits) <= 7.5


async def test_the_readme_snippet_with_its_placeholder_says_refused(server: Server) -> None:
    """README's client snippet run as a new user first runs it, placeholder token and all:
    one line saying the token was refused, no traceback, no reconnect loop."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    [code] = [b.split("```", 1)[0] for b in readme.split("```python\n")[1:]
              if "clients.client" in b]
    code = code.replace("ws://127.0.0.1:8000/ws", ws_url(server))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert out.decode().strip() == "refused: unauthorized malformed", (out, err)
