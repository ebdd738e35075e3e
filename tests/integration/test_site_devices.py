"""A site's devices and per-site figures (a hospital IT admin's review: a dark board or a
kiosk with an expired link showed only as a general rise in 4xx): ``GET
/v1/sites/{site}/devices`` lists the site's screens, kiosks and consoles with whether each is
connected, offline first, and ``/metrics`` has connections by site and role and each
followed site's queue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import websockets

from realtime import token_registry
from realtime.devices_api import ONLINE_WINDOW_S
from tests.integration.conftest import Server
from tests.integration.test_issued_links import bearer, mint, put_clinic
from tests.integration.test_protocol_conformance import JSON, ws_url


async def devices(server: Server, token: str | None = None, site: str = "demo") -> Any:
    r = await server.client.get(f"/v1/sites/{site}/devices",
                                headers=bearer(token or server.token("admin")))
    assert r.status_code == 200, r.text
    return r.json()


async def until(test: Callable[[], bool]) -> None:
    for _ in range(250):
        if test():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within 5 s")


def authenticated(server: Server, n: int) -> Callable[[], bool]:
    hub = server.app.state.sb.hub
    return lambda: sum(c.principal is not None for c in hub.live) == n


async def test_devices_of_a_site_online_first_offline(server: Server) -> None:
    await put_clinic(server)
    board = await mint(server, role="display", site="demo", subject="lobby-tv")
    kiosk = await mint(server, role="kiosk", site="demo", subject="kiosk-1", ttl_s=3600)
    await mint(server, role="agent", site="demo", counter="1", subject="console-1")
    old = await mint(server, role="display", site="demo", subject="old-tv")
    r = await server.client.post("/v1/revocations", json={"token": old["token"]},
                                 headers=server.auth("admin"))
    assert r.status_code == 200, r.text
    await mint(server, role="display", site="clinic", subject="clinic-tv")  # another site's
    await mint(server, role="supervisor", site="demo", subject="boss")  # a link, no device
    unlisted = server.token("display", site="demo", subject="made-offline")
    walk_in = {"service": "internal", "channel": "kiosk"}
    r = await server.client.post("/v1/sites/demo/tickets", json=walk_in,
                                 headers=server.auth("kiosk", site="demo"))
    assert r.status_code == 201, r.text
    ticket = r.json()
    t0 = time.time()
    async with websockets.connect(ws_url(server, board["token"]), subprotocols=[JSON]), \
            websockets.connect(ws_url(server, unlisted), subprotocols=[JSON]), \
            websockets.connect(ws_url(server, server.token("ticket", site="demo",
                                                              ticket=ticket["id"])),
                               subprotocols=[JSON]):
        await until(authenticated(server, 3))
        got = await devices(server)
        rows = {d["subject"]: d for d in got["devices"]}
        # Offline first (what should be up, then the revoked link), the online ones last.
        assert [d["subject"] for d in got["devices"]] == [
            "kiosk-1", "console-1", "old-tv", "lobby-tv", "made-offline"]
        assert got["offline"] == 3 and got["processes"] == 1 and got["online_window_s"] is None
        tv = rows["lobby-tv"]
        assert (tv["role"], tv["area"], tv["online"], tv["online_via"]) == (
            "display", None, True, "here")
        assert tv["connections_here"] == 1 and tv["link"]["jti"] == board["jti"]
        assert tv["link"]["status"] == "active" and tv["link"]["expires_at"] == board["expires_at"]
        since = datetime.fromisoformat(tv["connected_since"]).timestamp()
        assert t0 - 2 <= since <= time.time() + 1
        assert tv["last_seen"] is not None
        k = rows["kiosk-1"]
        assert (k["online"], k["connected_since"], k["last_seen"]) == (False, None, None)
        assert k["link"]["jti"] == kiosk["jti"] and k["link"]["days_left"] == 0
        assert (rows["console-1"]["role"], rows["console-1"]["counter"]) == ("agent", "1")
        assert rows["old-tv"]["link"]["status"] == "revoked"
        assert rows["made-offline"]["link"] is None and rows["made-offline"]["online"]
        # A patient's ticket page and the supervisor's link are not devices of the site.
        assert all(d["role"] in ("display", "kiosk", "agent") for d in got["devices"])
        # The floor's supervisor sees its own site's; not another site's, nor a console.
        assert (await devices(server, server.token("supervisor", site="demo")))["devices"]
        for token, site, status in ((server.token("supervisor", site="clinic"), "demo", 403),
                                    (server.token("agent", site="demo", counter="1"), "demo",
                                     403),
                                    (server.token("admin"), "nowhere", 404)):
            r = await server.client.get(f"/v1/sites/{site}/devices", headers=bearer(token))
            assert r.status_code == status, r.text
    # The board's page closed: offline as soon as the server notices its socket gone.
    await until(authenticated(server, 0))
    got = await devices(server)
    tv = next(d for d in got["devices"] if d["subject"] == "lobby-tv")
    assert (tv["online"], tv["connections_here"], tv["connected_since"]) == (False, 0, None)
    # Last seen when its socket closed (the registry's note is up to 5 min old).
    assert abs(datetime.fromisoformat(tv["last_seen"]).timestamp() - time.time()) < 10
    assert "made-offline" not in {d["subject"] for d in got["devices"]}
    assert got["devices"][-1]["subject"] == "old-tv"  # no device online: the revoked one last


async def test_with_several_processes_a_recent_last_seen_counts_as_online(
        server: Server) -> None:
    """This hub knows its own sockets only: with ``--workers N`` a device held by another
    process is online when its link was seen within ``online_window_s``."""
    c = server.app.state.sb
    fresh = await mint(server, role="kiosk", site="demo", subject="kiosk-fresh")
    stale = await mint(server, role="kiosk", site="demo", subject="kiosk-stale")
    now = time.time()
    await token_registry.write_seen(c.redis, {fresh["jti"]: now - 60,
                                              stale["jti"]: now - ONLINE_WINDOW_S - 60})
    one = {d["subject"]: d["online"] for d in (await devices(server))["devices"]}
    assert one == {"kiosk-fresh": False, "kiosk-stale": False}  # one process: its sockets
    c.settings.workers = 2
    try:
        got = await devices(server)
    finally:
        c.settings.workers = 1
    rows = {d["subject"]: d for d in got["devices"]}
    assert (rows["kiosk-fresh"]["online"], rows["kiosk-fresh"]["online_via"]) == (
        True, "last_seen")
    assert rows["kiosk-stale"]["online"] is False
    assert got["online_window_s"] == ONLINE_WINDOW_S and got["processes"] == 2
    assert [d["subject"] for d in got["devices"]] == ["kiosk-stale", "kiosk-fresh"]


def sample(text: str, name: str, **labels: str) -> float | None:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    head = f"{name}{{{want}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(head):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_metrics_by_site_and_role_and_each_sites_queue(server: Server) -> None:
    board = server.token("display", site="demo", subject="tv")
    kiosk = server.token("kiosk", site="demo", subject="k")
    for _ in range(3):
        r = await server.client.post("/v1/sites/demo/tickets",
                                     json={"service": "internal", "channel": "kiosk"},
                                     headers=bearer(kiosk))
        assert r.status_code == 201, r.text
    async with websockets.connect(ws_url(server, board), subprotocols=[JSON]) as ws, \
            websockets.connect(ws_url(server, kiosk), subprotocols=[JSON]), \
            websockets.connect(ws_url(server, kiosk), subprotocols=[JSON]):
        await ws.send('{"op": "subscribe", "id": 1, "topic": "board:demo"}')
        await ws.recv()
        await until(authenticated(server, 3))
        await server.caught_up()
        text = (await server.client.get("/metrics")).text
        assert sample(text, "switchboard_connections") == 3  # the total, unlabelled, stays
        assert sample(text, "switchboard_site_connections", site="demo", role="display") == 1
        assert sample(text, "switchboard_site_connections", site="demo", role="kiosk") == 2
        view = server.app.state.sb.hub.feeds["demo"].view
        waiting = sum(len(q) for q in view.queues.values())
        assert waiting >= 3
        assert sample(text, "switchboard_site_waiting", site="demo") == waiting
        longest = sample(text, "switchboard_site_longest_wait_seconds", site="demo")
        assert longest is not None and 0 <= longest < 120
        opened = sum(st["state"] == "open" for st in view.counters.values())
        assert opened > 0
        assert sample(text, "switchboard_site_counters_open", site="demo") == opened
    await until(authenticated(server, 0))
    text = (await server.client.get("/metrics")).text
    # A pair gone reads 0 (it does not keep its last count).
    assert sample(text, "switchboard_site_connections", site="demo", role="kiosk") == 0
