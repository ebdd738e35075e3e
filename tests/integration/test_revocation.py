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
from realtime.auth import LEEWAY_S, make_token
from realtime.redisproc import EmbeddedRedis
from realtime.settings import Settings, from_env
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


async def refused_within(server: Server, token: str, within_s: float) -> bool:
    """Whether HTTP refuses ``token`` (401) within ``within_s``: a revocation written by
    another process reaches this one on pub/sub, a moment later, not at once."""
    deadline = time.monotonic() + within_s
    while True:
        r = await server.client.get("/v1/sites/demo", headers=bearer(token))
        if r.status_code == 401 or time.monotonic() > deadline:
            return r.status_code == 401
        await asyncio.sleep(0.05)


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
        done = await asyncio.to_thread(cli, "revoke", "--subject", "kiosk-lobby-2",
                                       "--redis-url", redis_server.url, data_dir=tmp_path)
        # Timed from the CLI's exit, not its start: starting a Python process took 15.7 s
        # on a loaded machine. Heard on pub/sub, not by the periodic reload (RELOAD_S).
        written = time.monotonic()
        assert done.returncode == 0, done.stderr
        assert "kiosk-lobby-2" in done.stdout
        assert " UTC;" in done.stdout  # a readable time, not 1796666757.5756824
        await closed_as_revoked(ws)
        assert time.monotonic() - written < revocation.RELOAD_S / 3
    finally:
        await ws.close()
    assert (await server.client.get("/v1/sites/demo", headers=bearer(token))).status_code == 401
    # One token by stdin (kept out of the shell history), and the listing.
    one = server.token("display", site="demo")
    done = await asyncio.to_thread(cli, "revoke", "--token", "-", "--redis-url",
                                   redis_server.url, data_dir=tmp_path, stdin=one + "\n")
    assert done.returncode == 0, done.stderr
    assert await refused_within(server, one, revocation.RELOAD_S / 3)
    listed = await asyncio.to_thread(cli, "revoke", "--list", "--redis-url", redis_server.url,
                                     data_dir=tmp_path)
    shown = json.loads(listed.stdout)
    assert [s["subject"] for s in shown["subjects"]] == ["kiosk-lobby-2"]
    assert shown["subjects"][0]["before_utc"].endswith(" UTC")
    assert shown["tokens"][0]["expires_utc"].endswith(" UTC")
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
    # An entry goes once its token would be refused anyway: LEEWAY_S after its exp (a token
    # is accepted that long past it), plus the prune margin.
    gone_by = LEEWAY_S + revocation.TOKEN_PRUNE_MARGIN_S
    short = make_token(SECRET, "display", site="demo", ttl_s=1, now=time.time() - gone_by)
    async with running_server(redis_server.url, tmp_path) as s:
        await s.client.post("/v1/revocations", json={"token": short}, headers=s.auth("admin"))
        assert await redis.zcard(revocation.TOKENS) == 2
        await asyncio.sleep(1.2)
        listed = (await s.client.get("/v1/revocations", headers=s.auth("admin"))).json()
        assert len(listed["tokens"]) == 1
    lists = revocation.Revocations()
    await lists.load(redis)
    assert await redis.zcard(revocation.TOKENS) == 1 and len(lists.tokens) == 1


# -- the longest lifetime, and subject cut-offs that go ------------------------------------

LONGEST = 5 * 366 * 86400  # SWITCHBOARD_MAX_TOKEN_TTL_S's default (the test servers')


