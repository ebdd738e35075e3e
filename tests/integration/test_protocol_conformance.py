"""What docs/protocol.md and docs/asyncapi.yaml promise a client built from them alone, checked
against a real server (uvicorn, real sockets, real Redis). Each test pins a documented
behaviour no other test pinned: the exact abuse threshold, what is answered before
authentication, subprotocol choice, re-subscribing, topic and `since` validation, device
errors without an `id`, per-stream epochs, Idempotency-Key and the HTTP rate-limit answers.
"""

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

from dispatch.engine import NoEnqueuer
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server, _demo_json, running_server
from tests.integration.test_dispatch_support import (
    ADMIN,
    add_techs,
    clock_engine,
    config,
    tech_spec,
)

JSON = Subprotocol("switchboard.v1.json")
MSGPACK = Subprotocol("switchboard.v1.msgpack")


def ws_url(server: Server, token: str | None = None) -> str:
    url = server.base.replace("http", "ws") + "/ws"
    return f"{url}?token={token}" if token else url


def decode(frame: str | bytes) -> dict[str, Any]:
    if isinstance(frame, bytes):
        out: dict[str, Any] = msgspec.msgpack.decode(frame)
        return out
    out = json.loads(frame)
    return out


async def recv(ws: Any, wait_s: float = 5.0) -> dict[str, Any]:
    return decode(await asyncio.wait_for(ws.recv(), wait_s))


async def ask(ws: Any, msg: dict[str, Any] | str) -> dict[str, Any]:
    await ws.send(msg if isinstance(msg, str) else json.dumps(msg))
    return await recv(ws)


async def quiet(ws: Any, wait_s: float = 0.3) -> bool:
    """True when nothing arrives within ``wait_s``."""
    try:
        await asyncio.wait_for(ws.recv(), wait_s)
    except TimeoutError:
        return True
    return False


async def load_demo(s: Server) -> None:
    r = await s.client.put("/v1/sites/demo", content=_demo_json(), headers=s.auth("admin"))
    assert r.status_code == 200, r.text


def _wall() -> int:
    return time.time_ns() // 1_000_000


# -- connecting ------------------------------------------------------------------------------

async def test_subprotocol_choice_and_frames_read_by_subprotocol(server: Server) -> None:
    token = server.token("display", site="demo")
    for offer, chosen in [([JSON, MSGPACK], MSGPACK), ([MSGPACK, JSON], MSGPACK),
                          ([JSON], JSON), (None, None), ([Subprotocol("chat")], None)]:
        async with websockets.connect(ws_url(server, token), subprotocols=offer) as ws:
            assert ws.subprotocol == chosen, offer
            await ws.send(msgspec.msgpack.encode({"op": "ping", "id": 3}) if chosen == MSGPACK
                          else '{"op": "ping", "id": 3}')
            raw = await asyncio.wait_for(ws.recv(), 5)
            assert isinstance(raw, bytes) == (chosen == MSGPACK), offer
            assert decode(raw) == {"op": "pong", "id": 3}
    # A frame is read by the connection's subprotocol, whatever its websocket frame type.
    async with websockets.connect(ws_url(server, token), subprotocols=[JSON]) as ws:
        await ws.send(b'{"op": "ping", "id": 4}')
        assert await recv(ws) == {"op": "pong", "id": 4}
    async with websockets.connect(ws_url(server, token), subprotocols=[MSGPACK]) as ws:
        await ws.send('{"op": "ping", "id": 5}')
        err = await recv(ws)
        assert err["code"] == "bad_frame" and "id" not in err


