"""Texts about appointments (realtime/sms_bookings.py), against a real server and Redis: a
person with a basic phone, booked by the phone line with their number for texts, cancels,
takes a waiting list's place, answers a suspension and checks in by SMS; a service's letter
sent on arrival checks in instead of taking a walk-in ticket, and a bare letter or number
while an appointment is upcoming is asked about."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from queueing import keys
from tests.integration.conftest import Server
from tests.integration.test_booking_http import bserver, next_lab_slot, slot  # noqa: F401 (a fixture)
from tests.integration.test_sms_join import _tickets, text

PHONE = "+8613800138000"


async def book(s: Server, slot_id: str, customer: str = "Mrs Wang", notify: str | None = PHONE,
               **kw: Any) -> dict[str, Any]:
    """A booking made by the phone line (an agent) with the number for its texts."""
    r = await s.client.post("/v1/sites/demo/bookings", json={
        "slot": slot_id, "customer": customer, "channel": "phone", "notify": notify, **kw},
        headers=s.auth("agent", site="demo", counter="1"))
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def status(s: Server, bid: str) -> dict[str, Any]:
    r = await s.client.get(f"/v1/bookings/{bid}", headers=s.auth("admin"))
    out: dict[str, Any] = r.json()
    return out


async def test_cancel_by_text_the_only_appointment_or_the_one_named(bserver: Server) -> None:  # noqa: F811
    s = bserver
    one = await book(s, slot("r1", 2, "10:00"))
    # Its code alone: what it is, not "didn't understand".
    seen = await text(s, one["code"], sender=PHONE)
    assert one["code"] in seen["reply"] and "内科" in seen["reply"]
    assert "没看懂" not in seen["reply"] and seen["kind"] == "bk_one"
    # Not today: 签到 says when.
    early = await text(s, "签到")
    assert early["kind"] == "bk_not_today" and one["code"] in early["reply"]
    gone = await text(s, "cancel my appointment")
    assert gone["kind"] == "bk_cancelled" and one["code"] in gone["reply"]
    assert gone["reply"].startswith("Cancelled: your appointment, Internal medicine at ")
    assert (await status(s, one["id"]))["status"] == "cancelled"
    # Two appointments: CANCEL asks which (both codes), the code says.
    a = await book(s, slot("r1", 2, "11:00"))
    b = await book(s, slot("r2", 3, "09:00"))
    ask = await text(s, "取消预约")
    assert ask["kind"] == "bk_pick" and a["code"] in ask["reply"] and b["code"] in ask["reply"]
    assert (await status(s, a["id"]))["status"] == "confirmed"
    done = await text(s, f"CANCEL {b['code']}")
    assert done["kind"] == "bk_cancelled" and b["code"] in done["reply"]
    assert (await status(s, b["id"]))["status"] == "cancelled"
    assert (await status(s, a["id"]))["status"] == "confirmed"
    # A code of another number's booking is not read as one.
    other = await book(s, slot("r2", 3, "10:00"), customer="Mr Li", notify="+8613900139000")
    refused = await text(s, f"CANCEL {other['code']}")
    assert refused["kind"] == "bk_cancelled" and a["code"] in refused["reply"]
    assert (await status(s, other["id"]))["status"] == "confirmed"


async def test_yes_takes_the_place_a_waiting_list_offers(bserver: Server) -> None:  # noqa: F811
    s = bserver
    sl = slot("r1", 2, "09:30")
    first = [await book(s, sl, customer=f"c{i}", notify=None) for i in range(10)]
    wl = await book(s, sl, waitlist=True)
    assert wl["status"] == "waitlisted"
    r = await s.client.post(f"/v1/bookings/{first[0]['id']}/cancel", headers=s.auth("admin"))
    assert r.status_code == 200, r.text
    assert (await status(s, wl["id"]))["status"] == "offered"
    yes = await text(s, "YES")
    assert yes["kind"] == "bk_confirmed" and wl["code"] in yes["reply"]
    assert (await status(s, wl["id"]))["status"] == "confirmed"
    again = await text(s, "确认")
    assert again["kind"] == "bk_no_offer"


async def test_a_number_answers_a_suspension(bserver: Server) -> None:  # noqa: F811
    s = bserver
    b = await book(s, slot("r1", 2, "10:00"))
    start = datetime.fromisoformat(b["start"])
    r = await s.client.post("/v1/sites/demo/resources/r1/suspend", json={
        "from": start.isoformat(), "until": (start + timedelta(hours=1)).isoformat(),
        "reason": "called away"}, headers=s.auth("agent", site="demo", counter="1"))
    assert r.status_code == 201, r.text
    alt = r.json()["affected"][0]["suspension"]["alternatives"][0]
    tickets = await _tickets(s.app.state.sb.redis)
    what = await text(s, "STATUS")
    assert "1) " in what["reply"] and b["code"] in what["reply"]
    moved = await text(s, "1")  # not a ticket for the menu's first service
    assert moved["kind"] == "bk_moved", moved
    assert await _tickets(s.app.state.sb.redis) == tickets
    now = await status(s, b["id"])
    assert now["slot"] == alt["slot"] and now["suspension"]["answered"] is True


async def test_a_letter_on_arrival_checks_in(bserver: Server, redis: Redis) -> None:  # noqa: F811
    s = bserver
    b = await book(s, next_lab_slot())
    before = await _tickets(redis)
    other = await text(s, "A")  # another service's letter: asked, no ticket
    assert other["kind"] == "bk_join_or" and b["code"] in other["reply"]
    assert await _tickets(redis) == before
    came = await text(s, "C")  # the lab's letter: the appointment, checked in
    assert came["kind"] == "bk_checked_in", came
    assert b["code"] in came["reply"] and came["ticket"]["number"] in came["reply"]
    done = await status(s, b["id"])
    assert done["status"] == "checked_in" and done["ticket"] == came["ticket"]["id"]
    t = (await s.client.get(f"/v1/tickets/{done['ticket']}", headers=s.auth("admin"))).json()
    assert t["priority"] == "appointment" or t.get("promote_at")
    # STATUS now reads the checked-in ticket.
    st = await text(s, "STATUS")
    assert st["ticket"]["id"] == done["ticket"]
    kept = await redis.hget(keys.sms_number("demo", PHONE), "ticket")  # type: ignore[misc]
    assert kept == done["ticket"].encode()


async def test_a_bare_letter_with_an_appointment_ahead_asks(
        bserver: Server, redis: Redis) -> None:  # noqa: F811
    s = bserver
    b = await book(s, slot("r1", 2, "10:00"))
    before = await _tickets(redis)
    for reply in ("C", "1"):
        ask = await text(s, reply)
        assert ask["kind"] == "bk_join_or" and b["code"] in ask["reply"], ask
        assert ask["ticket"] is None
    assert await _tickets(redis) == before
    took = await text(s, "JOIN C")  # asked for plainly
    assert took["kind"] == "joined" and took["ticket"]["service"] == "lab"


async def test_unknown_text_with_a_ticket_leads_with_it(server: Server) -> None:
    s = server
    t = (await text(s, "join lab", sender="+447700900123"))["ticket"]
    hello = await text(s, "Hello", sender="+447700900123")
    assert hello["reply"].startswith(f"{t['number']} (Laboratory): you are next")
    assert "Reply STATUS to check, CANCEL to leave." in hello["reply"]
    assert hello["kind"] == "waiting_help"
    for ack in ("thanks", "OK", "谢谢", "好的"):
        quiet = await text(s, ack, sender="+447700900123")
        assert quiet["reply"] is None and quiet["kind"] == "ack", ack
    gone = await text(s, "I can't come", sender="+447700900123")
    assert gone["kind"] == "cancelled"