async def test_a_token_lasting_longer_than_the_maximum_is_refused(server: Server) -> None:
    """What lets a subject's cut-off go: every token accepted expires within the maximum
    of its ``iat``. At the maximum: good; past it, or without ``iat``: refused."""
    at_most = server.token("display", site="demo", ttl_s=LONGEST)
    assert (await server.client.get("/v1/sites/demo", headers=bearer(at_most))).status_code \
        == 200
    longer = server.token("display", site="demo", ttl_s=LONGEST + 3600)
    r = await server.client.get("/v1/sites/demo", headers=bearer(longer))
    assert r.status_code == 401 and r.json()["details"] == {"reason": "lifetime"}, r.text
    assert "SWITCHBOARD_MAX_TOKEN_TTL_S" in r.json()["message"]
    async with websockets.connect(f"{ws_url(server)}?token={longer}") as ws:
        err = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert err["code"] == "unauthorized" and "longer than" in err["message"]
    no_iat = jwt.encode({"role": "display", "sub": "lobby-tv", "site": "demo",
                         "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")
    assert (await server.client.get("/v1/sites/demo", headers=bearer(no_iat))).status_code \
        == 401


async def wait_pruned(redis: Redis, subject: str) -> None:
    for _ in range(100):
        if not await redis.hexists(revocation.SUBJECTS, subject):  # type: ignore[misc]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the cut-off of {subject} is still there")


async def test_subject_cutoffs_older_than_the_longest_lifetime_go(server: Server,
                                                                  redis: Redis) -> None:
    now = time.time()
    horizon = now - LONGEST - revocation.PRUNE_MARGIN_S  # older refuses nothing valid
    # Kept: one whose tokens could all have expired but for clocks a day apart, and one
    # that still refuses a token that is valid.
    for subject, before in (("old-tablet", horizon - 60), ("in-margin", horizon + 3600),
                            ("recent-tablet", now - LONGEST + 3600)):
        r = await server.client.post("/v1/revocations", json={"subject": subject,
                                     "before": before}, headers=server.auth("admin"))
        assert r.status_code == 200, r.text
    await redis.hset(revocation.SUBJECTS, "by-hand", "never")  # type: ignore[misc]
    # The server reloads on each revocation and prunes as it loads.
    r = await server.client.post("/v1/revocations", json={"subject": "clerk-ana"},
                                 headers=server.auth("admin"))
    await wait_pruned(redis, "old-tablet")
    listed = (await server.client.get("/v1/revocations", headers=server.auth("admin"))).json()
    assert sorted(s["subject"] for s in listed["subjects"]) == [
        "by-hand", "clerk-ana", "in-margin", "recent-tablet"]
    # Safe: any token the dropped cut-off refused is refused still, as too long-lived or as
    # expired; the subject's tokens issued since work.
    before = horizon - 60
    alive = make_token(SECRET, "display", site="demo", subject="old-tablet", now=before - 10,
                       ttl_s=int(now - before) + 3600)
    r = await server.client.get("/v1/sites/demo", headers=bearer(alive))
    assert r.status_code == 401 and r.json()["details"] == {"reason": "lifetime"}
    within = make_token(SECRET, "display", site="demo", subject="old-tablet", now=before - 10,
                        ttl_s=LONGEST)
    r = await server.client.get("/v1/sites/demo", headers=bearer(within))
    assert r.status_code == 401 and "expired" in r.json()["message"]
    later = make_token(SECRET, "display", site="demo", subject="old-tablet")
    assert (await server.client.get("/v1/sites/demo", headers=bearer(later))).status_code \
        == 200
    # A cut-off younger than the maximum still refuses what it did.
    young = make_token(SECRET, "display", site="demo", subject="recent-tablet",
                       now=now - LONGEST + 3000, ttl_s=LONGEST)
    r = await server.client.get("/v1/sites/demo", headers=bearer(young))
    assert r.status_code == 401 and r.json()["details"] == {"reason": "revoked"}


async def test_only_a_process_that_knows_the_maximum_prunes(redis: Redis) -> None:
    """``switchboard revoke`` (its shell may lack the server's setting) prunes nothing; a
    cut-off raised since it was old is kept."""
    old = time.time() - LONGEST - revocation.PRUNE_MARGIN_S - 60
    await redis.hset(revocation.SUBJECTS, mapping={"a": repr(old), "b": repr(old)})  # type: ignore[misc]
    await revocation.Revocations().load(redis)
    assert await redis.hlen(revocation.SUBJECTS) == 2  # type: ignore[misc]
    server_lists = revocation.Revocations(LONGEST)
    await server_lists.revoke_subject(redis, "b", time.time())  # raised: b stays
    await server_lists.load(redis)
    assert list(server_lists.subjects) == ["b"]
    assert [k.decode() for k in await redis.hkeys(revocation.SUBJECTS)] == ["b"]  # type: ignore[misc]


async def test_a_process_with_a_lower_maximum_prunes_by_the_highest_seen(redis: Redis) -> None:
    """A second host (or a rolling change) with a lower maximum deleted cut-offs the other
    processes still needed, and a revoked token worked again there (review). Pruning uses
    the longest lifetime any process has accepted."""
    year = 366 * 86400.0
    cutoff = time.time() - 400 * 86400  # revoked 400 days ago: a 3-year token still lives
    await redis.hset(revocation.SUBJECTS, "lost-board", repr(cutoff))  # type: ignore[misc]
    await revocation.Revocations(5 * year).load(redis)  # the first server
    short = revocation.Revocations(372 * 86400.0)  # another one, set to about a year
    await short.load(redis)
    assert "lost-board" in short.subjects
    assert await redis.hexists(revocation.SUBJECTS, "lost-board")  # type: ignore[misc]
    assert float(await redis.get(revocation.MAX_TTL_SEEN)) == 5 * year
    # Old enough for the longest lifetime too: then it goes.
    await redis.hset(revocation.SUBJECTS, "gone", repr(time.time() - 6 * year))  # type: ignore[misc]
    await short.load(redis)
    assert "gone" not in short.subjects and "lost-board" in short.subjects


def test_the_maximum_covers_every_lifetime_handed_out(tmp_path: Path) -> None:
    assert from_env({}).max_token_ttl_s == LONGEST == Settings().max_token_ttl_s
    for env in ({"SWITCHBOARD_MAX_TOKEN_TTL_S": str(300 * 86400)},  # below the device year
                {"SWITCHBOARD_TOKEN_TTL_S": str(30 * 86400),  # a job's token: + a year
                 "SWITCHBOARD_MAX_TOKEN_TTL_S": str(380 * 86400)}):
        with pytest.raises(SystemExit, match="max_token_ttl_s"):
            from_env(env)
    assert from_env({"SWITCHBOARD_MAX_TOKEN_TTL_S": str(371 * 86400)}).max_token_ttl_s \
        == 371 * 86400
    # `switchboard token` mints nothing the server would refuse.
    env = {**os.environ, "SWITCHBOARD_SECRET": SECRET,
           "SWITCHBOARD_MAX_TOKEN_TTL_S": str(400 * 86400)}
    args = [sys.executable, "-m", "realtime.cli", "token", "display", "--site", "demo",
            "--data-dir", str(tmp_path), "--ttl-s"]
    long = subprocess.run([*args, str(400 * 86400 + 1)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert long.returncode == 2 and "SWITCHBOARD_MAX_TOKEN_TTL_S" in long.stderr
    assert not long.stdout
    ok = subprocess.run([*args, str(400 * 86400)], env=env, capture_output=True, text=True,
                        timeout=60)
    assert ok.returncode == 0, ok.stderr
    claims = jwt.decode(ok.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == pytest.approx(400 * 86400)
