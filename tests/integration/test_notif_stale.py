"""A retried text is sent only while it is still true, and what became of the texts shows on
the server's /metrics.

Found before go-live: the SMS gateway's receiver was down when G003 was called; the call
was started and completed; the receiver came back, and ~20 s after the visit ended the
retry still texted "请 G003 号到 1号诊室". Retries now read the ticket again and drop the text
(logged, counted); every notification says until when it is news (``valid_until``)."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import pytest
from redis.asyncio import Redis

from queueing.booking import delivery
from queueing.booking.alerts import Thresholds
from queueing.booking.consumer import Notifications
from queueing.booking.notify import Notification, NotifyFailed
from queueing.engine import Actor, Engine
from queueing.model import Channel, TicketRequest
from tests.integration.conftest import ADMIN, Server
from tests.integration.test_phone_line_notify import _until

AGENT = Actor("agent:demo:1", "counter")
TO = "+8613800000003"


class Gateway:
    """The webhook's receiver: down (refuses everything) until ``up``."""

    def __init__(self) -> None:
        self.up = False
        self.tries: list[Notification] = []
        self.got: list[Notification] = []

    async def send(self, n: Notification) -> None:
        self.tries.append(n)
        if not self.up:
            raise NotifyFailed("webhook unreachable: connection refused")
        self.got.append(n)

    async def aclose(self) -> None:
        pass


async def _watching(redis: Redis, demo: Engine, gateway: Gateway) -> Notifications:
    await redis.delete(delivery.STATS, delivery.UNDELIVERED)
    notes = Notifications(redis, redis, demo, gateway, Thresholds(3, 300), refresh_s=0.05)
    notes.retry_s = (0.6, 0.3, 0.3, 0.3)
    notes.start()

    async def live() -> bool:
        return bool(await redis.exists("sb:{site:demo}:nt:cursor"))
    await _until(live)
    return notes


async def _called(demo: Engine, gateway: Gateway) -> dict[str, Any]:
    t = (await demo.issue("demo", TicketRequest(service="internal", channel=Channel.SMS,
                                                 notify=TO), ADMIN)).ticket
    assert (await demo.counter_op("demo", "1", "call-next", AGENT))["id"] == t["id"]

    async def refused() -> bool:
        return any(n.kind == "turn" for n in gateway.tries)
    await _until(refused)
    return t


async def test_a_call_is_not_texted_after_the_visit_ended(
        demo: Engine, redis: Redis, caplog: pytest.LogCaptureFixture) -> None:
    gateway = Gateway()
    notes = await _watching(redis, demo, gateway)
    caplog.set_level(logging.INFO, "switchboard.notify")
    try:
        t = await _called(demo, gateway)
        turn = next(n for n in gateway.tries if n.kind == "turn")
        assert turn.text["zh"] == f"请 {t['number']} 号到 1号诊室"
        # Site-local, to the second, as `at`: a gateway that queues drops it after this.
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", turn.valid_until or "")
        assert (turn.valid_until or "") > turn.at
        await demo.counter_op("demo", "1", "start", AGENT)
        await demo.counter_op("demo", "1", "complete", AGENT)
        gateway.up = True  # back before the retry is due

        async def settled() -> bool:
            return await notes.pending_retries() == 0 and notes.dropped == 1
        await _until(settled)
        await asyncio.sleep(0.4)
        assert [n.kind for n in gateway.got] == []  # no "go to Room 1" after the visit
        stats = delivery.parse(await redis.hgetall(delivery.STATS))
        assert stats[("stale", "turn", "ticket_done")] == 1
        assert stats[("failed", "turn", "")] == 1
        assert not await redis.zcard(delivery.UNDELIVERED)
        assert any(r.levelno == logging.INFO and "dropped: ticket_done" in r.getMessage()
                   for r in caplog.records)
    finally:
        await notes.stop()


async def test_a_recalled_ticket_still_gets_its_call(demo: Engine, redis: Redis) -> None:
    """Still called at that counter (a recall): the retry is true and goes."""
    gateway = Gateway()
    notes = await _watching(redis, demo, gateway)
    try:
        t = await _called(demo, gateway)
        await demo.counter_op("demo", "1", "recall", AGENT)
        gateway.up = True

        async def both() -> bool:
            return len([n for n in gateway.got if n.kind == "turn"]) == 2
        await _until(both)
        assert {n.ticket for n in gateway.got} == {t["id"]} and notes.dropped == 0
        stats = delivery.parse(await redis.hgetall(delivery.STATS))
        assert stats[("sent", "turn", "")] == 2
    finally:
        await notes.stop()


