"""The registry of issued links (a hospital IT admin's review): every link minted by
``POST /v1/tokens`` or ``switchboard token`` is listed by ``GET /v1/tokens`` (status, days
left, by expiry; never the token), a new link can replace the old one (revoked before the
new one is answered), a subject is revoked at one site only, and ``/metrics`` counts the
links expiring within a week."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from queueing.demo import demo_site
from realtime import token_registry
from realtime.auth import verify
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import SECRET, Server

DAY = 86400


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def mint(server: Server, **body: Any) -> Any:
    r = await server.client.post("/v1/tokens", json=body, headers=server.auth("admin"))
    assert r.status_code == 201, r.text
    return r.json()


async def listed(server: Server, token: str | None = None, **params: Any) -> Any:
    r = await server.client.get("/v1/tokens", params=params,
                                headers=bearer(token or server.token("admin")))
    assert r.status_code == 200, r.text
    return r.json()


async def status_of(server: Server, site: str, token: str) -> int:
    r = await server.client.get(f"/v1/sites/{site}", headers=bearer(token))
    return r.status_code


async def put_clinic(server: Server) -> None:
    r = await server.client.put("/v1/sites/clinic", content=msgspec.json.encode(demo_site()),
                                headers=server.auth("admin"))
    assert r.status_code == 200, r.text


async def test_minted_links_are_listed_by_expiry_with_status(server: Server) -> None:
    await put_clinic(server)
    kiosk = await mint(server, role="kiosk", site="demo", subject="kiosk-1")
    agent = await mint(server, role="agent", site="demo", counter="1", subject="console-1",
                       ttl_s=3 * DAY)
    board = await mint(server, role="display", site="clinic", subject="lobby-tv",
                       ttl_s=20 * DAY)
    gone = await mint(server, role="display", site="demo", subject="old-tv", ttl_s=10 * DAY)
    r = await server.client.post("/v1/revocations", json={"token": gone["token"]},
                                 headers=server.auth("admin"))
    assert r.status_code == 200, r.text

    got = await listed(server)
    rows = got["tokens"]
    # By expiry, the soonest first; never the token itself.
    assert [t["jti"] for t in rows] == [agent["jti"], gone["jti"], board["jti"], kiosk["jti"]]
    assert all(kiosk["token"] not in str(t) and "token" not in t for t in rows)
    first = rows[0]
    assert (first["role"], first["subject"], first["site"], first["counter"]) == (
        "agent", "console-1", "demo", "1")
    assert first["status"] == "active" and first["days_left"] == 2  # 3 days less a moment
    assert first["expires_at"] == agent["expires_at"]
    assert first["minted_by"] == "admin" and first["last_seen"] is None
    assert [t["status"] for t in rows] == ["active", "revoked", "active", "active"]
    assert got["summary"] == {"active": 3, "revoked": 1, "expired": 0, "expiring_soon": 1}
    assert got["expiring_soon_by_site"] == {"demo": 1}

    # Filters: a site, a role, what expires within a window (active ones only).
    assert [t["jti"] for t in (await listed(server, site="clinic"))["tokens"]] == [board["jti"]]
    assert [t["jti"] for t in (await listed(server, role="kiosk"))["tokens"]] == [kiosk["jti"]]
    soon = await listed(server, expiring_within_s=21 * DAY)
    assert [t["jti"] for t in soon["tokens"]] == [agent["jti"], board["jti"]]

    # A supervisor lists its own site's links only; an agent none.
    sup = server.token("supervisor", site="demo", subject="head-nurse")
    assert len((await listed(server, sup, site="demo"))["tokens"]) == 3
    for params in ({"site": "clinic"}, {}):
        r = await server.client.get("/v1/tokens", params=params, headers=bearer(sup))
        assert r.status_code == 403, r.text
    r = await server.client.get("/v1/tokens", params={"site": "demo"},
                                headers=bearer(agent["token"]))
    assert r.status_code == 403
    r = await server.client.get("/v1/tokens", params={"expiring_within_s": "soon"},
                                headers=server.auth("admin"))
    assert r.status_code == 400 and r.json()["details"]["field"] == "expiring_within_s"


async def test_last_seen_is_written_for_listed_links_only(server: Server) -> None:
    c = server.app.state.sb
    kiosk = await mint(server, role="kiosk", site="demo", subject="kiosk-1")
    unlisted = server.token("display", site="demo", subject="made-in-a-test")
    for _ in range(3):
        assert await status_of(server, "demo", kiosk["token"]) == 200
        assert await status_of(server, "demo", unlisted) == 200
    await c.revocations.write_seen(c.redis)  # what the server does every SEEN_WRITE_S
    row = (await listed(server))["tokens"][0]
    assert row["jti"] == kiosk["jti"] and row["last_seen"] is not None
    seen = datetime.fromisoformat(row["last_seen"]).timestamp()
    assert abs(seen - time.time()) < 60
    # A token that is not in the registry (a ticket's, one minted elsewhere) gets no record.
    assert await c.redis.keys(token_registry.key("*")) == [
        token_registry.key(kiosk["jti"]).encode()]
    # Throttled: used again within SEEN_EVERY_S, nothing more is due.
    assert await status_of(server, "demo", kiosk["token"]) == 200
    assert kiosk["jti"] not in c.revocations._seen_due
    # A websocket held open (a board for days) is seen through ``held`` (the hub's sockets).
    board = await mint(server, role="display", site="demo", subject="board-1")
    c.revocations.held = lambda: [verify(SECRET, board["token"])]
    c.revocations._held_next = 0.0
    await c.revocations.write_seen(c.redis)
    assert "last_seen" in (await token_registry.get(c.redis, board["jti"]) or {})


async def test_a_board_held_open_is_seen_through_its_socket(server: Server) -> None:
    """The server wires ``held`` to its hub: a board whose websocket stays open for days
    (no HTTP request, no new connection) still gets a fresh ``last_seen``."""
    import websockets

    from tests.integration.test_protocol_conformance import JSON, ws_url
    c = server.app.state.sb
    board = await mint(server, role="display", site="demo", subject="board-held")
    async with websockets.connect(ws_url(server, board["token"]), subprotocols=[JSON]):
        for _ in range(100):  # until the hub holds the socket
            if any(conn.principal is not None for conn in c.hub.live):
                break
            await asyncio.sleep(0.02)
        await c.revocations.write_seen(c.redis)
        first = (await token_registry.get(c.redis, board["jti"]) or {}).get("last_seen")
        # Days later: nothing noted since (the connect's note was written), the throttle
        # run out; only the open socket can say the board is still in use.
        await c.redis.hdel(token_registry.key(board["jti"]), "last_seen")
        c.revocations._seen_at.clear()
        c.revocations._held_next = 0.0
        await c.revocations.write_seen(c.redis)
        again = (await token_registry.get(c.redis, board["jti"]) or {}).get("last_seen")
    assert first is not None and again is not None


async def test_a_new_link_replaces_the_old_one(server: Server) -> None:
    await put_clinic(server)
    old = await mint(server, role="kiosk", site="demo", subject="kiosk-1")
    assert await status_of(server, "demo", old["token"]) == 200
    new = await mint(server, role="kiosk", site="demo", subject="kiosk-1",
                     replaces=old["jti"])
    assert new["replaced"] == [old["jti"]]
    # Refused as soon as the new one is answered (this process revoked it itself).
    r = await server.client.get("/v1/sites/demo", headers=bearer(old["token"]))
    assert r.status_code == 401 and r.json()["details"]["reason"] == "revoked"
    assert await status_of(server, "demo", new["token"]) == 200
    rows = {t["jti"]: t for t in (await listed(server))["tokens"]}
    assert rows[old["jti"]]["status"] == "revoked"
    assert rows[old["jti"]]["replaced_by"] == new["jti"]
    assert rows[new["jti"]]["replaces"] == [old["jti"]]

    # The same subject, site and role: every active one is replaced, another site's not.
    there = await mint(server, role="kiosk", site="clinic", subject="kiosk-1")
    third = await mint(server, role="kiosk", site="demo", subject="kiosk-1",
                       replace_previous=True)
    assert third["replaced"] == [new["jti"]]
    assert await status_of(server, "demo", new["token"]) == 401
    assert await status_of(server, "clinic", there["token"]) == 200
    assert await status_of(server, "demo", third["token"]) == 200

    # Not listed, or another site's / role's: refused, nothing minted or revoked.
    for body, reason in (({"replaces": "nosuchid"}, "unknown_token"),
                         ({"replaces": there["jti"]}, "other_scope")):
        r = await server.client.post("/v1/tokens", json={
            "role": "kiosk", "site": "demo", "subject": "kiosk-1", **body},
            headers=server.auth("admin"))
        assert r.status_code == 400, r.text
        assert r.json()["details"]["field"] == "replaces"
        assert r.json()["details"]["reason"] == reason
    assert await status_of(server, "clinic", there["token"]) == 200
    assert len((await listed(server))["tokens"]) == 4


def cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SWITCHBOARD_SECRET": SECRET}
    return subprocess.run([sys.executable, "-m", "realtime.cli", *args, "--data-dir",
                           str(data_dir)], env=env, capture_output=True, text=True, timeout=60)


async def test_revoking_a_subject_at_one_site(server: Server, redis_server: EmbeddedRedis,
                                             tmp_path: Path) -> None:
    await put_clinic(server)
    here = await mint(server, role="display", site="demo", subject="lobby-tv")
    there = await mint(server, role="display", site="clinic", subject="lobby-tv")
    r = await server.client.post("/v1/revocations", json={"subject": "lobby-tv",
                                                           "site": "clinic"},
                                 headers=server.auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json()["revoked"]["site"] == "clinic"
    assert await status_of(server, "clinic", there["token"]) == 401
    assert await status_of(server, "demo", here["token"]) == 200
    # A link made afterwards for that site works.
    fresh = await mint(server, role="display", site="clinic", subject="lobby-tv")
    assert await status_of(server, "clinic", fresh["token"]) == 200
    # A typo'd site revokes nothing and says so.
    r = await server.client.post("/v1/revocations", json={"subject": "lobby-tv",
                                                           "site": "clinc"},
                                 headers=server.auth("admin"))
    assert r.status_code == 404 and r.json()["code"] == "unknown_site"

    # The CLI, for the other site: heard by the running server.
    done = await asyncio.to_thread(cli, "revoke", "--subject", "lobby-tv", "--site", "demo",
                                   "--redis-url", redis_server.url, data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "at site demo" in done.stdout
    for _ in range(100):
        if await status_of(server, "demo", here["token"]) == 401:
            break
        await asyncio.sleep(0.05)
    assert await status_of(server, "demo", here["token"]) == 401
    assert await status_of(server, "clinic", fresh["token"]) == 200
    listing = (await server.client.get("/v1/revocations", headers=server.auth("admin"))).json()
    assert sorted((s["site"], s["subject"]) for s in listing["site_subjects"]) == [
        ("clinic", "lobby-tv"), ("demo", "lobby-tv")]
    assert listing["subjects"] == []
    bad = await asyncio.to_thread(cli, "revoke", "--token", here["token"], "--site", "demo",
                                  "--redis-url", redis_server.url, data_dir=tmp_path)
    assert bad.returncode == 2 and "--site goes with --subject" in bad.stderr

    # Without --site, a subject's revocation is every site's, as before.
    r = await server.client.post("/v1/revocations", json={"subject": "lobby-tv"},
                                 headers=server.auth("admin"))
    assert r.status_code == 200
    assert await status_of(server, "clinic", fresh["token"]) == 401


async def test_cli_tokens_are_listed_and_expiring_ones_counted(
        server: Server, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    done = await asyncio.to_thread(cli, "token", "agent", "--site", "demo", "--counter", "2",
                                   "--subject", "console-2", "--ttl-s", str(2 * DAY),
                                   "--redis-url", redis_server.url, data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = (await listed(server, site="demo"))["tokens"]
    assert [(t["subject"], t["counter"]) for t in rows] == [("console-2", "2")]
    assert rows[0]["minted_by"].startswith("cli:")
    await mint(server, role="kiosk", site="demo", subject="kiosk-1", ttl_s=5 * DAY)
    await mint(server, role="kiosk", site="demo", subject="kiosk-2")  # a year: not soon
    text = (await server.client.get("/metrics")).text
    assert 'switchboard_tokens_expiring_soon{role="agent",site="demo"} 1.0' in text
    assert 'switchboard_tokens_expiring_soon{role="kiosk",site="demo"} 1.0' in text
    # An unreachable Redis: the token is still printed, its absence from the list said.
    done = await asyncio.to_thread(cli, "token", "admin", "--redis-url",
                                   "redis://127.0.0.1:1/0", data_dir=tmp_path)
    assert done.returncode == 0 and done.stdout.count(".") == 2
    assert "not in the server's list of issued links" in done.stderr
