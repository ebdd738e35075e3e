"""A revocation made while this process reloads its lists (the follower task, woken by an
earlier announcement): the reload had read Redis before the new entry was written and
replaced the lists wholesale, so the revoking request met a KeyError (500) and the
revocation, stored in Redis, was not in force here until the next reload."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from realtime import revocation

LONGEST = 5 * 366 * 86400.0
CUTOFF = time.time() - 10


class _Gated:
    """``redis`` whose pipelines answer only once ``gate`` is set (after reading)."""

    def __init__(self, redis: Redis, gate: asyncio.Event, read: asyncio.Event) -> None:
        self._redis, self._gate, self._read = redis, gate, read

    def __getattr__(self, name: str) -> Any:
        return getattr(self._redis, name)

    @contextlib.asynccontextmanager
    async def pipeline(self, **kw: Any) -> AsyncIterator[Any]:
        async with self._redis.pipeline(**kw) as pipe:
            real = pipe.execute

            async def execute() -> Any:
                got = await real()  # read now...
                self._read.set()
                await self._gate.wait()  # ...answered later
                return got

            pipe.execute = execute  # type: ignore[method-assign]
            yield pipe


@pytest.mark.parametrize("kind", ["subject", "token"])
async def test_a_revocation_during_a_reload_stays_in_force(redis: Redis, kind: str) -> None:
    lists = revocation.Revocations(LONGEST)
    await lists.load(redis)
    gate, read = asyncio.Event(), asyncio.Event()
    reload = asyncio.create_task(lists.load(_Gated(redis, gate, read)))  # type: ignore[arg-type]
    await read.wait()  # the reload has read Redis: nothing revoked yet
    if kind == "subject":
        done = await lists.revoke_subject(redis, "kiosk:demo", CUTOFF)
        assert done.before == CUTOFF
    else:
        done = await lists.revoke_token(redis, "t-1", 4e9, "kiosk:demo")
    gate.set()
    await reload
    if kind == "subject":
        assert lists.subjects == {"kiosk:demo": CUTOFF}
    else:
        assert lists.tokens == {"t-1": 4e9}
    await lists.load(redis)  # and a later reload, from Redis, agrees
    assert (lists.subjects if kind == "subject" else lists.tokens)
