"""A store that stays down (a full disk refuses every write) fails the stats recorder every
second: its warning comes once a minute at most, not once a second (a go-live test's log)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import pytest
from redis.exceptions import ResponseError

from realtime import stats


class _Engine:
    class store:
        redis: Any = None


async def test_a_lasting_store_failure_is_warned_once_a_minute(
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = stats.StatsRecorder(_Engine(), interval_s=0.001)  # type: ignore[arg-type]
    calls = 0
    enough = asyncio.Event()

    async def failing() -> int:
        nonlocal calls
        calls += 1
        if calls >= 210:
            enough.set()
        if calls > 200:
            return 0  # the disk freed: recording again
        raise ResponseError("MISCONF Errors writing to the AOF file: No space left on device")

    monkeypatch.setattr(rec, "run_once", failing)
    with caplog.at_level(logging.INFO, logger="switchboard.stats"):
        task = asyncio.create_task(rec._loop())
        await asyncio.wait_for(enough.wait(), 30)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "No space left on device" in warnings[0].getMessage()
    assert any("recording again" in r.getMessage() for r in caplog.records)
