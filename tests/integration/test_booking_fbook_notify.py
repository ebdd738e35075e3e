"""A booking's notification number: seen by staff (masked for supervisors), corrected with
POST /v1/bookings/{id}/notify, and a reminder the gateway refuses for good is given up
after ~9 minutes, its fate shown on the booking (``notify_state``)."""

from __future__ import annotations

from datetime import datetime

import pytest
from redis.asyncio import Redis

from queueing.booking import delivery
from queueing.booking.engine import BookingEngine
from queueing.booking.notify import Notification, NotifyFailed
from queueing.booking.tasks import GIVE_UP_S, RETRY_S, Services, fire_due
from queueing.engine import Engine
from tests.integration.conftest import Clock, Server
from tests.integration.test_booking_http import bserver, slot  # noqa: F401
from tests.integration.test_booking_support import KIOSK, booking_engine, req, sid


@pytest.fixture
async def bk(demo: Engine) -> BookingEngine:
    return await booking_engine(demo)


async def test_staff_see_and_correct_the_number_texts_go_to(bserver: Server) -> None:  # noqa: F811
    c = bserver.client
    agent = bserver.auth("agent", site="demo", counter="1")
    sup = bserver.auth("supervisor", site="demo")
    b = (await c.post("/v1/sites/demo/bookings", json={
        "slot": slot("r1", 2, "10:00"), "customer": "amy", "channel": "phone",
        "notify": "13800138001"}, headers=agent)).json()
    own = {"Authorization": f"Bearer {b['token']}"}
    assert (await c.get(f"/v1/bookings/{b['id']}", headers=agent)).json()[
        "notify"] == "+8613800138001"
    assert "notify" not in (await c.get(f"/v1/bookings/{b['id']}", headers=own)).json()
    day = datetime.fromisoformat(b["start"]).date().isoformat()
    listed = (await c.get(f"/v1/sites/demo/bookings?date={day}", headers=sup)).json()
    assert [x["notify"] for x in listed["bookings"]] == ["+861…01"]  # masked
    listed = (await c.get(f"/v1/sites/demo/bookings?date={day}", headers=agent)).json()
    assert [x["notify"] for x in listed["bookings"]] == ["+8613800138001"]
    # Corrected by the agent (the caller reads it out again) ...
    r = await c.post(f"/v1/bookings/{b['id']}/notify", json={"to": "139 0013 9002"},
                     headers=agent)
    assert r.status_code == 200, r.text
    assert r.json()["notify"] == "+8613900139002" and r.json()["changed"] is True
    # ... or by the person on their page (a number only; the number is not echoed).
    bad = await c.post(f"/v1/bookings/{b['id']}/notify", json={"to": "hello"}, headers=own)
    assert bad.status_code == 400
    r = await c.post(f"/v1/bookings/{b['id']}/notify", json={"to": "13700137003"},
                     headers=own)
    assert r.status_code == 200 and "notify" not in r.json()
    assert (await c.get(f"/v1/bookings/{b['id']}", headers=agent)).json()[
        "notify"] == "+8613700137003"
    # Others may not; a cancelled booking takes no number.
    other = bserver.auth("partner", site="demo", subject="partner:other")
    assert (await c.post(f"/v1/bookings/{b['id']}/notify", json={"to": None},
                         headers=other)).status_code == 403
    await c.post(f"/v1/bookings/{b['id']}/cancel", headers=agent)
    r = await c.post(f"/v1/bookings/{b['id']}/notify", json={"to": None}, headers=agent)
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"


