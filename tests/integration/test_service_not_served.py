"""A service no counter lists takes no ticket and no transfer (409 ``service_not_served``,
nothing changed): such a ticket was never called, "nobody ahead", and closed at the day's
close. A closed counter still serves its services (it may open later); a booked person who
checks in is still admitted; tickets already waiting when the last counter stops serving
their service stay, and the site document read lists them (``unserved``)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis

from queueing import keys
from queueing.demo import demo_site
from queueing.engine import Actor, Engine
from queueing.model import Channel, SiteConfig, TicketRequest
from queueing.served import ServiceNotServed
from tests.integration.conftest import ADMIN, Clock, Server
from tests.integration.test_booking_support import KIOSK, booking_engine, req, sid

AGENT = Actor("agent:demo:1", "counter")


def without(service: str) -> SiteConfig:
    """The demo site with no counter serving ``service`` (internal: room 1 goes, room 2
    keeps paediatrics)."""
    cfg = demo_site()
    counters = [msgspec.structs.replace(
        c, services=[s for s in c.services if s != service],
        weights={k: v for k, v in c.weights.items() if k != service})
        for c in cfg.counters]
    return msgspec.structs.replace(cfg, counters=[c for c in counters if c.services])


async def state(redis: Redis) -> dict[str, Any]:
    """What a refused request must leave as it was: the stream, tickets, numbers, queues."""
    p = keys.prefix("demo")
    out: dict[str, Any] = {"events": await redis.xlen(keys.events("demo"))}
    for pattern in ("t:*", "num*", "q:*"):
        async for key in redis.scan_iter(match=p + pattern):
            kind = await redis.type(key)
            out[key] = (await redis.hgetall(key) if kind == b"hash"
                        else await redis.zrange(key, 0, -1, withscores=True) if kind == b"zset"
                        else await redis.get(key))
    return out


def ticket(service: str, **kw: Any) -> TicketRequest:
    return TicketRequest(service=service, channel=Channel.KIOSK, **kw)


async def test_no_ticket_in_a_service_no_counter_serves(demo: Engine, redis: Redis) -> None:
    await demo.put_site("demo", without("internal"), ADMIN)
    before = await state(redis)
    with pytest.raises(ServiceNotServed) as e:
        await demo.issue("demo", ticket("internal"), ADMIN)
    assert e.value.code == "service_not_served" and e.value.details == {"service": "internal"}
    assert await state(redis) == before  # no ticket, no number spent, no event
    t = (await demo.issue("demo", ticket("paediatrics"), ADMIN)).ticket
    assert t["status"] == "waiting"


async def test_a_closed_counter_still_serves_its_services(demo: Engine) -> None:
    for counter in ("1", "2"):  # both rooms of internal medicine closed: they may open later
        await demo.counter_op("demo", counter, "close", AGENT)
    t = (await demo.issue("demo", ticket("internal"), ADMIN)).ticket
    assert (t["service"], t["status"]) == ("internal", "waiting")


async def test_a_retried_issue_still_answers_its_ticket(demo: Engine) -> None:
    """An Idempotency-Key's retry gets the ticket it made, even if the service has lost
    its counters since (the ticket exists; refusing the retry would hide it)."""
    first = (await demo.issue("demo", ticket("internal"), ADMIN, "k1")).ticket
    await demo.put_site("demo", without("internal"), ADMIN)
    again = await demo.issue("demo", ticket("internal"), ADMIN, "k1")
    assert again.replay and again.ticket["id"] == first["id"]


async def test_no_transfer_to_a_service_no_counter_serves(demo: Engine, redis: Redis) -> None:
    cfg = without("lab")
    await demo.put_site("demo", cfg, ADMIN)
    waiting = (await demo.issue("demo", ticket("pharmacy"), ADMIN)).ticket
    await demo.issue("demo", ticket("internal"), ADMIN)
    current = await demo.counter_op("demo", "1", "call-next", AGENT)
    before = await state(redis)
    with pytest.raises(ServiceNotServed) as e:  # reception: POST /v1/tickets/{id}/transfer
        await demo.transfer(waiting["id"], "lab", AGENT)
    assert e.value.details == {"service": "lab"}
    with pytest.raises(ServiceNotServed):  # a counter's transfer of its current ticket
        await demo.counter_op("demo", "1", "transfer", AGENT, service="lab")
    assert await state(redis) == before
    assert (await demo.ticket(current["id"]))["status"] == "called"  # still at room 1
    moved = await demo.transfer(waiting["id"], "cashier", AGENT)  # a served one: as before
    assert (moved["service"], moved["status"]) == ("cashier", "transferred")


async def test_tickets_left_waiting_are_kept_and_listed(demo: Engine) -> None:
    ids = [(await demo.issue("demo", ticket("internal"), ADMIN)).ticket["id"]
           for _ in range(2)]
    assert "unserved" not in await demo.site("demo")
    await demo.put_site("demo", without("internal"), ADMIN)  # not refused: nothing is lost
    assert [(await demo.ticket(i))["status"] for i in ids] == ["waiting", "waiting"]
    assert (await demo.site("demo"))["unserved"] == {"internal": 2}
    await demo.cancel(ids[0], ADMIN)
    await demo.counter_op("demo", "2", "call", AGENT, ticket=ids[1])  # called by hand
    assert "unserved" not in await demo.site("demo")


async def test_a_booked_person_is_still_admitted(demo: Engine, clock: Clock) -> None:
    """The booking was taken while a counter served the service: the person who comes is
    checked in (the kiosk prints their ticket), and the site document shows it waiting."""
    bk = await booking_engine(demo)
    booked = (await bk.book("demo", req(sid("r1", 1, "10:00"), "ann"), KIOSK)).booking
    await demo.put_site("demo", without("internal"), ADMIN)
    clock.now = (await bk.schedule("demo")).slot(booked["slot"]).start_ms - 600_000
    checked = await bk.check_in("demo", booked["code"], "kiosk", KIOSK)
    assert (checked.ticket["service"], checked.ticket["status"]) == ("internal", "waiting")
    assert (await demo.site("demo"))["unserved"] == {"internal": 1}


# -- over HTTP ------------------------------------------------------------------------------

async def put(s: Server, cfg: SiteConfig) -> None:
    r = await s.client.put("/v1/sites/demo", content=msgspec.json.encode(cfg),
                           headers=s.auth("admin"))
    assert r.status_code == 200, r.text


async def test_http_refuses_with_a_stable_code(server: Server) -> None:
    s = server
    agent = s.auth("agent", site="demo", counter="5")
    t = (await s.client.post("/v1/sites/demo/tickets", headers=agent, json={
        "service": "pharmacy", "channel": "phone"})).json()
    await put(s, without("internal"))
    for headers in (s.auth("kiosk", site="demo"), agent):
        r = await s.client.post("/v1/sites/demo/tickets", headers=headers,
                                json={"service": "internal", "channel": "kiosk"})
        assert r.status_code == 409, r.text
        body = r.json()
        assert body["code"] == "service_not_served" and body["details"] == {
            "service": "internal"} and "temporary" not in body
    r = await s.client.post(f"/v1/tickets/{t['id']}/transfer", headers=agent,
                            json={"service": "internal"})
    assert (r.status_code, r.json()["code"]) == (409, "service_not_served")
    # The site read back and put again (with ``unserved`` in it) is accepted.
    await s.client.post("/v1/sites/demo/tickets", headers=agent, json={
        "service": "paediatrics", "channel": "phone"})
    await put(s, demo_site())
    await s.client.post("/v1/sites/demo/tickets", headers=agent, json={
        "service": "internal", "channel": "phone"})
    await put(s, without("internal"))
    read = await s.client.get("/v1/sites/demo", headers=s.auth("admin"))
    assert read.json()["unserved"] == {"internal": 1}
    r = await s.client.put("/v1/sites/demo", content=read.content, headers=s.auth("admin"))
    assert r.status_code == 200, r.text