async def test_a_text_for_a_ticket_moved_away_is_dropped(demo: Engine, redis: Redis) -> None:
    """Transferred after the call: "go to Room 1" is no longer true (the ticket now waits for
    the laboratory, and its "moved" text says so)."""
    gateway = Gateway()
    notes = await _watching(redis, demo, gateway)
    try:
        await _called(demo, gateway)
        await demo.counter_op("demo", "1", "transfer", AGENT, service="lab")
        gateway.up = True

        async def moved() -> bool:
            return any(n.kind == "moved" for n in gateway.got) and notes.dropped == 1
        await _until(moved)
        await asyncio.sleep(0.4)
        assert [n.kind for n in gateway.got] == ["moved"]
    finally:
        await notes.stop()


async def test_failed_texts_show_on_the_servers_metrics(server: Server, redis: Redis) -> None:
    await redis.delete(delivery.STATS, delivery.UNDELIVERED)
    gateway = Gateway()
    notes = Notifications(redis, redis, None, gateway, Thresholds(3, 300))  # type: ignore[arg-type]
    notes.retry_s = (60.0,)
    offer = Notification(id="demo:offer:9-0", kind="offer", site="demo", to=TO,
                         text={"en": "A place is free"}, at="2026-12-07T11:29:00+08:00")
    try:
        assert not await notes.try_send(offer)
        await notes.retry_later(offer)
        await redis.zadd(delivery.UNDELIVERED, {offer.id: 1}, xx=True)  # refused long ago
        text = (await server.client.get("/metrics")).text
        assert 'switchboard_notification_failures_total{kind="offer"} 1.0' in text
        assert "switchboard_notification_retries_pending 1.0" in text
        age = re.search(r"^switchboard_notification_oldest_undelivered_seconds (\S+)$", text,
                        re.M)
        assert age and float(age.group(1)) > 86400, text
        await notes.retry_later(offer, 2)  # the last try refused: given up
        text = (await server.client.get("/metrics")).text
        assert 'switchboard_notifications_given_up_total{kind="offer"} 1.0' in text
        assert "switchboard_notification_oldest_undelivered_seconds 0.0" in text
        assert "switchboard_worker_heartbeat_timestamp_seconds" in text  # still there
    finally:
        await notes.stop()
        await redis.delete(delivery.STATS, delivery.UNDELIVERED, "sb:nt:retry")


async def test_a_restarted_worker_does_not_catch_up_on_a_call_already_served(
        demo: Engine, redis: Redis, clock: Any) -> None:
    """A watcher restarted within 5 minutes sends the calls it missed, but not one whose
    ticket was served meanwhile; a missed call still waiting at its counter still goes."""
    gateway = Gateway()
    gateway.up = True
    first = Notifications(redis, redis, demo, gateway, Thresholds(3, 300), clock=clock,
                          refresh_s=0.05)
    first.start()
    await _until(lambda: redis.exists("sb:{site:demo}:nt:cursor"))
    await first.stop()
    served, waiting = [(await demo.issue("demo", TicketRequest(
        service="internal", channel=Channel.SMS, notify=to), ADMIN)).ticket
        for to in (TO, "+8613800000004")]
    await demo.counter_op("demo", "1", "call-next", AGENT)
    await demo.counter_op("demo", "1", "complete", AGENT)
    await demo.counter_op("demo", "2", "call-next", AGENT)
    clock.advance(30)
    second = Notifications(redis, redis, demo, gateway, Thresholds(3, 300), clock=clock,
                           refresh_s=0.05)
    second.start()
    try:
        async def caught_up() -> bool:
            return any(n.kind == "turn" for n in gateway.got) and second.dropped == 1
        await _until(caught_up)
        assert [(n.kind, n.ticket) for n in gateway.got] == [("turn", waiting["id"])]
        assert served["id"] != waiting["id"]
    finally:
        await second.stop()
