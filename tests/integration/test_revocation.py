"""Revoking tokens: one token, a subject, over HTTP and the CLI; in force on open websockets,
in another process, and after a restart."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
import websockets
from redis.asyncio import Redis

from realtime import revocation
from realtime.auth import make_token
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import SECRET, Server, running_server


def ws_url(server: Server) -> str:
    return server.base.replace("http", "ws") + "/ws"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def board_socket(server: Server, token: str) -> websockets.ClientConnection:
    ws = await websockets.connect(f"{ws_url(server)}?token={token}")
    await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo", "id": 1}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 5))["op"] == "snapshot"
    return ws


async def closed_as_revoked(ws: websockets.ClientConnection) -> None:
    """The socket gets ``unauthorized`` (revoked), nothing else after it, then 4001."""
    err = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert err["op"] == "error" and err["code"] == "unauthorized", err
    assert "revoked" in err["message"]
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001


async def test_one_token_revoked_everywhere_its_twin_still_works(server: Server) -> None:
    lost = server.token("display", site="demo")
    twin = server.token("display", site="demo")  # same subject (display:demo), another id
    assert jwt.decode(lost, options={"verify_signature": False})["jti"] != \
        jwt.decode(twin, options={"verify_signature": False})["jti"]
    lost_ws = await board_socket(server, lost)
    twin_ws = await board_socket(server, twin)
    try:
        r = await server.client.post("/v1/revocations", json={"token": lost},
                                     headers=server.auth("admin"))
        assert r.status_code == 200, r.text
        done = r.json()["revoked"]
        assert done["kind"] == "token" and done["subject"] == "display:demo"
        await closed_as_revoked(lost_ws)
        # The twin's socket keeps serving: a ticket issued now reaches it.
        r = await server.client.post("/v1/sites/demo/tickets", json={"service": "internal",
                                     "channel": "kiosk"}, headers=server.auth("kiosk",
                                                                               site="demo"))
        assert r.status_code == 201, r.text
        assert json.loads(await asyncio.wait_for(twin_ws.recv(), 5))["op"] == "event"
    finally:
        await lost_ws.close()
        await twin_ws.close()
    r = await server.client.get("/v1/sites/demo", headers=bearer(lost))
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized" and r.json()["details"] == {"reason": "revoked"}
    assert (await server.client.get("/v1/sites/demo", headers=bearer(twin))).status_code == 200
    # A new socket with it is refused at once; the page too.
    async with websockets.connect(f"{ws_url(server)}?token={lost}") as ws:
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["code"] == "unauthorized"
    assert (await server.client.get(f"/board/demo?token={lost}")).status_code == 401
    listed = (await server.client.get("/v1/revocations", headers=server.auth("admin"))).json()
    assert [t["token_id"] for t in listed["tokens"]] == [done["token_id"]]


async def test_a_subject_is_revoked_up_to_now_and_new_tokens_work(server: Server) -> None:
    old = server.token("agent", site="demo", counter="1", subject="clerk-ana")
    other = server.token("agent", site="demo", counter="1", subject="clerk-ben")
    r = await server.client.post("/v1/revocations", json={"subject": "clerk-ana"},
                                 headers=server.auth("admin"))
    assert r.status_code == 200 and r.json()["revoked"]["kind"] == "subject", r.text
    # Minted in the same second as the revocation, after it: good.
    fresh = server.token("agent", site="demo", counter="1", subject="clerk-ana")
    call = "/v1/sites/demo/counters/1/pause"
    assert (await server.client.post(call, headers=bearer(old))).status_code == 401
    assert (await server.client.post(call, headers=bearer(other))).status_code == 200
    assert (await server.client.post("/v1/sites/demo/counters/1/open",
                                     headers=bearer(fresh))).status_code == 200
    # A token minted before tokens had ids (and whole-second iat) is revoked by subject.
    legacy = jwt.encode({"role": "display", "sub": "lobby-tv", "site": "demo",
                         "iat": int(time.time()) - 60, "exp": int(time.time()) + 3600},
                        SECRET, algorithm="HS256")
    assert (await server.client.get("/v1/sites/demo", headers=bearer(legacy))).status_code == 200
    r = await server.client.post("/v1/revocations", json={"token": legacy},
                                 headers=server.auth("admin"))
    assert r.json()["revoked"]["kind"] == "subject" and r.json()["revoked"]["subject"] == \
        "lobby-tv"
    assert (await server.client.get("/v1/sites/demo", headers=bearer(legacy))).status_code == 401


@pytest.mark.parametrize("body, code", [
    ({}, "bad_request"),
    ({"token": "x", "subject": "y"}, "bad_request"),
    ({"subject": "y", "before": 4_000_000_000}, "bad_request"),  # the future
    ({"subject": ""}, "bad_request"),
    ({"subject": 5}, "bad_request"),
    ({"token": "not.a.jwt"}, "bad_request"),
    ({"token": make_token("another-server-secret-0123456789abcdef", "admin")}, "bad_request"),
    ({"subject": "y", "reason": "z"}, "unknown_field"),
])
async def test_bad_revocations_change_nothing(server: Server, redis: Redis,
                                              body: dict[str, object], code: str) -> None:
    r = await server.client.post("/v1/revocations", json=body, headers=server.auth("admin"))
    assert r.status_code == 400 and r.json()["code"] == code, r.text
    assert await redis.exists(revocation.TOKENS, revocation.SUBJECTS) == 0


async def test_only_an_admin_revokes(server: Server, redis: Redis) -> None:
    for token in (server.token("agent", site="demo", counter="1"),
                  server.token("dispatcher", region="city")):
        r = await server.client.post("/v1/revocations", json={"subject": "admin"},
                                     headers=bearer(token))
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        assert (await server.client.get("/v1/revocations", headers=bearer(token))
                ).status_code == 403
    assert (await server.client.post("/v1/revocations", json={"subject": "x"})).status_code \
        == 401
    assert await redis.exists(revocation.SUBJECTS) == 0


def cli(*args: str, data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SWITCHBOARD_SECRET": SECRET}
    return subprocess.run([sys.executable, "-m", "realtime.cli", *args, "--data-dir",
                           str(data_dir)], env=env, input=stdin, capture_output=True, text=True,
                          timeout=60)


async def test_cli_revocation_reaches_a_running_server(server: Server,
                                                       redis_server: EmbeddedRedis,
                                                       tmp_path: Path) -> None:
    """``switchboard revoke`` writes Redis from another process; the server hears it on
    pub/sub and closes the socket within a moment, without a restart."""
    token = server.token("kiosk", site="demo", subject="kiosk-lobby-2")
    ws = await board_socket(server, server.token("display", site="demo",
                                                 subject="kiosk-lobby-2"))
    try:
        t0 = time.monotonic()
        done = await asyncio.to_thread(cli, "revoke", "--subject", "kiosk-lobby-2",
                                       "--redis-url", redis_server.url, data_dir=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "kiosk-lobby-2" in done.stdout
        await closed_as_revoked(ws)
        assert time.monotonic() - t0 < 10  # the CLI's start-up is most of it
    finally:
        await ws.close()
    assert (await server.client.get("/v1/sites/demo", headers=bearer(token))).status_code == 401
    # One token by stdin (kept out of the shell history), and the listing.
    one = server.token("display", site="demo")
    done = await asyncio.to_thread(cli, "revoke", "--token", "-", "--redis-url",
                                   redis_server.url, data_dir=tmp_path, stdin=one + "\n")
    assert done.returncode == 0, done.stderr
    await asyncio.sleep(0.5)
    assert (await server.client.get("/v1/sites/demo", headers=bearer(one))).status_code == 401
    listed = await asyncio.to_thread(cli, "revoke", "--list", "--redis-url", redis_server.url,
                                     data_dir=tmp_path)
    shown = json.loads(listed.stdout)
    assert [s["subject"] for s in shown["subjects"]] == ["kiosk-lobby-2"]
    assert len(shown["tokens"]) == 1
    # Refusals: a foreign token (exit 2, nothing written), an unreachable Redis (exit 1).
    bad = await asyncio.to_thread(cli, "revoke", "--token", make_token(
        "another-server-secret-0123456789abcdef", "admin"), "--redis-url", redis_server.url,
        data_dir=tmp_path)
    assert bad.returncode == 2 and "signature" in bad.stderr
    gone = await asyncio.to_thread(cli, "revoke", "--subject", "x", "--redis-url",
                                   "redis://127.0.0.1:1/0", data_dir=tmp_path)
    assert gone.returncode == 1 and "cannot reach Redis" in gone.stderr


async def test_revocations_outlive_a_restart(redis: Redis, redis_server: EmbeddedRedis,
                                             tmp_path: Path) -> None:
    token = make_token(SECRET, "admin", subject="ops-laptop")
    async with running_server(redis_server.url, tmp_path) as s:
        r = await s.client.post("/v1/revocations", json={"token": token},
                                headers=s.auth("admin"))
        assert r.status_code == 200
    async with running_server(redis_server.url, tmp_path) as s:
        assert (await s.client.get("/v1/sites", headers=bearer(token))).status_code == 401
        assert (await s.client.get("/v1/sites", headers=s.auth("admin"))).status_code == 200
    # An entry goes when its token would have expired anyway.
    short = make_token(SECRET, "display", site="demo", ttl_s=1)
    async with running_server(redis_server.url, tmp_path) as s:
        await s.client.post("/v1/revocations", json={"token": short}, headers=s.auth("admin"))
        assert await redis.zcard(revocation.TOKENS) == 2
        await asyncio.sleep(1.2)
        listed = (await s.client.get("/v1/revocations", headers=s.auth("admin"))).json()
        assert len(listed["tokens"]) == 1
    lists = revocation.Revocations()
    await lists.load(redis)
    assert await redis.zcard(revocation.TOKENS) == 1 and len(lists.tokens) == 1