class Refusing:
    """A gateway that refuses one number with a 4xx (a number it knows is wrong)."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.tries = 0

    async def send(self, n: Notification) -> None:
        self.tries += 1
        raise NotifyFailed(f"webhook answered {self.status}", self.status)

    async def aclose(self) -> None:
        return None


async def test_a_reminder_refused_for_good_is_given_up_and_shown_on_the_booking(
        bk: BookingEngine, redis: Redis, clock: Clock) -> None:
    s = sid("r1", 3, "10:00")
    a = (await bk.book("demo", req(s, "a", notify="+8613800000001"), KIOSK)).booking
    start = (await bk.schedule("demo")).slot(s).start_ms
    gateway = Refusing(400)
    svc = Services(redis, bk, gateway)
    clock.now = start - 86400_000  # the day-before reminder
    await fire_due(svc, "demo")
    state = (await bk.get(a["id"]))["notify_state"]
    assert state["state"] == "failed" and state["status"] == 400
    assert state["kind"] == "reminder"
    tries = gateway.tries
    while clock.now < start - 86400_000 + (GIVE_UP_S + 2 * RETRY_S) * 1000:
        clock.advance(RETRY_S)
        await fire_due(svc, "demo")
    # Given up after ~9 minutes (not every 30 s until the appointment); nothing due now.
    assert gateway.tries - tries <= GIVE_UP_S // RETRY_S + 1
    assert (await bk.get(a["id"]))["notify_state"]["state"] == "given_up"
    assert await bk.due("demo") == []
    stats = await delivery.read(redis)
    assert stats.counts.get(("given_up", "reminder", "")) == 1
    # The next reminder still comes (to the corrected number) ...
    fixed = await bk.set_notify(a["id"], "+8613900000009", KIOSK)
    assert "notify_state" not in fixed
    good: list[Notification] = []

    class Ok:
        async def send(self, n: Notification) -> None:
            good.append(n)

        async def aclose(self) -> None:
            return None

    clock.now = start - 7200_000
    await fire_due(Services(redis, bk, Ok()), "demo")
    assert [n.to for n in good] == ["+8613900000009"]
    assert (await bk.get(a["id"]))["notify_state"]["state"] == "ok"


async def test_a_gateway_that_is_down_is_tried_until_the_appointment(
        bk: BookingEngine, redis: Redis, clock: Clock) -> None:
    s = sid("r1", 3, "10:00")
    a = (await bk.book("demo", req(s, "a", notify="+8613800000001"), KIOSK)).booking
    start = (await bk.schedule("demo")).slot(s).start_ms
    svc = Services(redis, bk, Refusing(503))
    clock.now = start - 86400_000
    await fire_due(svc, "demo")
    clock.advance(GIVE_UP_S + 60)
    await fire_due(svc, "demo")
    # Not a refusal for good: still due, tried again in RETRY_S.
    assert f"r|{a['id']}|86400|{start}" in (await bk.raw(a["id"]))["due"]
    assert (await bk.get(a["id"]))["notify_state"]["status"] == 503


async def test_an_admin_lifts_a_suspension_over_http(bserver: Server) -> None:  # noqa: F811
    c = bserver.client
    agent = bserver.auth("agent", site="demo", counter="1")
    b = (await c.post("/v1/sites/demo/bookings", json={
        "slot": slot("r1", 2, "10:00"), "customer": "amy", "channel": "phone"},
        headers=agent)).json()
    start = datetime.fromisoformat(b["start"])
    body = {"from": b["start"], "until": b["end"], "reason": "called away"}
    sus = (await c.post("/v1/sites/demo/resources/r1/suspend", json=body,
                        headers=agent)).json()
    url = f"/v1/sites/demo/suspensions/{sus['id']}"
    # A supervisor runs the floor but does not lift (an agent of the site or an admin does).
    assert (await c.delete(url, headers=bserver.auth("supervisor", site="demo"))
            ).status_code == 403
    r = await c.delete(url, headers=bserver.auth("admin"))
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["restored"]] == [b["id"]]
    assert "suspension" not in (await c.get(f"/v1/bookings/{b['id']}", headers=agent)).json()
    avail = (await c.get(f"/v1/sites/demo/availability?service=internal&resource=r1&date="
                         f"{start.date().isoformat()}", headers=agent)).json()
    assert next(x for x in avail if x["slot"] == b["slot"])["remaining"] > 0
    assert (await c.get(url, headers=agent)).json()["lifted_at"]
    assert (await c.delete("/v1/sites/demo/suspensions/r1-nope",
                           headers=bserver.auth("admin"))).status_code == 404
