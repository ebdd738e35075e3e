"""A site's suspensions listed (GET /v1/sites/{site}/suspensions): those not yet over by
default, whether or not they reach anybody, a window of dates or times, lifted ones on
request, supervisors reading them too; bad input refused with a stable code. And lifting by
whoever may suspend: the site's agent who suspended by mistake undoes it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from queueing import keys
from tests.integration.conftest import Server
from tests.integration.test_booking_http import TZ, bserver, slot, today  # noqa: F401

URL = "/v1/sites/demo/suspensions"


async def _suspend(s: Server, resource: str, days: int, hhmm: str, minutes: int,
                   reason: str) -> dict[str, Any]:
    d = today() + timedelta(days=days)
    h, m = map(int, hhmm.split(":"))
    start = datetime(d.year, d.month, d.day, h, m, tzinfo=TZ)
    body = {"from": start.isoformat(), "until": (start + timedelta(minutes=minutes)).isoformat(),
            "reason": reason}
    r = await s.client.post(f"/v1/sites/demo/resources/{resource}/suspend", json=body,
                            headers=s.auth("agent", site="demo", counter="1"))
    assert r.status_code == 201, r.text
    return dict(r.json())


def _ids(r: Any) -> list[str]:
    assert r.status_code == 200, r.text
    return [x["id"] for x in r.json()["suspensions"]]


async def test_the_list_by_window_role_and_lifted(bserver: Server, redis: Redis) -> None:  # noqa: F811
    c = bserver.client
    agent = bserver.auth("agent", site="demo", counter="1")
    sup = bserver.auth("supervisor", site="demo")
    await c.post("/v1/sites/demo/bookings", json={
        "slot": slot("r2", 1, "09:00"), "customer": "amy", "channel": "phone"}, headers=agent)
    near = await _suspend(bserver, "r2", 1, "09:00", 60, "called to theatre")
    # Reaches nobody and not today: the page found it only through today's bookings.
    later = await _suspend(bserver, "r1", 3, "10:00", 60, "training")

    r = await c.get(URL, headers=agent)
    assert _ids(r) == [near["id"], later["id"]]  # by start
    got = r.json()["suspensions"]
    assert got[0] | {"created_at": None} == {
        "id": near["id"], "resource": "r2", "reason": "called to theatre",
        "from": near["from"], "until": near["until"], "created_at": None, "reached": 1,
        "pending": 1, "standing": True}
    assert got[1]["reached"] == 0 and got[1]["pending"] == 0
    assert _ids(await c.get(URL, headers=sup)) == [near["id"], later["id"]]  # read only
    assert _ids(await c.get(URL, headers=bserver.auth("admin"))) == [near["id"], later["id"]]

    # A window: dates of the site (from: its start; until: its end) or times with an offset.
    day1, day3 = (today() + timedelta(days=n) for n in (1, 3))
    assert _ids(await c.get(f"{URL}?until={day1}", headers=agent)) == [near["id"]]
    assert _ids(await c.get(f"{URL}?from={day3}", headers=agent)) == [later["id"]]
    assert _ids(await c.get(URL, params={"from": near["until"]}, headers=agent)) == [
        later["id"]]  # ends at the window's start: not in it
    assert _ids(await c.get(URL, params={"from": near["from"], "until": later["from"]},
                            headers=agent)) == [near["id"]]
    assert _ids(await c.get(f"{URL}?from={day1}&until={day1}", headers=agent)) == [near["id"]]

    # Lifted by the site's agent (the one who may suspend); listed again with lifted=1.
    lifted = await c.delete(f"{URL}/{near['id']}", headers=agent)
    assert lifted.status_code == 200, lifted.text
    assert _ids(await c.get(URL, headers=agent)) == [later["id"]]
    r = await c.get(f"{URL}?lifted=1", headers=agent)
    assert _ids(r) == [near["id"], later["id"]]
    first = r.json()["suspensions"][0]
    assert first["lifted_at"] and first["standing"] is False and first["pending"] == 0

    # Made before the list's index existed: still listed while it stands.
    await redis.zrem(keys.prefix("demo") + "bk:spu", later["id"])
    assert _ids(await c.get(URL, headers=agent)) == [later["id"]]


async def test_the_list_refuses_bad_input_and_other_roles(bserver: Server) -> None:  # noqa: F811
    c = bserver.client
    agent = bserver.auth("agent", site="demo", counter="1")
    for query, field in [("from=soon", "from"), ("until=2026-13-01", "until"),
                         ("from=2026-12-01T10:00", "from"),  # no offset
                         ("from=0001-01-01T00:00:00%2B01:00", "from"),
                         ("from=0001-01-01", "from"), ("lifted=yes", "lifted"),
                         ("from=2026-12-02&until=2026-12-01", "until")]:
        r = await c.get(f"{URL}?{query}", headers=agent)
        assert r.status_code == 400, (query, r.text)
        assert r.json()["code"] == "bad_request" and r.json()["details"]["field"] == field
    for role, kw in [("kiosk", {"site": "demo"}), ("partner", {"site": "demo"}),
                     ("display", {"site": "demo"}),
                     ("agent", {"site": "other", "counter": "1"}),
                     ("supervisor", {"site": "other"})]:
        r = await c.get(URL, headers=bserver.auth(role, **kw))
        assert r.status_code == 403 and r.json()["code"] == "forbidden", (role, r.text)
    r = await c.get("/v1/sites/nowhere/suspensions", headers=bserver.auth("admin"))
    assert r.status_code == 404 and r.json()["code"] == "unknown_site"


async def test_whoever_may_suspend_may_lift(bserver: Server, redis: Redis) -> None:  # noqa: F811
    c = bserver.client
    agent = bserver.auth("agent", site="demo", counter="1")
    b = (await c.post("/v1/sites/demo/bookings", json={
        "slot": slot("r1", 2, "10:00"), "customer": "bob", "channel": "phone"},
        headers=agent)).json()
    sus = await _suspend(bserver, "r1", 2, "10:00", 30, "typed the wrong doctor")
    url = f"{URL}/{sus['id']}"
    for role, kw in [("supervisor", {"site": "demo"}), ("kiosk", {"site": "demo"}),
                     ("agent", {"site": "other", "counter": "1"})]:
        r = await c.delete(url, headers=bserver.auth(role, **kw))
        assert r.status_code == 403, (role, r.text)
    r = await c.delete(url, headers=bserver.auth("agent", site="demo", counter="2"))
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["restored"]] == [b["id"]]
    assert "suspension" not in (await c.get(f"/v1/bookings/{b['id']}", headers=agent)).json()
    # The audit trail names who lifted it.
    key = keys.prefix("demo") + f"bk:sp:{sus['id']}"
    raw = await redis.hget(key, "lifted_by")  # type: ignore[misc]
    assert raw and b"agent" in raw
