"""Reception moves a waiting or parked ticket to another service by its id ("you are in the
wrong queue"), and a cancelled ticket says why (its holder, staff, or the end of the day)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgspec
import pytest
import websockets
from redis.asyncio import Redis

from queueing import keys
from queueing.engine import Actor, Engine
from queueing.errors import InvalidTransition, UnknownService, UnknownTicket
from queueing.model import Channel, TicketRequest
from queueing.view import SiteView
from realtime.hub.entry import decode_entry
from tests.integration.conftest import ADMIN, Clock, Server

AGENT = Actor("agent:demo:1", "counter")


async def _issue(engine: Engine, service: str = "internal") -> dict[str, Any]:
    return (await engine.issue("demo", TicketRequest(service=service, channel=Channel.KIOSK),
                               ADMIN)).ticket


async def _ids(engine: Engine, service: str) -> list[str]:
    return [t["id"] for t in (await engine.queue("demo", service))["tickets"]]


async def _state(redis: Redis) -> tuple[int, list[list[bytes]], set[bytes]]:
    qs = [await redis.zrange(keys.prefix("demo") + f"q:{s}", 0, -1)
          for s in ("internal", "lab", "pharmacy")]
    return (int(await redis.xlen(keys.events("demo"))), qs,
            set(await redis.smembers(keys.prefix("demo") + "parked")))  # type: ignore[misc]


async def test_a_waiting_ticket_moves_with_its_arrival(demo: Engine, redis: Redis,
                                                       clock: Clock) -> None:
    early = await _issue(demo, "internal")
    behind = await _issue(demo, "internal")
    clock.advance(60)
    lab = await _issue(demo, "lab")
    view = SiteView.from_snapshot("demo", await demo.snapshot("demo"))
    start = (await demo.snapshot("demo"))["offset"]
    moved = await demo.transfer(early["id"], "lab", ADMIN)
    # Ahead of the lab ticket that came a minute later; gone from its old queue.
    assert moved["status"] == "transferred" and moved["service"] == "lab"
    assert moved["position"] == 1 and moved["transferred_from"] == "internal"
    assert await _ids(demo, "lab") == [early["id"], lab["id"]]
    assert await _ids(demo, "internal") == [behind["id"]]
    got = await demo.ticket(early["id"])
    assert (got["status"], got["position"], got["number"]) == ("transferred", 1,
                                                               early["number"])
    # Moved again (a transferred ticket is still waiting) and the event says from where.
    clock.advance(5)
    again = await demo.transfer(early["id"], "pharmacy", ADMIN)
    assert again["service"] == "pharmacy" and again["position"] == 1
    rows = await redis.xrange(keys.events("demo"), "(" + start, "+")
    events = [(f[b"t"].decode(), msgspec.json.decode(f[b"d"])) for _, f in rows]
    assert [(k, d["from"], d["from_service"], d["to_service"]) for k, d in events] == [
        ("transferred", "waiting", "internal", "lab"),
        ("transferred", "transferred", "lab", "pharmacy")]
    # A hub's live view, fed the events, agrees with Redis.
    for eid, fields in rows:
        e = decode_entry(eid, fields)
        view.apply(e.type, e.data)
    fresh = SiteView.from_snapshot("demo", await demo.snapshot("demo"))
    assert view.queues == fresh.queues
    assert view.queues["internal"] == [behind["id"]] and view.queues["pharmacy"] == [early["id"]]
    # Then it is called at the new service like anyone there.
    called = await demo.counter_op("demo", "5", "call-next", Actor("agent:demo:5", "counter"))
    assert called["id"] == early["id"] and called["status"] == "called"


async def test_a_parked_ticket_moves_out_of_the_parked_list(demo: Engine, redis: Redis) -> None:
    t = await _issue(demo, "internal")
    await demo.counter_op("demo", "1", "call-next", AGENT)
    await demo.counter_op("demo", "1", "park", AGENT)
    moved = await demo.transfer(t["id"], "lab", ADMIN)
    assert moved["status"] == "transferred" and moved["position"] == 1
    assert (await _state(redis))[2] == set()
    view = SiteView.from_snapshot("demo", await demo.snapshot("demo"))
    assert dict(view.parked) == {} and view.queues["lab"] == [t["id"]]


async def test_refused_moves_change_nothing(demo: Engine, redis: Redis) -> None:
    waiting = await _issue(demo, "internal")
    called = await _issue(demo, "internal")
    done = await _issue(demo, "lab")
    await demo.counter_op("demo", "4", "call-next", ADMIN)
    await demo.counter_op("demo", "4", "complete", ADMIN)
    # counter 1 calls the first internal ticket: "waiting" is then the other one.
    first = await demo.counter_op("demo", "1", "call-next", AGENT)
    waiting, called = (called, waiting) if first["id"] == waiting["id"] else (waiting, called)
    before = await _state(redis)
    with pytest.raises(InvalidTransition, match="already in internal"):
        await demo.transfer(waiting["id"], "internal", ADMIN)
    with pytest.raises(UnknownService):
        await demo.transfer(waiting["id"], "ghost", ADMIN)
    with pytest.raises(InvalidTransition, match="called"):
        await demo.transfer(called["id"], "lab", ADMIN)  # its counter transfers it
    with pytest.raises(InvalidTransition, match="done"):
        await demo.transfer(done["id"], "internal", ADMIN)
    with pytest.raises(UnknownTicket):
        await demo.transfer("demo.000000000000", "lab", ADMIN)
    with pytest.raises(UnknownTicket):
        await demo.transfer("nosite", "lab", ADMIN)
    assert await _state(redis) == before
    assert (await demo.ticket(called["id"]))["counter"] == "1"


async def test_transfer_over_http_scopes_and_bad_input(server: Server, redis: Redis) -> None:
    c = server.client
    kiosk = server.auth("kiosk", site="demo")
    agent = server.auth("agent", site="demo", counter="1")
    t = (await c.post("/v1/sites/demo/tickets", json={"service": "internal",
                                                      "channel": "kiosk"},
                      headers=kiosk)).json()
    own = {"Authorization": f"Bearer {t['token']}"}
    url = f"/v1/tickets/{t['id']}/transfer"
    before = await _state(redis)
    for headers, body, status, code in (
        (own, {"service": "lab"}, 403, "forbidden"),  # the holder cannot
        (kiosk, {"service": "lab"}, 403, "forbidden"),
        (server.auth("agent", site="other", counter="1"), {"service": "lab"}, 403,
         "forbidden"),
        (agent, {}, 400, "bad_request"),
        (agent, {"service": 5}, 400, "bad_request"),
        (agent, {"service": "lab", "counter": "4"}, 400, "unknown_field"),
        (agent, {"service": "ghost"}, 404, "unknown_service"),
        (agent, {"service": "internal"}, 409, "invalid_transition"),
    ):
        r = await c.post(url, json=body, headers=headers)
        assert (r.status_code, r.json()["code"]) == (status, code), (body, r.text)
    assert await _state(redis) == before
    r = await c.post(url, json={"service": "lab"}, headers=agent)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "transferred" and r.json()["transferred_from"] == "internal"
    # The holder's own view follows.
    got = (await c.get(f"/v1/tickets/{t['id']}", headers=own)).json()
    assert got["service"] == "lab" and got["position"] == 1
    # A counter's transfer acts on its current ticket: naming another one is refused, not
    # silently ignored (it would move the wrong person).
    await c.post("/v1/sites/demo/tickets", json={"service": "internal", "channel": "kiosk"},
                 headers=kiosk)
    current = (await c.post("/v1/sites/demo/counters/1/call-next", headers=agent)).json()
    before = await _state(redis)
    r = await c.post("/v1/sites/demo/counters/1/transfer",
                     json={"ticket": t["id"], "service": "pharmacy"}, headers=agent)
    assert (r.status_code, r.json()["code"]) == (400, "bad_request"), r.text
    assert "/transfer" in r.json()["message"]
    assert await _state(redis) == before
    assert (await c.get(f"/v1/tickets/{current['id']}", headers=agent)).json()["status"] \
        == "called"


async def test_a_cancelled_ticket_says_why(server: Server) -> None:
    c = server.client
    kiosk = server.auth("kiosk", site="demo")
    agent = server.auth("agent", site="demo", counter="1")

    async def take() -> dict[str, Any]:
        r = await c.post("/v1/sites/demo/tickets", json={"service": "lab", "channel": "kiosk"},
                         headers=kiosk)
        return r.json()  # type: ignore[no-any-return]

    mine, staff, late = await take(), await take(), await take()
    own = {"Authorization": f"Bearer {late['token']}"}
    ws_url = f"{server.base.replace('http', 'ws')}/ws?token={late['token']}"
    async with websockets.connect(ws_url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": f"ticket:{late['id']}", "id": 1}))
        snap = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert snap["op"] == "snapshot" and "cancel_reason" not in snap["data"]
        r = await c.post(f"/v1/tickets/{mine['id']}/cancel",
                         headers={"Authorization": f"Bearer {mine['token']}"})
        assert r.json()["cancel_reason"] == "by_holder"
        r = await c.post(f"/v1/tickets/{staff['id']}/cancel", headers=agent)
        assert r.json()["cancel_reason"] == "by_staff"
        assert (await c.post("/v1/sites/demo/close-day", headers=server.auth("admin"))
                ).status_code == 200
        while True:  # the holder's page is told, with the reason
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if msg.get("type") == "cancelled":
                break
        assert msg["data"]["status"] == "cancelled"
        assert msg["data"]["cancel_reason"] == "day_closed"
    got = (await c.get(f"/v1/tickets/{late['id']}", headers=own)).json()
    assert got["cancel_reason"] == "day_closed"
    # A page opened later (its snapshot of a finished ticket) says so too.
    async with websockets.connect(ws_url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": f"ticket:{late['id']}", "id": 1}))
        snap = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert snap["data"]["cancel_reason"] == "day_closed"
    # Only a cancelled ticket carries one.
    live = await take()
    assert "cancel_reason" not in (await c.get(f"/v1/tickets/{live['id']}",
                                               headers=agent)).json()


async def test_find_the_open_ticket_by_its_number(server: Server, redis: Redis) -> None:
    """Reception: "I am A001" → the ticket, whatever its service or status; finished tickets
    are not found (their numbers come round again)."""
    c = server.client
    kiosk = server.auth("kiosk", site="demo")
    agent = server.auth("agent", site="demo", counter="4")
    a = (await c.post("/v1/sites/demo/tickets", json={"service": "internal", "channel": "kiosk"},
                      headers=kiosk)).json()
    lab = (await c.post("/v1/sites/demo/tickets", json={"service": "lab", "channel": "kiosk"},
                        headers=kiosk)).json()
    for typed in (" a001 ", "A1", "a 01"):  # as people say it: letters and the number
        r = await c.get("/v1/sites/demo/tickets", params={"number": typed}, headers=agent)
        assert r.status_code == 200, r.text
        [got] = r.json()["tickets"]
        assert (got["id"], got["status"], got["position"]) == (a["id"], "waiting", 1)
    await c.post("/v1/sites/demo/counters/4/call-next", headers=agent)
    [called] = (await c.get("/v1/sites/demo/tickets", params={"number": lab["number"]},
                            headers=agent)).json()["tickets"]
    assert (called["status"], called["counter"]) == ("called", "4")
    await c.post("/v1/sites/demo/counters/4/complete", headers=agent)
    done = await c.get("/v1/sites/demo/tickets", params={"number": lab["number"]},
                       headers=agent)
    assert done.json() == {"tickets": []}
    for params, headers, status, code in (
        ({}, agent, 400, "bad_request"),
        ({"number": "A001; DROP"}, agent, 400, "bad_request"),
        ({"number": "x" * 200}, agent, 400, "bad_request"),
        ({"number": "A001"}, kiosk, 403, "forbidden"),  # a kiosk does not list tickets
        ({"number": "A001"}, {"Authorization": f"Bearer {a['token']}"}, 403, "forbidden"),
        ({"number": "A001"}, server.auth("agent", site="other", counter="1"), 403,
         "forbidden"),
    ):
        r = await c.get("/v1/sites/demo/tickets", params=params, headers=headers)
        assert (r.status_code, r.json()["code"]) == (status, code), (params, r.text)
    r = await c.get("/v1/sites/ghost/tickets", params={"number": "A001"},
                    headers=server.auth("admin"))
    assert (r.status_code, r.json()["code"]) == (404, "unknown_site")


async def test_set_where_alerts_go_over_http(server: Server, redis: Redis) -> None:
    c = server.client
    t = (await c.post("/v1/sites/demo/tickets", json={"service": "lab", "channel": "kiosk"},
                      headers=server.auth("kiosk", site="demo"))).json()
    own = {"Authorization": f"Bearer {t['token']}"}
    url = f"/v1/tickets/{t['id']}/notify"
    key = keys.ticket("demo", t["id"])
    for headers, body, status, code in (
        (own, {"to": 13800000000}, 400, "bad_request"),
        (own, {"to": ""}, 400, "bad_request"),
        (own, {"to": "+86\n138"}, 400, "bad_request"),
        (own, {}, 400, "bad_request"),
        (own, {"to": "+86138", "via": "sms"}, 400, "unknown_field"),
        (server.auth("kiosk", site="demo"), {"to": "+86138"}, 403, "forbidden"),
    ):
        r = await c.post(url, json=body, headers=headers)
        assert (r.status_code, r.json()["code"]) == (status, code), (body, r.text)
    assert await redis.hget(key, "notify") in (None, b"")  # type: ignore[misc]
    ws_url = f"{server.base.replace('http', 'ws')}/ws?token={t['token']}"
    async with websockets.connect(ws_url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": f"ticket:{t['id']}", "id": 1}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["op"] == "snapshot"
        r = await c.post(url, json={"to": "+8613800000000"}, headers=own)
        assert r.status_code == 200 and r.json()["status"] == "waiting", r.text
        # The holder's page hears nothing of it (no change it shows), then the call.
        await c.post("/v1/sites/demo/counters/4/call-next",
                     headers=server.auth("agent", site="demo", counter="4"))
        msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert msg.get("type") == "called", msg
        assert "notify" not in msg["data"]
    assert await redis.hget(key, "notify") == b"+8613800000000"  # type: ignore[misc]
    r = await c.post(url, json={"to": None}, headers=server.auth("agent", site="demo",
                                                                 counter="4"))
    assert r.status_code == 200 and await redis.hget(key, "notify") == b""  # type: ignore[misc]
    await c.post("/v1/sites/demo/counters/4/complete",
                 headers=server.auth("agent", site="demo", counter="4"))
    r = await c.post(url, json={"to": "+8613800000000"}, headers=own)
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")


async def test_a_ticket_moved_before_its_call_counts_as_called_in_the_day_log(
        demo: Engine, redis: Redis) -> None:
    """Its first call ends its wait (the new queue's 'called' and wait), but the estimate it
    was given at issue was for the other queue: counted, not scored. A ticket called, then
    transferred by its counter and called again is a call in the new queue without a wait
    (its wait ended at the first call)."""
    from queueing.daylog import record_for
    moved = await _issue(demo, "internal")
    await demo.note_estimate(moved["id"], 600, 300, 900, (6.0, 0.5))
    served = await _issue(demo, "lab")
    await demo.transfer(moved["id"], "pharmacy", ADMIN)
    await demo.counter_op("demo", "5", "call", ADMIN, ticket=moved["id"])
    await demo.counter_op("demo", "5", "complete", ADMIN)
    await demo.counter_op("demo", "4", "call-next", ADMIN)
    await demo.counter_op("demo", "4", "transfer", ADMIN, service="cashier")
    await demo.counter_op("demo", "6", "call", ADMIN, ticket=served["id"])
    calls = []
    for eid, f in await redis.xrange(keys.events("demo")):
        if f[b"t"] != b"called":
            continue
        got = record_for("called", msgspec.json.decode(f[b"d"]), eid.decode(), "Asia/Shanghai")
        calls.append(got[1] if got else None)
    moved_call, lab_call, cashier_call = calls
    assert moved_call is not None and moved_call["k"] == "c" and moved_call["s"] == "pharmacy"
    assert "e" not in moved_call
    assert lab_call is not None and lab_call["s"] == "lab"
    assert cashier_call is not None and cashier_call["k"] == "x"  # a call there, no wait


async def test_every_console_of_the_service_sees_its_parked_list_change(server: Server) -> None:
    """Parked at counter 3, the ticket appears on counter 2's console (both serve
    paediatrics) at once; moved away or cancelled by id, it leaves it at once — not only on
    the console that acted."""
    c = server.client
    agent3 = server.auth("agent", site="demo", counter="3")
    url = (f"{server.base.replace('http', 'ws')}/ws?token="
           f"{server.token('agent', site='demo', counter='2')}")

    async def parked_now(ws: Any, want: list[str]) -> None:
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if [p["number"] for p in msg["data"].get("parked", [])] == want:
                return

    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": "counter:demo:2", "id": 1}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 5))["data"]["parked"] == []
        numbers = []
        for _ in range(2):
            t = (await c.post("/v1/sites/demo/tickets",
                              json={"service": "paediatrics", "channel": "kiosk"},
                              headers=agent3)).json()
            await c.post("/v1/sites/demo/counters/3/call", json={"ticket": t["id"]},
                         headers=agent3)
            await c.post("/v1/sites/demo/counters/3/park", headers=agent3)
            numbers.append((t["id"], t["number"]))
            await parked_now(ws, [n for _, n in numbers])
        r = await c.post(f"/v1/tickets/{numbers[0][0]}/transfer", json={"service": "lab"},
                         headers=agent3)
        assert r.status_code == 200, r.text
        await parked_now(ws, [numbers[1][1]])
        r = await c.post(f"/v1/tickets/{numbers[1][0]}/cancel", headers=agent3)
        assert r.status_code == 200, r.text
        await parked_now(ws, [])


async def test_a_call_from_a_list_a_moment_old_does_not_call_a_moved_ticket(
        demo: Engine, redis: Redis) -> None:
    """Counter 1 clicks Call on a row of internal medicine just as reception moves that
    ticket to the lab: with the service it saw, the call is refused and nothing changes;
    without one (calling any ticket of the site by id) it still works."""
    t = await _issue(demo, "internal")
    await demo.transfer(t["id"], "lab", ADMIN)
    before = await _state(redis)
    with pytest.raises(InvalidTransition, match="now in lab"):
        await demo.counter_op("demo", "1", "call", AGENT, ticket=t["id"], service="internal")
    assert await _state(redis) == before
    assert (await demo.site("demo"))["counters"][0]["ticket"] is None
    called = await demo.counter_op("demo", "1", "call", AGENT, ticket=t["id"], service="lab")
    assert called["status"] == "called" and called["counter"] == "1"


async def test_rates_stay_rates_when_tickets_change_queue(demo: Engine, redis: Redis) -> None:
    """A ticket transferred after a call and called again in the new queue is a call there
    (its no-show there is measured against it); a ticket moved before its call and then
    cancelled is abandoned where it was issued. No rate passes 100 %."""
    from queueing.daylog import record_for
    from realtime.stats import summarise
    for _ in range(2):
        t = await _issue(demo, "internal")
        await demo.counter_op("demo", "1", "call", ADMIN, ticket=t["id"])
        await demo.counter_op("demo", "1", "transfer", ADMIN, service="lab")
        for _ in range(3):  # called at the lab; a no-show (returned once by policy), again
            try:
                await demo.counter_op("demo", "4", "call", ADMIN, ticket=t["id"])
                await demo.counter_op("demo", "4", "no-show", ADMIN)
            except InvalidTransition:
                break
    served = await _issue(demo, "lab")
    await demo.counter_op("demo", "4", "call", ADMIN, ticket=served["id"])
    await demo.counter_op("demo", "4", "complete", ADMIN)
    await _issue(demo, "paediatrics")
    for _ in range(2):
        moved = await _issue(demo, "internal")
        await demo.transfer(moved["id"], "paediatrics", ADMIN)
        await demo.cancel(moved["id"], Actor("ticket", "app"), reason="by_holder")
    records = []
    for eid, f in await redis.xrange(keys.events("demo")):
        got = record_for(f[b"t"].decode(), msgspec.json.decode(f[b"d"]), eid.decode(),
                         "Asia/Shanghai")
        if got:
            day, rec = got
            records.append(rec)
    ops = summarise(records, day)["services"]
    lab, paed = ops["lab"]["operations"], ops["paediatrics"]["operations"]
    assert lab["called"] == 3 and 0 < lab["no_show_rate"] <= 1, lab
    assert paed["abandon_rate"] == 0.0, paed
    internal = ops["internal"]["operations"]
    assert internal["abandon_rate"] is not None and internal["abandon_rate"] <= 1, internal


async def test_a_holder_sets_a_mobile_number_a_few_times_at_most(server: Server) -> None:
    """A ticket's token comes from a public kiosk: it may give a mobile number only, and
    change it a few times (each change is an event); staff set any target, without limit."""
    c = server.client
    t = (await c.post("/v1/sites/demo/tickets", json={"service": "lab", "channel": "kiosk"},
                      headers=server.auth("kiosk", site="demo"))).json()
    own = {"Authorization": f"Bearer {t['token']}"}
    url = f"/v1/tickets/{t['id']}/notify"
    r = await c.post(url, json={"to": "https://push.example/abc"}, headers=own)
    assert (r.status_code, r.json()["code"], r.json()["details"]["field"]) == (
        400, "bad_request", "to")
    codes = [(await c.post(url, json={"to": f"+86138000000{i:02d}"}, headers=own)).status_code
             for i in range(8)]
    assert codes[:5] == [200] * 5 and 429 in codes[5:], codes
    agent = server.auth("agent", site="demo", counter="4")
    for _ in range(8):
        r = await c.post(url, json={"to": "https://push.example/abc"}, headers=agent)
        assert r.status_code == 200, r.text
