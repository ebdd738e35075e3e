"""Fixes of the device simulator (clients/device_sim.py), against a real server and worker:
action ids unique across runs, refused actions counted and not pretended, technicians sent
offline at the end (also on Ctrl-C), and time windows waited for instead of driven to at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis

from clients.device_sim import Device, fleet, summary
from dispatch import keys
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server, running_server
from tests.integration.test_dispatch_support import arq_worker, config

ROOT = Path(__file__).resolve().parents[2]
HOME = {"lat": 52.3700, "lon": 4.8900}
AID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")  # realtime/hub/dispatch_topics.py Act.aid
FAST = {"speed_kmh": 100.0, "time_scale": 30.0, "accept": 1.0, "gps_every_s": 0.2,
        "dwell_s": 2.0}


def _wall() -> int:
    return time.time_ns() // 1_000_000


# -- without a server --------------------------------------------------------------------------

def test_action_ids_differ_between_runs_and_fit_the_wire() -> None:
    one, two = (Device("city.t1", "tok", "ws://x/ws") for _ in range(2))
    assert one.run_id != two.run_id
    aids = [one.act("online"), one.act("accept", "city.j1"), two.act("online")]
    assert aids[0] != aids[2]  # the second run's first action is not the first run's
    for aid in aids:
        assert AID.match(aid) and len(aid) <= 16, aid
    frame = msgspec.msgpack.encode(one.outbox[1])
    assert len(frame) <= 80, len(frame)
    # A retry within the run (unanswered, sent again) keeps its id: applied once.
    sent = one.outbox.popleft()
    one._sent[sent["id"]] = sent
    one._resend_unanswered()
    assert one.outbox[0] is sent and one.outbox[0]["aid"] == aids[0]


def test_refused_action_is_counted_logged_and_not_pretended(
        caplog: pytest.LogCaptureFixture) -> None:
    dev = Device("city.t1", "tok", "ws://x/ws")
    dev.act("accept", "city.j1")
    dev.act("complete", "city.j1")
    dev.done.add("city.j1")
    acc, comp = dev.outbox.popleft(), dev.outbox.popleft()
    dev._sent.update({acc["id"]: acc, comp["id"]: comp})
    with caplog.at_level(logging.WARNING, "switchboard.device_sim"):
        dev._answered({"op": "pong", "id": acc["id"]})
        dev._answered({"op": "error", "code": "action_mismatch", "id": comp["id"],
                       "message": "used for another action", "temporary": False})
    s = dev.stats
    assert s.accepted == 1 and s.completed == 0
    assert s.refused == 1 and s.refusals == Counter({"action_mismatch": 1})
    assert "city.j1" not in dev.done and dev.refused_jobs["city.j1"] == 1
    assert "action_mismatch" in caplog.text and comp["aid"] in caplog.text


# -- against a real server ---------------------------------------------------------------------

@pytest.fixture
async def city(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
               ) -> AsyncIterator[Server]:
    """A server with region ``city``, its technician ``city.t1`` (offline), and a worker."""
    async with running_server(redis_server.url, tmp_path) as srv:
        await _city(srv)
        async with arq_worker(redis_server.url):
            yield srv


async def _city(srv: Server) -> None:
    c, admin = srv.client, srv.auth("admin")
    cfg = config(geofence_dwell_s=1, improve_s=0, geofence_enter_m=60, geofence_exit_m=120)
    assert (await c.put("/v1/regions/city", content=msgspec.json.encode(cfg),
                        headers=admin)).status_code == 200
    assert (await c.put("/v1/technicians/city.t1", headers=admin, json={
        "name": "Anna", "home": HOME, "shift": {"start": "00:00", "end": "24:00"}})
            ).status_code == 200


async def _job(srv: Server, **extra: Any) -> str:
    r = await srv.client.post("/v1/regions/city/jobs", headers=srv.auth("admin"), json={
        "location": {"lat": 52.3712, "lon": 4.8900}, "duration_s": 60, **extra})
    assert r.status_code in (200, 201), r.text
    return str(r.json()["id"])


async def _get(srv: Server, path: str) -> dict[str, Any]:
    r = await srv.client.get(path, headers=srv.auth("admin"))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _until(srv: Server, path: str, status: str) -> None:
    for _ in range(300):
        if (await _get(srv, path))["status"] == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never became {status}")


async def _kinds(redis: Redis) -> Counter[str]:
    return Counter(f[b"t"].decode() for _, f in await redis.xrange(keys.events("city")))


@pytest.mark.slow
async def test_second_run_works_and_each_run_ends_offline(city: Server, redis: Redis) -> None:
    srv = city
    for run in range(2):
        jid = await _job(srv)
        stats = await fleet(srv.base, srv.token("admin"), "city", ["city.t1"], 10.0, **FAST)
        s = stats["city.t1"]
        assert (await _get(srv, f"/v1/jobs/{jid}"))["status"] == "done", (run, s)
        assert s.refused == 0, (run, s.refusals)
        assert s.accepted == 1 and s.completed == 1, (run, s)
        # The run ended by telling the server the technician went offline.
        assert s.went_offline, run
        assert (await _get(srv, "/v1/technicians/city.t1"))["status"] == "offline", run
    kinds = await _kinds(redis)
    assert kinds["job_done"] == 2 and kinds["offer_accepted"] == 2


@pytest.mark.slow
async def test_job_cancelled_on_the_way_is_not_completed(city: Server, redis: Redis) -> None:
    srv = city
    jid = await _job(srv)
    run = asyncio.create_task(fleet(srv.base, srv.token("admin"), "city", ["city.t1"],
                                    10.0, **{**FAST, "speed_kmh": 50.0}))
    await _until(srv, f"/v1/jobs/{jid}", "en_route")
    r = await srv.client.post(f"/v1/jobs/{jid}/cancel", headers=srv.auth("admin"),
                              json={"reason": "customer called"})
    assert r.status_code == 200, r.text
    s = (await run)["city.t1"]
    assert (await _get(srv, f"/v1/jobs/{jid}"))["status"] == "cancelled"
    assert s.completed == 0 and s.refusals["invalid_transition"] == 0, s
    assert s.went_offline
    kinds = await _kinds(redis)
    assert kinds["job_done"] == 0 and kinds["job_arrived"] == 0


@pytest.mark.slow
async def test_windowed_job_is_reached_at_the_window_opening(city: Server, redis: Redis) -> None:
    srv = city
    opens = _wall() + 9_000
    jid = await _job(srv, window={"start_ms": opens, "end_ms": opens + 3600_000})
    stats = await fleet(srv.base, srv.token("admin"), "city", ["city.t1"], 18.0, **FAST)
    job = await _get(srv, f"/v1/jobs/{jid}")
    assert job["status"] == "done", job
    # ~133 m at 100 km/h: about 5 s; it left then, not at once, and was on site at the opening.
    departed = [msgspec.json.decode(f[b"d"])["at"]
                for _, f in await redis.xrange(keys.events("city"))
                if f[b"t"] == b"job_departed"]
    assert len(departed) == 1 and departed[0] >= opens - 8_000, (departed[0] - opens)
    assert job["arrived_ms"] >= opens - 1_000, (job["arrived_ms"] - opens)
    assert stats["city.t1"].completed == 1


@pytest.mark.slow
async def test_ctrl_c_prints_the_summary_and_sends_technicians_offline(city: Server) -> None:
    srv = city
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clients.device_sim", "--base", srv.base,
        "--token", srv.token("admin"), "--region", "city", "--techs", "city.t1",
        "--gps-every-s", "0.2", "--minutes", "5", cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await _until(srv, "/v1/technicians/city.t1", "available")  # it went online
        await asyncio.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err, err.decode()
    assert b"city.t1:" in out and b"offline at the end" in out, out.decode()
    assert b"NOT offline" not in out
    assert (await _get(srv, "/v1/technicians/city.t1"))["status"] == "offline"


async def test_a_device_shut_out_by_the_server_stops_and_says_so(city: Server) -> None:
    # The technician's tokens revoked mid-run (as removing the technician does): the device
    # stopped receiving but went on driving to the end of its run, offline for nothing.
    srv = city
    started = time.monotonic()
    run = asyncio.create_task(fleet(srv.base, srv.token("admin"), "city", ["city.t1"], 60.0,
                                    **FAST))
    await _until(srv, "/v1/technicians/city.t1", "available")
    r = await srv.client.post("/v1/revocations", json={"subject": "tech:city.t1"},
                              headers=srv.auth("admin"))
    assert r.status_code == 200, r.text
    s = (await asyncio.wait_for(run, 20))["city.t1"]
    assert time.monotonic() - started < 30
    assert s.shut_out == "unauthorized revoked", s
    assert "SHUT OUT by the server (unauthorized revoked)" in summary("city.t1", s)
