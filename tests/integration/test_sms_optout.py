"""STOP is an opt-out from every text of the site (queueing/optout.py), against a real server
and Redis: after STOP / 退订 the worker sends that number nothing from the site (a ticket's
alerts, a booking's texts, reminders), counted as dropped (``opted_out``); START / 订阅 turns
them on again. Other numbers and other sites are not affected."""

from __future__ import annotations

from redis.asyncio import Redis

from queueing import optout
from queueing.booking import delivery
from queueing.booking.alerts import Thresholds
from queueing.booking.consumer import Notifications
from queueing.booking.notify import Notification
from tests.integration.conftest import Server
from tests.integration.test_booking_flow import FlakyNotifier
from tests.integration.test_sms_join import text

PHONE, OTHER = "+8613800138000", "+8613900139000"


def note(kind: str, to: str, site: str = "demo", ticket: str | None = None,
         booking: str | None = None) -> Notification:
    return Notification(id=f"{site}:{kind}:{to}", kind=kind, site=site, to=to,
                        at="2026-12-06T09:00:00+08:00", text={"en": "…"}, ticket=ticket,
                        booking=booking)


async def sent_to(redis: Redis, notes: list[Notification]) -> list[tuple[str, str]]:
    gateway = FlakyNotifier(failing="")
    worker = Notifications(redis, redis, None, gateway, Thresholds(3, 300))  # type: ignore[arg-type]
    try:
        for n in notes:
            assert await worker.try_send(n)  # settled: sent, or dropped
    finally:
        await worker.stop()
    return [(n.kind, n.to) for n in gateway.sent]


async def test_stop_silences_every_text_of_the_site_to_the_number(server: Server,
                                                                  redis: Redis) -> None:
    s = server
    joined = await text(s, "join pharmacy")
    number = joined["ticket"]["number"]
    stop = await text(s, "STOP")
    assert stop["kind"] == "stopped"
    assert "no more texts from " in stop["reply"] and "Text START" in stop["reply"]
    assert number in stop["reply"]
    # A ticket's alerts, a booking's texts, a reminder: none goes to it; others' do.
    notes = [note("turn", PHONE, ticket=joined["ticket"]["id"]), note("booked", PHONE),
             note("reminder", PHONE, booking="b1"), note("turn", OTHER),
             note("turn", PHONE, site="elsewhere")]
    assert await sent_to(redis, notes) == [("turn", OTHER), ("turn", PHONE)]
    counts = (await delivery.read(redis)).counts
    for kind in ("turn", "booked", "reminder"):
        assert counts[("stale", kind, "opted_out")] == 1
    # The number's record is no number in clear.
    raw = await redis.hgetall(optout.key("demo"))  # type: ignore[misc]
    assert raw and not any(PHONE[1:].encode() in k for k in raw)
    # START: texts go again.
    assert (await text(s, "START"))["kind"] == "started"
    assert await sent_to(redis, [note("booked", PHONE)]) == [("booked", PHONE)]


async def test_chinese_stop_without_a_ticket_and_start(server: Server, redis: Redis) -> None:
    s = server
    stop = await text(s, "退订", sender=OTHER)
    assert stop["reply"].startswith("已退订：您将不再收到") and "订阅" in stop["reply"]
    assert await sent_to(redis, [note("offer", OTHER)]) == []
    # A ticket taken by text while opted out: the reply does not promise the alerts.
    s.app.state.sb.settings.demo = True  # texts go out (the demo's outbox)
    joined = await text(s, "取号 取药", sender=OTHER)
    assert "本号码已退订" in joined["reply"], joined["reply"]
    back = await text(s, "订阅", sender=OTHER)
    assert back["kind"] == "started"
    assert await sent_to(redis, [note("offer", OTHER)]) == [("offer", OTHER)]
