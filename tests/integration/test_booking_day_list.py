"""The day's appointment list (GET /v1/sites/{site}/bookings?date=…): reception and the floor
overview see who is expected, who has arrived (with the ticket's number and status) and who
did not come; not cancelled or lapsed bookings; staff of the site only (it names customers);
a booking whose session a later schedule dropped is still listed."""

from __future__ import annotations

from datetime import timedelta

import msgspec
from redis.asyncio import Redis

from tests.integration.conftest import Server
from tests.integration.test_booking_http import (  # noqa: F401
    TZ,
    bserver,
    next_lab_slot,
    rush_schedule,
    slot,
    today,
)


async def _book(s: Server, slot_id: str, customer: str, **kw: object) -> dict:
    r = await s.client.post("/v1/sites/demo/bookings", headers=s.auth("partner", site="demo"),
                            json={"slot": slot_id, "customer": customer, "channel": "app", **kw})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_the_days_list(bserver: Server, redis: Redis) -> None:  # noqa: F811
    c, s = bserver.client, bserver
    a = await _book(s, slot("r1", 2, "09:00"), "ann")
    b = await _book(s, slot("r2", 2, "09:30"), "ben")
    gone = await _book(s, slot("r1", 2, "10:00"), "cat")
    held = await _book(s, slot("r1", 2, "09:00"), "dan", hold=True)
    other_day = await _book(s, slot("r1", 3, "09:00"), "eve")
    own = {"Authorization": f"Bearer {gone['token']}"}
    assert (await c.post(f"/v1/bookings/{gone['id']}/cancel", headers=own)).status_code == 200
    day = (today() + timedelta(days=2)).isoformat()
    staff = s.auth("agent", site="demo", counter="1")
    r = await c.get(f"/v1/sites/demo/bookings?date={day}", headers=staff)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["date"] == day
    assert [(x["id"], x["status"]) for x in got["bookings"]] == [
        (a["id"], "confirmed"), (held["id"], "held"), (b["id"], "confirmed")]
    assert got["bookings"][0]["customer"] == "ann" and got["bookings"][0]["start"].endswith(
        "+08:00")
    assert other_day["id"] not in {x["id"] for x in got["bookings"]}
    only_r1 = await c.get(f"/v1/sites/demo/bookings?date={day}&resource=r1", headers=staff)
    assert [x["id"] for x in only_r1.json()["bookings"]] == [a["id"], held["id"]]
    # Who may read it: staff of the site (a supervisor too); not kiosks, partners, screens.
    sup = s.auth("supervisor", site="demo", subject="floor")
    assert (await c.get(f"/v1/sites/demo/bookings?date={day}", headers=sup)).status_code == 200
    for role in ("kiosk", "partner", "display"):
        r = await c.get(f"/v1/sites/demo/bookings?date={day}", headers=s.auth(role, site="demo"))
        assert r.status_code == 403, role
    r = await c.get(f"/v1/sites/demo/bookings?date={day}", headers={
        "Authorization": f"Bearer {a['token']}"})
    assert r.status_code == 403  # a booking's own token sees its own booking only
    for query, status in (("date=tomorrow", 400), ("date=", 400), (f"date={day}&resource=x", 404),
                          (f"date={day}&service=x", 400)):
        r = await c.get(f"/v1/sites/demo/bookings?{query}", headers=staff)
        assert r.status_code == status, (query, r.text)
    # r1's sessions dropped by a new schedule: its bookings keep their slot, and the list
    # still shows them (reception must see who is coming).
    cfg = rush_schedule()
    cfg.templates = [t for t in cfg.templates if t.resource != "r1"]
    put = await c.put("/v1/sites/demo/booking", content=msgspec.json.encode(cfg),
                      headers=s.auth("admin"))
    assert put.status_code == 200, put.text
    r = await c.get(f"/v1/sites/demo/bookings?date={day}", headers=staff)
    assert [x["id"] for x in r.json()["bookings"]] == [a["id"], held["id"], b["id"]]
    # r1 gone from the schedule altogether: its bookings are still found by it.
    cfg.resources = [x for x in cfg.resources if x.id != "r1"]
    put = await c.put("/v1/sites/demo/booking", content=msgspec.json.encode(cfg),
                      headers=s.auth("admin"))
    assert put.status_code == 200, put.text
    r = await c.get(f"/v1/sites/demo/bookings?date={day}&resource=r1", headers=staff)
    assert [x["id"] for x in r.json()["bookings"]] == [a["id"], held["id"]]
    r = await c.get(f"/v1/sites/demo/bookings?date={day}&resource=nobody", headers=staff)
    assert r.status_code == 404


async def test_an_arrival_shows_its_ticket(bserver: Server) -> None:  # noqa: F811
    c, s = bserver.client, bserver
    lab = next_lab_slot()
    b = await _book(s, lab, "fay")
    kiosk = s.auth("kiosk", site="demo")
    r = await c.post("/v1/sites/demo/check-in", headers=kiosk, json={"code": b["code"]})
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    day = b["start"][:10]
    staff = s.auth("agent", site="demo", counter="1")
    got = (await c.get(f"/v1/sites/demo/bookings?date={day}&service=lab", headers=staff)).json()
    row = next(x for x in got["bookings"] if x["id"] == b["id"])
    assert (row["status"], row["ticket_number"], row["ticket_status"]) == (
        "checked_in", number, "waiting")


async def test_a_bookings_read_says_where_its_visit_is(bserver: Server) -> None:  # noqa: F811
    """GET /v1/bookings/{id} of a checked-in booking carries its ticket's number and status,
    so the person's page can say the visit is done rather than "follow your place"."""
    c, s = bserver.client, bserver
    b = await _book(s, next_lab_slot(), "gus")
    own = {"Authorization": f"Bearer {b['token']}"}
    r = await c.post("/v1/sites/demo/check-in", headers=own, json={"code": b["code"]})
    assert r.status_code == 201, r.text
    t = r.json()
    got = (await c.get(f"/v1/bookings/{b['id']}", headers=own)).json()
    assert (got["ticket_number"], got["ticket_status"]) == (t["number"], "waiting")
    agent = s.auth("agent", site="demo", counter="1")
    admin = s.auth("admin")
    await c.post("/v1/sites/demo/counters/1/open", headers=agent)
    for op, body in (("call", {"ticket": t["id"], "service": "lab"}), ("start", None),
                     ("complete", None)):
        r = await c.post(f"/v1/sites/demo/counters/1/{op}", headers=admin, json=body)
        assert r.status_code == 200, (op, r.text)
    got = (await c.get(f"/v1/bookings/{b['id']}", headers=own)).json()
    assert (got["status"], got["ticket_status"]) == ("checked_in", "done")
