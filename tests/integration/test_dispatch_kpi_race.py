"""The KPI checkpoint under concurrent folds (dispatch/checkpoint.py), on a real Redis: a
worker's fold is stopped by hand between its steps while an erasure (or another fold) runs,
then let go. Without the compare-and-set its write lost the erased jobs' steps, brought an
erased position back, or moved the checkpoint back."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from redis.asyncio import Redis

from dispatch import keys
from dispatch.engine import DispatchEngine, NoEnqueuer
from dispatch.erase import RegionEraser, Request
from dispatch.gps import Fix
from dispatch.model import Action, ActionKind
from tests.integration.conftest import Clock
from tests.integration.test_dispatch_erase import PHONE, _customers, deng
from tests.integration.test_dispatch_support import (
    ADMIN,
    add_techs,
    clock_engine,
    recorder,
    tech_spec,
)
from tests.integration.test_erase import dump, holding

__all__ = ["deng", "recorder"]  # the fixtures, imported for pytest


class Paused(Redis):
    """A client (on the test's connection pool) whose first read of a stream stops at a
    gate: ``before`` it reads (the checkpoint read, the stream not yet), or after its last
    page (everything read, nothing written yet)."""

    def __init__(self, redis: Redis, before: bool) -> None:
        super().__init__(connection_pool=redis.connection_pool)
        self.before = before
        self.reached, self.go = asyncio.Event(), asyncio.Event()

    async def xrange(self, name: Any, min: Any = "-", max: Any = "+",
                     count: int | None = None) -> Any:
        stop = not self.reached.is_set()
        if stop and self.before:
            await self._wait()
        rows = await super().xrange(name, min, max, count)
        if stop and not self.before and (count is None or len(rows) < count):
            await self._wait()
        return rows

    async def _wait(self) -> None:
        self.reached.set()
        await self.go.wait()


async def _stopped_fold(redis: Redis, clock: Clock, before: bool
                        ) -> tuple[Paused, asyncio.Task[Any]]:
    """A worker's ``kpis(fold=True)``, stopped at its gate."""
    paused = Paused(redis, before)
    worker = clock_engine(paused, clock, NoEnqueuer())
    fold = asyncio.create_task(worker.kpis("city", fold=True))
    await asyncio.wait_for(paused.reached.wait(), 5)
    return paused, fold


async def _stored(redis: Redis) -> dict[str, Any]:
    raw = await redis.get(keys.prefix("city") + "kpi")
    assert raw is not None
    out: dict[str, Any] = msgspec.json.decode(raw)
    return out


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return {**a, "offset": ""} == {**b, "offset": ""}


async def test_a_fold_from_before_an_erasure_cannot_lose_the_erased_jobs(
        deng: DispatchEngine, clock: Clock, redis: Redis) -> None:
    """The worker read checkpoint A; the erasure folded and deleted the customer's entries;
    the worker then read the stream (without them) and wrote: a checkpoint missing three
    jobs' steps, for good."""
    await deng.kpis("city", fold=True)  # checkpoint A, before the customers' jobs
    await _customers(deng, clock)
    before = (await deng.kpis("city")).summary(clock.now)
    assert before["jobs_created"] == 4 and before["accepted"] == 2

    paused, fold = await _stopped_fold(redis, clock, before=True)
    out = await RegionEraser(deng, "test-secret").erase(Request("city", PHONE), ADMIN)
    assert out["erased"]["events"] >= 6
    erasure_offset = (await _stored(redis))["offset"]
    paused.go.set()
    await asyncio.wait_for(fold, 5)

    assert _same((await deng.kpis("city")).summary(clock.now), before)
    stored = await _stored(redis)
    # Per local day since 6133387: the four jobs are counted on their days, once each.
    assert sum(d["region"]["created"] for d in stored["days"].values()) == 4
    assert stored["offset"] >= erasure_offset


async def test_a_fold_cannot_bring_an_erased_position_back(
        deng: DispatchEngine, clock: Clock, redis: Redis) -> None:
    """The worker read the checkpoint and the technician's fixes; the erasure deleted them
    and took its last position out of the checkpoint; the worker's write put it back."""
    await add_techs(deng, clock.now, {"city.a": tech_spec(52.370, 4.891)})
    for i in range(4):
        clock.advance(10)
        await deng.gps("city.a", Fix(clock.now, 52.36011 + i * 0.00013, 4.88017), ADMIN)
    clock.advance(10)
    await deng.action("city.a", Action("off", ActionKind.OFFLINE, clock.now), ADMIN)
    before = (await deng.kpis("city")).summary(clock.now)

    paused, fold = await _stopped_fold(redis, clock, before=False)
    out = await RegionEraser(deng, "test-secret").erase(
        Request("city", technician="city.a"), ADMIN)
    assert out["erased"]["positions"] == 1 and out["erased"]["events"] == 4
    paused.go.set()
    await asyncio.wait_for(fold, 5)

    assert "city.a" not in (await _stored(redis))["tech_pos"]
    assert holding(await dump(redis), "52.3605") == []  # the last fix, 52.36050
    assert _same((await deng.kpis("city")).summary(clock.now), before)


async def test_a_stale_fold_never_moves_the_checkpoint_back(
        deng: DispatchEngine, clock: Clock, redis: Redis) -> None:
    """Two folds at once: the one that read less, writing last, left the checkpoint behind
    entries the worker may then trim (their steps lost)."""
    await add_techs(deng, clock.now, {"city.a": tech_spec(52.370, 4.891)})
    paused, fold = await _stopped_fold(redis, clock, before=False)
    clock.advance(10)
    await deng.action("city.a", Action("off", ActionKind.OFFLINE, clock.now), ADMIN)
    newer = (await deng.kpis("city", fold=True)).offset
    paused.go.set()
    await asyncio.wait_for(fold, 5)
    assert (await _stored(redis))["offset"] == newer
    assert (await fold).offset == newer  # it folded again, from the newer checkpoint
