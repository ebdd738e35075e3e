"""A ticket taken for a caller on the phone line (channel ``phone``) has no slip: its number
comes by text (``issued``), and then the usual alerts. Other channels get no such text."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from queueing.booking.alerts import Thresholds
from queueing.booking.consumer import Notifications
from queueing.booking.notify import Notification
from queueing.engine import Actor, Engine
from queueing.model import Channel, TicketRequest
from tests.integration.conftest import ADMIN


class Gateway:
    def __init__(self) -> None:
        self.got: list[Notification] = []

    async def send(self, n: Notification) -> None:
        self.got.append(n)

    async def aclose(self) -> None:
        pass


async def _until(pred: Any, timeout_s: float = 10.0) -> None:
    for _ in range(int(timeout_s / 0.02)):
        if await pred():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_a_phone_ticket_is_texted_its_number(demo: Engine, redis: Redis) -> None:
    gateway = Gateway()
    notes = Notifications(redis, redis, demo, gateway, Thresholds(3, 300), refresh_s=0.05)
    notes.start()
    try:
        cursor = "sb:{site:demo}:nt:cursor"
        await _until(lambda: redis.exists(cursor))  # the watcher follows the site
        ahead = (await demo.issue("demo", TicketRequest(service="pharmacy", channel=Channel.KIOSK),
                                  ADMIN)).ticket
        window = (await demo.issue("demo", TicketRequest(
            service="pharmacy", channel=Channel.WINDOW, notify="+8613800000001"), ADMIN)).ticket
        phone = (await demo.issue("demo", TicketRequest(
            service="pharmacy", channel=Channel.PHONE, notify="+8613800000002"), ADMIN)).ticket
        nobody = (await demo.issue("demo", TicketRequest(service="pharmacy",
                                                         channel=Channel.PHONE), ADMIN)).ticket

        async def texted() -> bool:
            return any(n.kind == "issued" for n in gateway.got)
        await _until(texted)
        await asyncio.sleep(0.2)  # nothing else comes
        issued = [n for n in gateway.got if n.kind == "issued"]
        assert [(n.to, n.ticket) for n in issued] == [("+8613800000002", phone["id"])]
        n = issued[0]
        assert n.data == {"number": phone["number"], "service": "pharmacy", "ahead": 2}
        # Where (the caller has no slip to read it from); no reply words: this site's SMS
        # desk has never been used (queueing/sms_desk.py), so the number cannot answer.
        assert n.text["en"] == (f"Your ticket at Demo Community Clinic: {phone['number']} "
                                "(Pharmacy), 2 ahead. We'll text you when you are called.")
        assert n.text["zh"].startswith(f"【示范社区诊所】您的号码是 {phone['number']}（取药），"
                                       "目前前面有 2 人。")
        assert {ahead["id"], window["id"], nobody["id"]}.isdisjoint(m.ticket for m in issued)
    finally:
        await notes.stop()


async def test_a_missed_call_is_texted(demo: Engine, redis: Redis) -> None:
    """Called and not there: back in the queue once (the site's policy), then closed; each
    said by text to someone waiting outside (it was silent)."""
    gateway = Gateway()
    notes = Notifications(redis, redis, demo, gateway, Thresholds(3, 300), refresh_s=0.05)
    notes.start()
    agent = Actor("agent:demo:4", "counter")
    try:
        await _until(lambda: redis.exists("sb:{site:demo}:nt:cursor"))
        t = (await demo.issue("demo", TicketRequest(
            service="lab", channel=Channel.KIOSK, notify="+8613800000009"), ADMIN)).ticket
        for _ in range(2):
            called = await demo.counter_op("demo", "4", "call-next", agent)
            assert called["id"] == t["id"]
            await demo.counter_op("demo", "4", "no-show", agent)

        async def both() -> bool:
            return {"no_show_back", "no_show"} <= {n.kind for n in gateway.got}
        await _until(both)
        kinds = [n.kind for n in gateway.got if n.kind.startswith("no_show")]
        assert kinds == ["no_show_back", "no_show"]
        back, gone = (next(n for n in gateway.got if n.kind == k) for k in kinds)
        assert back.text["en"].startswith(f"Ticket {t['number']} was called and nobody came. "
                                          "It is back in the queue")
        assert gone.text["zh"] == f"{t['number']} 号叫号未到，已过号。如仍需办理，请重新取号。"
    finally:
        await notes.stop()
