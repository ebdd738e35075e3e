"""Shared set-up of the dispatch integration tests (imported by the test_dispatch_* modules):
a region on real Redis, technicians that log on, and a real in-process arq worker."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import warnings
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker
from redis.asyncio import Redis

from dispatch import tasks
from dispatch.engine import Actor, DispatchEngine, NoEnqueuer
from dispatch.model import (
    Action,
    ActionKind,
    DispatchPolicy,
    JobRequest,
    Point,
    RegionConfig,
    Shift,
    TechnicianSpec,
    Window,
    Zone,
)
from dispatch.recompute import Recomputer
from dispatch.store import Store

ADMIN = Actor("test-admin", "test")
CENTRE = (52.37, 4.90)
WEST = Zone("west", [(4.80, 52.30), (4.90, 52.30), (4.90, 52.45), (4.80, 52.45)])
EAST = Zone("east", [(4.90, 52.30), (5.00, 52.30), (5.00, 52.45), (4.90, 52.45)])


def config(**policy: Any) -> RegionConfig:
    base: dict[str, Any] = {"improve_s": 0.3, "offer_timeout_s": 60}
    base.update(policy)
    return RegionConfig(name="Test city", timezone="Europe/Amsterdam", zones=[WEST, EAST],
                        policy=DispatchPolicy(**base))


def tech_spec(lat: float, lon: float, skills: tuple[str, ...] = (), zones: tuple[str, ...] = (),
              name: str = "Alex Jansen") -> TechnicianSpec:
    return TechnicianSpec(name=name, skills=list(skills), zones=list(zones),
                          home=Point(lat, lon), shift=Shift("00:00", "24:00"))


async def add_techs(eng: DispatchEngine, now: int, specs: dict[str, TechnicianSpec],
                    online: bool = True) -> None:
    for tid, spec in specs.items():
        await eng.put_tech(tid, spec, ADMIN)
        if online:
            await eng.action(tid, Action(f"on-{tid}", ActionKind.ONLINE, now), ADMIN)


def job(lat: float, lon: float, skills: tuple[str, ...] = (), priority: int = 0,
        window: tuple[int, int] | None = None, duration_s: int = 1800,
        org: str | None = None) -> JobRequest:
    return JobRequest(location=Point(lat, lon), skills=list(skills), priority=priority,
                      duration_s=duration_s, org=org,
                      window=Window(*window) if window else None)


@pytest.fixture
def recorder() -> NoEnqueuer:
    return NoEnqueuer()


# -- a real arq worker in this process ---------------------------------------------------------

@contextlib.asynccontextmanager
async def arq_worker(redis_url: str, **engine_kw: Any) -> AsyncIterator[Worker]:
    pool = ArqRedis.from_url(redis_url)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx[tasks.CTX_KEY] = tasks.services(ctx["redis"], **engine_kw)

    worker = Worker(functions=tasks.FUNCTIONS, redis_pool=pool, on_startup=startup,
                    handle_signals=False, poll_delay=0.05, max_jobs=10, keep_result=0,
                    burst=False)
    run = asyncio.create_task(worker.async_run())
    try:
        yield worker
    finally:
        # Not worker.close(): it calls redis-py's deprecated close() (warnings are errors).
        run.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await run
        for task in worker.tasks.values():
            task.cancel()
        await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
        await pool.aclose()
        # A poll cancelled in the middle of arq's pipeline leaves that pipeline holding its
        # (now closed) connection; redis-py warns when it is collected, at some later,
        # random point of the run (1 run in ~45). Collect it here, where that is expected.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


def wall_engine(redis: Redis, **kw: Any) -> DispatchEngine:
    arq = tasks.arq_redis(redis)
    return DispatchEngine(Store(redis), enqueuer=tasks.ArqEnqueuer(arq), config_ttl_s=0, **kw)


def clock_engine(redis: Redis, clock: Callable[[], int], enq: NoEnqueuer) -> DispatchEngine:
    return DispatchEngine(Store(redis), clock=clock, enqueuer=enq, config_ttl_s=0)


def recomputer(eng: DispatchEngine, **kw: Any) -> Recomputer:
    return Recomputer(eng, threads=False, **kw)


async def eventually(check: Callable[[], Any], timeout_s: float = 10.0,
                     every_s: float = 0.05) -> Any:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(every_s)
