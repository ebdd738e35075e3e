"""Text to join has a cap of open ``sms`` tickets per site (``SWITCHBOARD_SMS_MAX_OPEN_PER_SITE``)
beyond the per-gateway rate: a leaked gateway token, or a flood of invented senders, could
otherwise fill the hall at 120 tickets a minute."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from tests.integration.conftest import Server
from tests.integration.test_sms_join import _tickets, text


async def test_a_join_past_the_cap_is_answered_without_a_ticket(
        server: Server, redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    s = server
    monkeypatch.setattr(s.settings, "sms_max_open_per_site", 2)  # the running server's
    # Tickets from other channels do not count.
    r = await s.client.post("/v1/sites/demo/tickets", headers=s.auth("admin"),
                            json={"service": "lab", "channel": "kiosk"})
    assert r.status_code == 201
    first = await text(s, "A", sender="+447700900201")
    second = await text(s, "A", sender="+447700900202")
    assert first["ticket"] and second["ticket"]
    await s.caught_up()  # the hub's view follows
    before = await _tickets(redis)
    full = await text(s, "join A", sender="+447700900203")
    assert (full["command"], full["kind"], full["ticket"]) == ("join", "full", None)
    assert full["reply"] == ("Sorry, Demo Community Clinic is not taking more tickets by text "
                             "just now: many people are already waiting. Please text again "
                             "later, or take a ticket at the kiosk.")
    zh = await text(s, "取号 内科", sender="+8613800138203")
    assert zh["kind"] == "full" and zh["reply"].startswith("抱歉，示范社区诊所短信取号人数已满")
    assert await _tickets(redis) == before
    # A number that holds a ticket is still answered with it.
    again = await text(s, "A", sender="+447700900201")
    assert again["kind"] == "already" and again["ticket"]["id"] == first["ticket"]["id"]
    # One leaves: there is room again.
    gone = await text(s, "CANCEL", sender="+447700900202")
    assert gone["ticket"]["status"] == "cancelled"
    await s.caught_up()  # the hub's view follows
    room = await text(s, "A", sender="+447700900203")
    assert room["kind"] == "joined" and room["ticket"]["status"] == "waiting"


async def test_no_cap_when_it_is_0(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server.settings, "sms_max_open_per_site", 0)
    for i in range(3):
        assert (await text(server, "A", sender=f"+44770090030{i}"))["kind"] == "joined"
        await server.caught_up()
    monkeypatch.setattr(server.settings, "sms_max_open_per_site", 3)
    assert (await text(server, "A", sender="+447700900309"))["kind"] == "full"
