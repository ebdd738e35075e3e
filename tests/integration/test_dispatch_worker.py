"""Dispatch with a real arq worker (in this process) on a real Redis, in wall-clock time."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import msgspec
from redis.asyncio import Redis

from dispatch import keys
from dispatch.engine import DispatchEngine
from dispatch.model import Action, ActionKind
from realtime.redisproc import EmbeddedRedis
from tests.integration.test_dispatch_support import (
    ADMIN,
    add_techs,
    arq_worker,
    config,
    eventually,
    job,
    tech_spec,
    wall_engine,
)


async def kinds(redis: Redis) -> Counter[str]:
    return Counter(f[b"t"].decode() for _, f in await redis.xrange(keys.events("city")))


async def trail(redis: Redis, jid: str) -> list[tuple[str, Any]]:
    out = []
    for _, f in await redis.xrange(keys.events("city")):
        d = msgspec.json.decode(f[b"d"])
        if isinstance(d.get("job"), dict) and d["job"]["id"] == jid:
            out.append((f[b"t"].decode(), d.get("tech")))
    return out


async def test_unanswered_offer_times_out_to_the_next_technician(
        redis: Redis, redis_server: EmbeddedRedis) -> None:
    eng = wall_engine(redis)
    await eng.put_region("city", config(offer_timeout_s=1, improve_s=0.2), ADMIN)
    await add_techs(eng, eng.clock(), {
        "city.a": tech_spec(52.370, 4.891), "city.b": tech_spec(52.380, 4.900),
    })
    async with arq_worker(redis_server.url):
        jid = (await eng.create_job("city", job(52.370, 4.890), ADMIN))["id"]

        async def offered_to(tech: str) -> bool:
            j = await eng.job(jid)
            return j["status"] == "offered" and j["technician"] == tech

        await eventually(lambda: offered_to("city.a"), 10)
        # Nobody answers: the timer job fires at the deadline and the job moves on.
        await eventually(lambda: offered_to("city.b"), 10)
        t = await trail(redis, jid)
        assert [e for e in t if e[0] != "job_created"][:3] == [
            ("offered", "city.a"), ("offer_expired", "city.a"), ("offered", "city.b")]
        # b does not answer either: nobody is left, the job says so.
        await eventually(lambda: _status_is(eng, jid, "unassignable"), 10)


async def _status_is(eng: DispatchEngine, jid: str, status: str) -> bool:
    return bool((await eng.job(jid))["status"] == status)


async def test_a_burst_of_jobs_coalesces_into_few_recomputes(
        redis: Redis, redis_server: EmbeddedRedis) -> None:
    eng = wall_engine(redis)
    await eng.put_region("city", config(improve_s=0.2), ADMIN)
    await add_techs(eng, eng.clock(), {f"city.t{i}": tech_spec(52.36 + 0.005 * i, 4.88)
                                       for i in range(6)})
    plans_before = (await kinds(redis))["plan"]
    async with arq_worker(redis_server.url):
        ids = [(await eng.create_job("city", job(52.36 + 0.002 * k, 4.89 + 0.001 * k),
                                     ADMIN))["id"] for k in range(40)]

        async def all_offered() -> bool:
            return all([(await eng.job(j))["status"] == "offered" for j in ids])

        await eventually(all_offered, 20)
    # 40 triggers; each recompute pass publishes at most 2 plans (insert + improvement).
    plans = (await kinds(redis))["plan"] - plans_before
    assert plans < 20, plans


async def test_device_flow_through_the_worker(redis: Redis, redis_server: EmbeddedRedis) -> None:
    eng = wall_engine(redis)
    await eng.put_region("city", config(improve_s=0.2), ADMIN)
    await add_techs(eng, eng.clock(), {"city.a": tech_spec(52.370, 4.891),
                                       "city.b": tech_spec(52.390, 4.930)})
    async with arq_worker(redis_server.url):
        jid = (await eng.create_job("city", job(52.370, 4.890), ADMIN))["id"]
        await eventually(lambda: _status_is(eng, jid, "offered"), 10)
        tech = (await eng.job(jid))["technician"]
        other = "city.b" if tech == "city.a" else "city.a"
        now = eng.clock()
        await eng.action(tech, Action("x1", ActionKind.ACCEPT, now, jid), ADMIN)
        await eng.action(tech, Action("x2", ActionKind.DEPART, now, jid), ADMIN)
        # Triggers keep coming (the other technician's status, new jobs): the en-route job
        # stays where it is through every recompute the worker runs.
        for k in range(5):
            await eng.action(other, Action(f"b{k}", ActionKind.BREAK if k % 2 == 0
                                           else ActionKind.RESUME, eng.clock()), ADMIN)
            await eng.create_job("city", job(52.372 + 0.001 * k, 4.892), ADMIN)
            await asyncio.sleep(0.2)
            j = await eng.job(jid)
            assert (j["status"], j["technician"]) == ("en_route", tech)
        await eng.action(tech, Action("x3", ActionKind.COMPLETE, eng.clock(), jid), ADMIN)
        assert (await eng.job(jid))["status"] == "done"
