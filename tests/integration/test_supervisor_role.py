"""The supervisor role: reads one site (board, queues, stats, the floor overview) and changes
nothing; `switchboard token supervisor --site S` mints it for 30 days like other staff."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from redis.asyncio import Redis

from queueing import keys
from realtime.auth import make_token
from tests.integration.conftest import SECRET, Server


async def test_a_supervisor_reads_the_site_and_changes_nothing(server: Server,
                                                               redis: Redis) -> None:
    c = server.client
    sup = server.auth("supervisor", site="demo")
    t = (await c.post("/v1/sites/demo/tickets", json={"service": "lab", "channel": "kiosk"},
                      headers=server.auth("kiosk", site="demo"))).json()
    for path, params in (("/v1/sites/demo", {}), ("/v1/sites/demo/stats", {}),
                         ("/v1/sites/demo/services/lab/queue", {}),
                         ("/v1/sites/demo/tickets", {"number": t["number"]})):
        r = await c.get(path, params=params, headers=sup)
        assert r.status_code == 200, (path, r.text)
    events = await redis.xlen(keys.events("demo"))
    for path, body in (("/v1/sites/demo/tickets", {"service": "lab", "channel": "window"}),
                       ("/v1/sites/demo/counters/4/call-next", {}),
                       ("/v1/sites/demo/counters/4/close", {}),
                       (f"/v1/tickets/{t['id']}/transfer", {"service": "internal"}),
                       (f"/v1/tickets/{t['id']}/cancel", {}),
                       ("/v1/sites/demo/close-day", {})):
        r = await c.post(path, json=body, headers=sup)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), (path, r.text)
    assert await redis.xlen(keys.events("demo")) == events
    # Another site's supervisor sees nothing here.
    r = await c.get("/v1/sites/demo/stats", headers=server.auth("supervisor", site="other"))
    assert r.status_code == 403
    # Live: the board and the service lists, not a counter's console topic.
    url = (f"{server.base.replace('http', 'ws')}/ws?token="
           f"{server.token('supervisor', site='demo')}")
    async with websockets.connect(url) as ws:
        for i, topic in enumerate(("board:demo", "service:demo:lab", "counter:demo:4")):
            await ws.send(json.dumps({"op": "subscribe", "topic": topic, "id": i}))
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if topic.startswith("counter"):
                assert (msg["op"], msg["code"]) == ("error", "forbidden"), msg
            else:
                assert msg["op"] == "snapshot", msg


def test_supervisor_tokens_need_a_site_and_last_like_staff_tokens() -> None:
    with pytest.raises(ValueError, match="needs --site"):
        make_token(SECRET, "supervisor")
    from realtime.cli import STAFF_ROLES
    assert "supervisor" in STAFF_ROLES
