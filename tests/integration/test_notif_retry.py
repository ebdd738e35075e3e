"""A notification the gateway refuses is tried again in the background: a short outage must
not cost a waitlisted person the offer of a place (it was given up after ~1.5 s), and the
pending retries live in Redis, so a worker restarted meanwhile still sends them."""

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


def _offer(n: int = 1) -> Notification:
    return Notification(id=f"demo:offer:{n}-0", kind="offer", site="demo", to="+8613800000000",
                        text={"en": "A place is free for you"}, at="2026-12-05T10:00:00+08:00")


def _notes(redis: Redis, gateway: Flaky, *pauses: float) -> Notifications:
    notes = Notifications(redis, redis, None, gateway, Thresholds(3, 300))  # type: ignore[arg-type]
    notes.retry_s = pauses
    return notes


async def _until(pred: Any, timeout_s: float = 5.0) -> None:
    for _ in range(int(timeout_s / 0.01)):
        if await pred() if asyncio.iscoroutinefunction(pred) else pred():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_a_refused_notification_is_sent_once_the_gateway_is_back(redis: Redis) -> None:
    gateway = Flaky(fails=4)
    notes = _notes(redis, gateway, 0.01, 0.02, 0.05, 0.1, 0.2)
    watcher = SiteWatcher(notes, "demo")
    try:
        await watcher._send("offer:1-0", _offer())  # refused at once: retried behind
        assert gateway.got == [] and gateway.tries == 1
        await _until(lambda: gateway.got)
        assert gateway.got == ["demo:offer:1-0"] and gateway.tries == 5
        assert await notes.pending_retries() == 0
        await watcher._send("offer:1-0", _offer())  # the same claim: never twice
        await asyncio.sleep(0.1)
        assert gateway.got == ["demo:offer:1-0"]
    finally:
        await notes.stop()


async def test_retries_end_and_stop_cancels_them(redis: Redis) -> None:
    gateway = Flaky(fails=100)
    notes = _notes(redis, gateway, 0.01, 0.01)
    watcher = SiteWatcher(notes, "demo")
    await watcher._send("offer:2-0", _offer(2))
    await _until(lambda: gateway.tries == 3)  # the first try and two more, then given up
    await asyncio.sleep(0.05)
    assert gateway.tries == 3 and await notes.pending_retries() == 0
    notes.retry_s = (60.0,)
    await watcher._send("offer:3-0", _offer(3))
    assert await notes.pending_retries() == 1
    await notes.stop()  # a worker's shutdown does not wait a minute for it...
    assert notes._retrier is None
    assert await notes.pending_retries() == 1  # ...and does not forget it either


async def test_a_pending_retry_outlives_the_worker(redis: Redis) -> None:
    # Worker 1: the gateway is down; the offer waits for its next try when the worker stops.
    down = Flaky(fails=100)
    first = _notes(redis, down, 0.3)
    await SiteWatcher(first, "demo")._send("offer:4-0", _offer(4))
    await first.stop()
    assert down.tries == 1 and await first.pending_retries() == 1
    # Worker 2 (started as `switchboard worker` starts it), gateway back: sent once, by it.
    up = Flaky(fails=0)
    second = _notes(redis, up, 0.3)
    third = _notes(redis, up, 0.3)  # a second worker on the same Redis: never twice
    second._start_retrier()
    third._start_retrier()
    try:
        await _until(lambda: up.got)
        await asyncio.sleep(0.4)
        assert up.got == ["demo:offer:4-0"] and await second.pending_retries() == 0
    finally:
        await second.stop()
        await third.stop()
