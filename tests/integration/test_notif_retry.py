"""A notification the gateway refuses is tried again in the background: a short outage must
not cost a waitlisted person the offer of a place (it was given up after ~1.5 s)."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from queueing.booking.alerts import Thresholds
from queueing.booking.consumer import Notifications, SiteWatcher
from queueing.booking.notify import Notification, NotifyFailed


class Flaky:
    """A gateway that refuses the first ``fails`` sends."""

    def __init__(self, fails: int) -> None:
        self.fails = fails
        self.tries = 0
        self.got: list[str] = []

    async def send(self, n: Notification) -> None:
        self.tries += 1
        if self.fails:
            self.fails -= 1
            raise NotifyFailed("webhook answered 500")
        self.got.append(n.id)

    async def aclose(self) -> None:
        pass


def _offer() -> Notification:
    return Notification(id="demo:offer:1-0", kind="offer", site="demo", to="+8613800000000",
                        text={"en": "A place is free for you"}, at="2026-12-05T10:00:00+08:00")


async def _until(pred: Any, timeout_s: float = 5.0) -> None:
    for _ in range(int(timeout_s / 0.01)):
        if pred():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_a_refused_notification_is_sent_once_the_gateway_is_back(redis: Redis) -> None:
    gateway = Flaky(fails=4)
    notes = Notifications(redis, redis, None, gateway, Thresholds(3, 300))  # type: ignore[arg-type]
    notes.retry_s = (0.01, 0.02, 0.05, 0.1, 0.2)
    watcher = SiteWatcher(notes, "demo")
    try:
        await watcher._send("offer:1-0", _offer())  # refused at once: retried behind
        assert gateway.got == [] and gateway.tries == 1
        await _until(lambda: gateway.got)
        assert gateway.got == ["demo:offer:1-0"] and gateway.tries == 5
        await watcher._send("offer:1-0", _offer())  # the same claim: never twice
        await asyncio.sleep(0.1)
        assert gateway.got == ["demo:offer:1-0"]
    finally:
        await notes.stop()


async def test_retries_end_and_stop_cancels_them(redis: Redis) -> None:
    gateway = Flaky(fails=100)
    notes = Notifications(redis, redis, None, gateway, Thresholds(3, 300))  # type: ignore[arg-type]
    notes.retry_s = (0.01, 0.01)
    watcher = SiteWatcher(notes, "demo")
    await watcher._send("offer:2-0", _offer())
    await _until(lambda: gateway.tries == 3)  # the first try and two more, then given up
    await asyncio.sleep(0.05)
    assert gateway.tries == 3 and not notes._retries
    notes.retry_s = (60.0,)
    await watcher._send("offer:3-0", _offer())
    assert len(notes._retries) == 1
    await notes.stop()  # a worker's shutdown does not wait a minute for it
    assert not notes._retries
