"""KPIs per local day on a real server and Redis: events on two local days of the region
(Shanghai: both on one UTC day) give two days' KPIs, ``?date=`` reads each (region and
organisation), a bad date is a stable 400, a day not kept answers no figures with
``kept: false``, and the checkpoint fold across days stays compare-and-set."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest
from redis.asyncio import Redis

from clients.client import Client
from dispatch import checkpoint, keys
from dispatch.engine import DispatchEngine, NoEnqueuer
from dispatch.model import JobRequest, Point
from dispatch.recompute import Recomputer
from dispatch.store import Store
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Clock, Server, running_server
from tests.integration.test_dispatch_erase import deng
from tests.integration.test_dispatch_hub import _wall, city, dserver, ws_url
from tests.integration.test_dispatch_kpi_race import _stopped_fold, _stored
from tests.integration.test_dispatch_support import ADMIN, clock_engine, config, recorder

__all__ = ["city", "deng", "dserver", "recorder"]  # the fixtures, imported for pytest

TZ = "Asia/Shanghai"
HERE = Point(52.37, 4.89)


@pytest.fixture
async def srv(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
              ) -> AsyncIterator[Server]:
    async with running_server(redis_server.url, tmp_path) as s:
        yield s


def _local_day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(TZ)).date()


def _midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(TZ)).timestamp() * 1000)


async def test_two_local_days_read_by_date(srv: Server, redis: Redis) -> None:
    c, admin = srv.client, srv.auth("admin")
    cfg = msgspec.structs.replace(config(), timezone=TZ)
    assert (await c.put("/v1/regions/city", content=msgspec.json.encode(cfg), headers=admin)
            ).status_code == 200
    await c.put("/v1/orgs/city.acme", json={"name": "ACME"}, headers=admin)
    real = time.time_ns() // 1_000_000
    today = _local_day(real)
    yesterday = today - timedelta(days=1)
    midnight = _midnight(today)
    # 23:30 yesterday and just after midnight today, Shanghai time: one UTC day.
    late, early = midnight - 1_800_000, midnight + min(60_000, (real - midnight) // 2)
    assert datetime.fromtimestamp(late / 1000, UTC).date() == datetime.fromtimestamp(
        early / 1000, UTC).date()
    clk = Clock(late)
    eng = clock_engine(redis, clk, NoEnqueuer())
    first = await eng.create_job("city", JobRequest(location=HERE, org="city.acme"), ADMIN)
    await eng.create_job("city", JobRequest(location=HERE), ADMIN)
    clk.now = early
    await eng.create_job("city", JobRequest(location=HERE), ADMIN)
    await eng.cancel_job(first["id"], "", ADMIN)  # counts on the day it ended

    disp = srv.auth("dispatcher", region="city")
    now = (await c.get("/v1/regions/city/kpis", headers=disp)).json()
    assert (now["region"], now["day"], now["timezone"], now["kept"]) == (
        "city", today.isoformat(), TZ, True)
    assert (now["jobs_created"], now["jobs_cancelled"]) == (1, 1) and "offset" in now
    before = (await c.get(f"/v1/regions/city/kpis?date={yesterday}", headers=disp)).json()
    assert (before["day"], before["jobs_created"], before["jobs_cancelled"]) == (
        yesterday.isoformat(), 2, 0)
    dated = (await c.get(f"/v1/regions/city/kpis?date={today}", headers=disp)).json()
    assert {**dated, "utilisation": None} == {**now, "utilisation": None}

    org = (await c.get(f"/v1/orgs/city.acme/kpis?date={yesterday}", headers=disp)).json()
    assert (org["org"], org["day"], org["jobs_created"], org["jobs_cancelled"]) == (
        "city.acme", yesterday.isoformat(), 1, 0)
    org = (await c.get("/v1/orgs/city.acme/kpis", headers=disp)).json()
    assert (org["day"], org["jobs_created"], org["jobs_cancelled"]) == (today.isoformat(), 0, 1)

    # Not kept (before the 35 days, or after today): no figures, said so.
    for day in (today - timedelta(days=40), today + timedelta(days=1)):
        r = await c.get(f"/v1/regions/city/kpis?date={day}", headers=disp)
        assert r.status_code == 200 and r.json()["kept"] is False
        assert r.json()["jobs_created"] == 0 and r.json()["day"] == day.isoformat()

    for bad in ("2026-13-01", "2026-02-30", "yesterday", "2026-1-05", ""):
        for path in ("/v1/regions/city/kpis", "/v1/orgs/city.acme/kpis"):
            r = await c.get(path, params={"date": bad}, headers=disp)
            assert r.status_code == 400, (path, bad)
            assert r.json()["code"] == "bad_request" and r.json()["details"]["field"] == "date"


async def test_a_stale_fold_across_days_cannot_move_the_checkpoint_back(
        deng: DispatchEngine, clock: Clock, redis: Redis) -> None:
    """A fold that read day 1 only, writing after a fold that counted day 2, would lose day
    2's jobs from the checkpoint: it is refused and folds again from the newer one."""
    await deng.create_job("city", JobRequest(location=HERE), ADMIN)
    await deng.kpis("city", fold=True)
    day1 = (await deng.kpis("city")).summary(clock.now)["day"]
    clock.advance(86_400)
    await deng.create_job("city", JobRequest(location=HERE), ADMIN)
    paused, fold = await _stopped_fold(redis, clock, before=False)
    clock.advance(60)
    await deng.create_job("city", JobRequest(location=HERE), ADMIN)
    newer = (await deng.kpis("city", fold=True)).offset
    raw = await redis.get(keys.prefix("city") + "kpi")
    paused.go.set()
    await asyncio.wait_for(fold, 5)
    stored = await _stored(redis)
    day2 = (await deng.kpis("city")).summary(clock.now)["day"]
    assert stored["offset"] == newer and day1 != day2
    assert {d: a["region"]["created"] for d, a in stored["days"].items()} == {day1: 1, day2: 2}
    assert stored["tz"] == "Europe/Amsterdam"
    # A write over a checkpoint that changed since it was read is refused.
    assert not await checkpoint._put(Store(redis), "city", b"{}", b'{"offset": "0-0"}')
    assert await redis.get(keys.prefix("city") + "kpi") == raw


