"""The device simulator against a real server and a real arq worker: a technician takes an
offer, drives to the job, the geofence marks the arrival, the job is done — with the
device dropping its connection on the way and replaying what it buffered."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from redis.asyncio import Redis

from clients.device_sim import fleet
from dispatch import keys
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server, running_server
from tests.integration.test_dispatch_support import arq_worker, config


@pytest.fixture
async def srv(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
              ) -> AsyncIterator[Server]:
    async with running_server(redis_server.url, tmp_path) as s:
        yield s


@pytest.mark.slow
async def test_simulated_device_does_a_job(srv: Server, redis: Redis,
                                           redis_server: EmbeddedRedis) -> None:
    c, admin = srv.client, srv.auth("admin")
    cfg = config(geofence_dwell_s=1, improve_s=0, geofence_enter_m=60, geofence_exit_m=120)
    assert (await c.put("/v1/regions/city", content=msgspec.json.encode(cfg),
                        headers=admin)).status_code == 200
    await c.put("/v1/technicians/city.t1", headers=admin, json={
        "name": "Anna", "home": {"lat": 52.3700, "lon": 4.8900},
        "shift": {"start": "00:00", "end": "24:00"}})
    async with arq_worker(redis_server.url):
        r = await c.post("/v1/regions/city/jobs", headers=admin, json={
            "location": {"lat": 52.3712, "lon": 4.8900}, "duration_s": 60})
        jid = r.json()["id"]
        stats = await fleet(srv.base, srv.token("admin"), "city", ["city.t1"], 14.0,
                            speed_kmh=100.0, time_scale=30.0, accept=1.0, gps_every_s=0.2,
                            dwell_s=2.0, offline_every_s=3.0)
    s = stats["city.t1"]
    assert s.offers == 1 and s.accepted == 1 and s.completed == 1 and s.reconnects >= 1
    job = (await c.get(f"/v1/jobs/{jid}", headers=admin)).json()
    assert job["status"] == "done"
    kinds = Counter(f[b"t"].decode() for _, f in await redis.xrange(keys.events("city")))
    assert kinds["offer_accepted"] == kinds["job_departed"] == kinds["job_done"] == 1
    assert kinds["job_arrived"] == 1 and kinds["gps"] > 10