async def test_before_auth_only_ping_is_answered_and_a_bad_auth_keeps_the_connection(
        server: Server) -> None:
    async with websockets.connect(ws_url(server), subprotocols=[JSON]) as ws:
        assert await ask(ws, {"op": "ping", "id": 1}) == {"op": "pong", "id": 1}
        err = await ask(ws, {"op": "subscribe", "topic": "board:demo", "id": 2})
        assert err["op"] == "error" and err["code"] == "unauthorized" and err["id"] == 2
        assert "temporary" not in err
        err = await ask(ws, {"op": "auth", "token": "not-a-token", "id": 3})
        assert err["code"] == "unauthorized" and err["id"] == 3
        good = server.token("display", site="demo")
        assert await ask(ws, {"op": "auth", "token": good, "id": 4}) == {"op": "pong", "id": 4}
        assert await ask(ws, {"op": "auth", "token": good}) == {"op": "pong"}
        # A bad auth later leaves the good token in place.
        assert (await ask(ws, {"op": "auth", "token": "x", "id": 5}))["code"] == "unauthorized"
        snap = await ask(ws, {"op": "subscribe", "topic": "board:demo", "id": 6})
        assert snap["op"] == "snapshot" and snap["id"] == 6


async def test_no_auth_in_time_is_unauthorized_without_id_then_4001(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with (running_server(redis_server.url, tmp_path, ws_auth_timeout_s=0.5) as s,
                websockets.connect(ws_url(s), subprotocols=[JSON]) as ws):
        err = await recv(ws)
        assert err["op"] == "error" and err["code"] == "unauthorized" and "id" not in err
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await recv(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001


# -- violations --------------------------------------------------------------------------------

async def test_the_21st_violation_within_10_s_closes_4009_after_its_error(server: Server
                                                                          ) -> None:
    token = server.token("display", site="demo")
    async with websockets.connect(ws_url(server, token), subprotocols=[JSON]) as ws:
        for i in range(20):
            err = await ask(ws, {"op": "teleport", "id": i})
            assert err["code"] == "unknown_op" and err["id"] == i
        assert await ask(ws, {"op": "ping", "id": 99}) == {"op": "pong", "id": 99}  # still open
        err = await ask(ws, {"op": "teleport", "id": 20})
        assert err["code"] == "unknown_op" and err["id"] == 20  # the 21st is answered, then...
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await recv(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4009
        assert closed.value.rcvd.reason == "abuse"


async def test_rate_limited_is_temporary_without_id(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with running_server(redis_server.url, tmp_path, ws_rate_per_s=1,
                              ws_rate_burst=5) as s:
        token = s.token("display", site="demo")
        async with websockets.connect(ws_url(s, token), subprotocols=[JSON]) as ws:
            for i in range(10):  # the burst, then five more at once: refused unread
                await ws.send(json.dumps({"op": "ping", "id": i}))
            got = [await recv(ws) for _ in range(10)]
            limited = [m for m in got if m["op"] == "error"]
            assert 3 <= len(limited) <= 5
            assert all(m["code"] == "rate_limited" and m["temporary"] is True
                       and "id" not in m for m in limited)
            await asyncio.sleep(1.1)  # the bucket refills; fewer than 21 violations: open
            assert await ask(ws, {"op": "ping", "id": 500}) == {"op": "pong", "id": 500}


# -- subscriptions -----------------------------------------------------------------------------

async def test_subscribing_again_restarts_the_topic_and_counts_once(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with running_server(redis_server.url, tmp_path, ws_max_subscriptions=2) as s:
        await load_demo(s)
        async with websockets.connect(ws_url(s, s.token("admin")), subprotocols=[JSON]) as ws:
            first = await ask(ws, {"op": "subscribe", "topic": "board:demo", "id": 1})
            again = await ask(ws, {"op": "subscribe", "topic": "board:demo", "id": 2})
            assert first["op"] == again["op"] == "snapshot" and again["id"] == 2
            lab = await ask(ws, {"op": "subscribe", "topic": "service:demo:lab"})
            assert lab["op"] == "snapshot" and lab["id"] is None
            assert set(lab["data"]) == {"service", "tickets"}
            err = await ask(ws, {"op": "subscribe", "topic": "counter:demo:1", "id": 3})
            assert err["code"] == "too_many_subscriptions" and err["id"] == 3
            # Unsubscribing succeeds silently and frees the place.
            await ws.send(json.dumps({"op": "unsubscribe", "topic": "board:demo", "id": 4}))
            assert await quiet(ws)
            ctr = await ask(ws, {"op": "subscribe", "topic": "counter:demo:1", "id": 5})
            assert ctr["op"] == "snapshot" and ctr["id"] == 5


async def test_topic_syntax_and_since_validation(server: Server) -> None:
    async with websockets.connect(ws_url(server, server.token("admin")),
                                  subprotocols=[JSON]) as ws:
        for i, topic in enumerate(["BOARD:demo", "board:", "board", "board:de mo"]):
            err = await ask(ws, {"op": "subscribe", "topic": topic, "id": i})
            assert err["code"] == "invalid_message" and err["id"] == i, topic
        for i, topic in enumerate(["board:demo:x", "counter:demo", "galaxy:demo",
                                   "booking:demo.nosuch", "board:nosite"], start=10):
            err = await ask(ws, {"op": "subscribe", "topic": topic, "id": i})
            assert err["code"] == "unknown_topic" and err["id"] == i, topic
        snap = await ask(ws, {"op": "subscribe", "topic": "board:demo", "id": 20})
        epoch = snap["epoch"]
        await ws.send(json.dumps({"op": "unsubscribe", "topic": "board:demo"}))
        err = await ask(ws, {"op": "subscribe", "topic": "board:demo", "id": 21,
                             "since": {"epoch": epoch, "offset": "latest"}})
        assert err["code"] == "invalid_message" and err["id"] == 21
        err = await ask(ws, {"op": "subscribe", "topic": "board:demo", "id": 22,
                             "since": {"epoch": epoch}})
        assert err["code"] == "invalid_message" and err["id"] == 22
        # An offset the stream has not reached: served like lost history, never silently.
        ahead = await ask(ws, {"op": "subscribe", "topic": "board:demo", "id": 23,
                               "since": {"epoch": epoch, "offset": "99999999999999-0"}})
        assert ahead["op"] == "snapshot" and ahead["resync"] is True and ahead["id"] == 23
        # Nothing missed: nothing at all, no snapshot.
        await ws.send(json.dumps({"op": "unsubscribe", "topic": "board:demo"}))
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo", "id": 24,
                                  "since": {"epoch": epoch, "offset": ahead["offset"]}}))
        assert await quiet(ws)
        # "id": null is the same as no id.
        assert await ask(ws, {"op": "ping", "id": None}) == {"op": "pong"}


async def test_queue_views_carry_the_documented_fields(server: Server) -> None:
    kiosk = server.auth("kiosk", site="demo")
    agent = server.auth("agent", site="demo", counter="1")
    r = await server.client.post("/v1/sites/demo/tickets", headers=kiosk,
                                 json={"service": "internal", "channel": "kiosk"})
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["tracker"] == f"/ticket/{t['id']}?token={t['token']}"
    async with websockets.connect(ws_url(server, t["token"]), subprotocols=[JSON]) as ws:
        snap = await ask(ws, {"op": "subscribe", "topic": f"ticket:{t['id']}"})
        assert {"id", "number", "service", "priority", "status", "position", "people_ahead",
                "estimate", "counters_open", "counter", "called_at"} <= set(snap["data"])
        assert snap["data"]["priority"] == "walk_in"
    for op in ("call-next", "recall"):
        r = await server.client.post(f"/v1/sites/demo/counters/1/{op}", headers=agent)
        assert r.status_code == 200, r.text
    display = server.token("display", site="demo")
    async with websockets.connect(ws_url(server, display), subprotocols=[JSON]) as ws:
        board = (await ask(ws, {"op": "subscribe", "topic": "board:demo"}))["data"]
        assert {"site", "name", "languages", "announce_ttl_s", "counters", "recent",
                "services"} <= set(board)
        # A call and its recall: one entry per ticket.
        assert [(c["number"], c["counter"], c["service"]) for c in board["recent"]] == [
            (t["number"], "1", "internal")]
        one = next(c for c in board["counters"] if c["id"] == "1")
        assert set(one["current"]) == {"number", "service", "status", "at", "started"}
        assert one["current"]["started"] is None  # called, not started
        assert one["current"]["at"].endswith("+00:00")  # websocket queue views: UTC
        assert set(board["services"][0]) == {"id", "name", "prefix", "waiting", "estimate",
                                             "open", "parked"}
        assert {"id", "name", "state", "current", "since", "free_since"} == set(one)


# -- dispatch device ops and per-stream epochs -----------------------------------------------

@pytest.fixture
async def region(redis: Redis, server: Server) -> AsyncIterator[None]:
    eng = clock_engine(redis, _wall, NoEnqueuer())
    await eng.put_region("city", config(improve_s=0), ADMIN)
    await add_techs(eng, _wall(), {"city.a": tech_spec(52.370, 4.891, name="Anna")})
    yield


async def test_device_errors_come_without_id_too_and_are_not_violations(
        server: Server, region: None) -> None:
    tech = server.token("tech", tech="city.a")
    async with websockets.connect(ws_url(server, tech), subprotocols=[MSGPACK]) as ws:
        async def send(msg: dict[str, Any]) -> None:
            await ws.send(msgspec.msgpack.encode(msg))

        now = _wall()
        await send({"op": "gps", "t": now, "la": 52.370, "lo": 4.891, "id": 1})
        assert await recv(ws) == {"op": "pong", "id": 1}
        await send({"op": "gps", "t": now + 1000, "la": 52.3701, "lo": 4.891})  # applied
        assert await quiet(ws)  # ...and no id: no answer at all
        for _ in range(25):  # refused without an id: told every time, never closed
            await send({"op": "gps", "t": now, "la": 52.370, "lo": 4.891})
            err = await recv(ws)
            assert err["code"] == "gps_out_of_order" and "id" not in err
        await send({"op": "gps", "t": now + 3_600_000, "la": 52.370, "lo": 4.891, "id": 2})
        err = await recv(ws)
        assert err["code"] == "gps_future" and err["id"] == 2
        await send({"op": "act", "aid": "a-1", "k": "accept", "j": "city.j-nosuch", "t": now})
        err = await recv(ws)
        assert err["code"] == "unknown_job" and "id" not in err
        await send({"op": "act", "aid": "a-2", "k": "break", "t": now, "id": 3})
        assert await recv(ws) == {"op": "pong", "id": 3}
        await send({"op": "act", "aid": "a-2", "k": "break", "t": now, "id": 4})  # replay
        assert await recv(ws) == {"op": "pong", "id": 4}
        await send({"op": "act", "aid": "a-2", "k": "resume", "t": now, "id": 5})
        err = await recv(ws)
        assert err["code"] == "action_mismatch" and err["id"] == 5
        await send({"op": "gps", "t": -1, "la": 52.37, "lo": 4.891, "id": 6})
        err = await recv(ws)
        assert err["code"] == "invalid_message" and err["id"] == 6
        await send({"op": "ping", "id": 7})
        assert await recv(ws) == {"op": "pong", "id": 7}


async def test_epochs_are_per_site_and_per_region(server: Server, region: None) -> None:
    async with websockets.connect(ws_url(server, server.token("admin")),
                                  subprotocols=[JSON]) as ws:
        board = await ask(ws, {"op": "subscribe", "topic": "board:demo"})
        tech = await ask(ws, {"op": "subscribe", "topic": "tech:city.a"})
        assert board["op"] == tech["op"] == "snapshot"
        assert board["epoch"] and tech["epoch"] and board["epoch"] != tech["epoch"]
        # Each topic resumes with its own epoch; another stream's epoch forces a resync.
        await ws.send(json.dumps({"op": "unsubscribe", "topic": "tech:city.a"}))
        mixed = await ask(ws, {"op": "subscribe", "topic": "tech:city.a", "id": 8,
                               "since": {"epoch": board["epoch"], "offset": tech["offset"]}})
        assert mixed["op"] == "snapshot" and mixed["resync"] is True and mixed["id"] == 8


# -- HTTP --------------------------------------------------------------------------------------

async def test_idempotency_key_on_tickets_and_counter_ops(server: Server) -> None:
    kiosk = server.auth("kiosk", site="demo", subject="kiosk-7")
    body = {"service": "internal", "channel": "kiosk"}
    first = await server.client.post("/v1/sites/demo/tickets", json=body,
                                     headers={**kiosk, "Idempotency-Key": "k-1"})
    again = await server.client.post("/v1/sites/demo/tickets", json=body,
                                     headers={**kiosk, "Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    a, b = first.json(), again.json()
    assert a["id"] == b["id"] and a["number"] == b["number"]
    assert a["token"] != b["token"]  # minted afresh for each answer; both work
    for tok in (a["token"], b["token"]):
        r = await server.client.get(f"/v1/tickets/{a['id']}",
                                    headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 200
    other = await server.client.post("/v1/sites/demo/tickets", headers={
        **kiosk, "Idempotency-Key": "k-1"}, json={"service": "lab", "channel": "kiosk"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_mismatch"
    # Keys are per caller: another kiosk's k-1 is another key.
    kiosk8 = server.auth("kiosk", site="demo", subject="kiosk-8")
    r = await server.client.post("/v1/sites/demo/tickets", json=body,
                                 headers={**kiosk8, "Idempotency-Key": "k-1"})
    assert r.status_code == 201 and r.json()["id"] != a["id"]
    r = await server.client.post("/v1/sites/demo/tickets", json=body,
                                 headers={**kiosk, "Idempotency-Key": "k" * 201})
    assert r.status_code == 400 and r.json()["code"] == "bad_request"
    # Counter operations read it too (tests/integration/test_counter_retry.py): a retried
    # call-next is answered with the ticket it called, not counter_busy.
    agent = {**server.auth("agent", site="demo", counter="1"), "Idempotency-Key": "cn-1"}
    r1 = await server.client.post("/v1/sites/demo/counters/1/call-next", headers=agent)
    r2 = await server.client.post("/v1/sites/demo/counters/1/call-next", headers=agent)
    assert r1.status_code == 200 and "idempotent-replayed" not in r1.headers
    assert r2.status_code == 200 and r2.headers["idempotent-replayed"] == "true"
    assert r2.json()["id"] == r1.json()["id"]


async def test_kiosk_budget_counts_refused_attempts_and_answers_retry_after(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with running_server(redis_server.url, tmp_path, kiosk_rate_per_min=1,
                              kiosk_rate_burst=3) as s:
        await load_demo(s)
        kiosk = s.auth("kiosk", site="demo", subject="kiosk-9")
        codes = []
        for _ in range(4):
            r = await s.client.post("/v1/sites/demo/tickets", headers=kiosk,
                                    json={"service": "nosuch", "channel": "kiosk"})
            codes.append(r.status_code)
        assert codes == [404, 404, 404, 429]
        err = r.json()
        assert err["code"] == "rate_limited" and err["temporary"] is True
        assert int(r.headers["retry-after"]) == err["details"]["retry_after_s"] >= 1


async def test_http_error_shapes(server: Server) -> None:
    r = await server.client.delete("/v1/sites/demo/tickets", headers=server.auth("admin"))
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    assert "POST" in r.headers["allow"]
    r = await server.client.get("/v1/no/such/route", headers=server.auth("admin"))
    assert r.status_code == 404 and r.json() == {"code": "not_found", "message": "Not Found"}
    r = await server.client.post("/v1/sites/demo/tickets", headers=server.auth("admin"),
                                 content=b'{"service": "internal"}')  # no Content-Type
    assert r.status_code == 400 and r.json()["code"] == "bad_request"
    assert "channel" in r.json()["message"]
    agent = server.auth("agent", site="demo", counter="2")
    r = await server.client.post("/v1/sites/demo/tickets", headers=agent,
                                 json={"service": "internal", "channel": "window"})
    t = r.json()
    r = await server.client.post(f"/v1/tickets/{t['id']}/cancel", headers=agent)
    assert r.status_code == 200 and r.json()["cancel_reason"] == "by_staff"
    r = await server.client.post(f"/v1/tickets/{t['id']}/cancel", headers=agent)
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"


async def test_display_and_kiosk_read_the_days_stats(server: Server) -> None:
    for role in ("display", "kiosk"):
        r = await server.client.get("/v1/sites/demo/stats", headers=server.auth(role, site="demo"))
        assert r.status_code == 200 and r.json()["site"] == "demo", role
    r = await server.client.get("/v1/sites/demo/stats",
                                headers=server.auth("partner", site="demo"))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


async def test_service_topic_changes_name_their_service(server: Server) -> None:
    supervisor = server.token("supervisor", site="demo")
    async with websockets.connect(ws_url(server, supervisor), subprotocols=[JSON]) as ws:
        snap = await ask(ws, {"op": "subscribe", "topic": "service:demo:lab"})
        assert snap["data"] == {"service": "lab", "tickets": []}
        r = await server.client.post("/v1/sites/demo/tickets",
                                     headers=server.auth("kiosk", site="demo"),
                                     json={"service": "lab", "channel": "kiosk"})
        assert r.status_code == 201
        changed = await recv(ws)
        assert changed["type"] == "changed" and changed["data"]["service"] == "lab"
        assert changed["data"]["removed"] == []
        (ins,) = changed["data"]["inserted"]
        assert ins["after"] is None and ins["ticket"]["id"] == r.json()["id"]
        assert set(ins["ticket"]) == {"id", "number", "priority", "status", "channel",
                                      "issued_at"}  # as in the snapshot's list


async def test_a_job_answer_carries_the_customers_token_topic_and_tracker(
        server: Server, region: None) -> None:
    r = await server.client.post("/v1/regions/city/jobs", headers=server.auth("admin"),
                                 json={"location": {"lat": 52.37, "lon": 4.9},
                                       "duration_s": 600})
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["topic"] == f"job:{job['id']}"
    assert job["tracker"] == f"/track/{job['id']}?token={job['token']}"
    async with websockets.connect(ws_url(server, job["token"]), subprotocols=[JSON]) as ws:
        snap = await ask(ws, {"op": "subscribe", "topic": job["topic"], "id": 1})
        assert snap["op"] == "snapshot" and snap["id"] == 1
        assert {"id", "status", "window", "eta_ms", "technician", "reason"} <= set(snap["data"])
        assert snap["data"]["technician"] is None and snap["data"]["window"] is None
    r = await server.client.post("/v1/technicians/city.a/token", headers=server.auth("admin"))
    assert r.status_code == 200 and set(r.json()) == {"technician", "token"}


async def test_http_token_in_header_or_query_the_header_wins(server: Server) -> None:
    admin = server.token("admin")
    r = await server.client.get(f"/v1/sites/demo?token={admin}")
    assert r.status_code == 200
    r = await server.client.get(f"/v1/sites/demo?token={admin}",
                                headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    r = await server.client.get("/v1/sites/demo?token=not-a-token",
                                headers={"Authorization": f"Bearer {admin}"})
    assert r.status_code == 200


async def test_a_frame_far_over_the_limit_closes_1009_unread(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with running_server(redis_server.url, tmp_path, ws_max_frame_bytes=1024) as s:
        token = s.token("display", site="demo")
        async with websockets.connect(ws_url(s, token), subprotocols=[JSON],
                                      max_size=None) as ws:
            err = await ask(ws, "x" * (1 << 20))  # over the limit, up to 1 MiB: answered
            assert err["code"] == "frame_too_large" and "id" not in err
            await ws.send("x" * ((1 << 20) + 1))  # over max(1 MiB, 4 x limit): closed
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await recv(ws)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