async def test_the_region_topic_tiles_are_today(
        dserver: Server, city: tuple[DispatchEngine, Recomputer]) -> None:
    """A job created yesterday (Amsterdam time) is not on today's tiles; one created now is;
    ``utilisation_live`` says which day and when it ends, for the console to roll over."""
    eng, _ = city
    zone = ZoneInfo("Europe/Amsterdam")
    yesterday = clock_engine(eng.redis, lambda: _wall() - 86_400_000, NoEnqueuer())
    await yesterday.create_job("city", JobRequest(location=HERE), ADMIN)
    today = datetime.now(zone).date()
    async with Client(ws_url(dserver), dserver.token("dispatcher", region="city")) as console:
        await console.subscribe("region:city")
        snap = await console.next(5)
        assert snap["op"] == "snapshot", snap
        tiles = snap["data"]["kpis"]
        assert tiles["jobs_created"] == 0
        live = tiles["utilisation_live"]
        assert live["day"] == today.isoformat()
        nxt = today + timedelta(days=1)
        assert live["day_end"] == int(datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone)
                                      .timestamp() * 1000)
        await eng.create_job("city", JobRequest(location=HERE), ADMIN)
        created = await console.next(5)
        assert created["data"]["kpis"]["jobs_created"] == 1
    r = await dserver.client.get(
        "/v1/regions/city/kpis", params={"date": (today - timedelta(days=1)).isoformat()},
        headers=dserver.auth("dispatcher", region="city"))
    assert r.json()["jobs_created"] == 1
