"""A counter's undo, a returned no-show a few places back, and the audit trail's lookups,
against a real Redis (queueing/lua/undo.lua, ticket_op.lua)."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from clients.client import Client
from queueing import keys
from queueing.audit import Filter, public
from queueing.demo import demo_site
from queueing.engine import Actor, Engine
from queueing.errors import CounterBusy, NothingToUndo, TicketChanged, UndoExpired
from queueing.model import Channel, TicketRequest
from queueing.numbering import local_day
from queueing.store import Store
from realtime.audit_api import read_page
from realtime.stats import StatsRecorder, day_records, summarise
from tests.integration.conftest import ADMIN, Clock, Server
from tests.integration.replay import check_replay, read_events

AGENT = Actor("agent:demo:1", "counter")
AGENT2 = Actor("agent:demo:2", "counter")


def req(service: str = "internal") -> TicketRequest:
    return TicketRequest(service=service, channel=Channel.KIOSK)


async def issue(demo: Engine, clock: Clock, n: int = 1) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        out.append((await demo.issue("demo", req(), ADMIN)).ticket)
        clock.advance(10)
    return out


async def state(demo: Engine, redis: Redis) -> dict[str, Any]:
    """Everything an undo may change: the stream's length, the site's hashes and queues."""
    p = keys.prefix("demo")
    out: dict[str, Any] = {"events": await redis.xlen(keys.events("demo"))}
    async for key in redis.scan_iter(match=p + "*", count=1000):
        kind = await redis.type(key)
        if kind == b"hash":
            out[key] = await redis.hgetall(key)
        elif kind == b"zset":
            out[key] = await redis.zrange(key, 0, -1, withscores=True)
    return out


async def test_undo_a_completion_puts_the_ticket_back_serving(demo: Engine, redis: Redis,
                                                              clock: Clock) -> None:
    t, other = await issue(demo, clock, 2)
    await demo.counter_op("demo", "1", "call-next", AGENT)
    await demo.counter_op("demo", "1", "start", AGENT)
    clock.advance(60)
    done = await demo.counter_op("demo", "1", "complete", AGENT, outcome="ok")
    assert done["status"] == "done"
    clock.advance(30)
    back = await demo.counter_op("demo", "1", "undo", AGENT)
    assert back["id"] == t["id"] and back["undone"] == "completed"
    assert back["status"] == "serving" and back["counter"] == "1"
    assert not back.get("outcome") and not back.get("ended_at")
    assert (await demo.site("demo"))["counters"][0]["ticket"] == t["id"]
    assert await redis.ttl(keys.prefix("demo") + "t:" + t["id"]) == -1  # kept again
    events = await read_events(redis, "demo")
    _, last = events[-1]
    assert last["_type"] == "undone" and last["undid"] == "completed"
    assert last["undid_offset"] == events[-2][0] and last["from"] == "done"
    assert last["_actor"] == AGENT.subject
    check_replay(demo_site(), events, 2.0)
    with pytest.raises(CounterBusy):  # it is the counter's current ticket again
        await demo.counter_op("demo", "1", "undo", AGENT)
    await demo.counter_op("demo", "1", "complete", AGENT)
    nxt = await demo.counter_op("demo", "1", "call-next", AGENT)
    assert nxt["id"] == other["id"]
    with pytest.raises(CounterBusy):
        await demo.counter_op("demo", "1", "undo", AGENT)
    await demo.counter_op("demo", "1", "park", AGENT)
    with pytest.raises(NothingToUndo):  # it has called someone since the completion
        await demo.counter_op("demo", "1", "undo", AGENT)
    # The day's figures count the one completion that stood.
    await StatsRecorder(demo).run_once()
    day = local_day(clock.now, "Asia/Shanghai")
    records = await day_records(demo, "demo", day)
    assert [r["k"] for r in records if r["k"] in ("d", "w")] == ["d"]
    ops = summarise(records, day)["services"]["internal"]["operations"]
    assert ops["service_s"]["n"] == 1


async def test_undo_a_no_show_calls_it_back(demo: Engine, redis: Redis, clock: Clock) -> None:
    t, = await issue(demo, clock)
    await demo.counter_op("demo", "1", "call-next", AGENT)
    first = await demo.counter_op("demo", "1", "no-show", AGENT)
    assert first["status"] == "waiting"  # returned once
    back = await demo.counter_op("demo", "1", "undo", AGENT)
    assert back["status"] == "called" and back["undone"] == "no_show"
    assert (await demo.queue("demo", "internal"))["total"] == 0
    gone = await demo.counter_op("demo", "1", "no-show", AGENT)
    assert gone["status"] == "waiting"  # the return was given back with the undo
    await demo.counter_op("demo", "1", "call-next", AGENT)
    final = await demo.counter_op("demo", "1", "no-show", AGENT)
    assert final["status"] == "no_show"
    assert (await demo.find("demo", t["number"])) == []
    again = await demo.counter_op("demo", "1", "undo", AGENT)
    assert again["status"] == "called" and again["calls"] == 1
    assert [x["id"] for x in await demo.find("demo", t["number"])] == [t["id"]]
    check_replay(demo_site(), await read_events(redis, "demo"), 2.0)


async def test_undo_refusals_change_nothing(demo: Engine, redis: Redis, clock: Clock) -> None:
    with pytest.raises(NothingToUndo):
        await demo.counter_op("demo", "1", "undo", AGENT)
    t, _ = await issue(demo, clock, 2)
    await demo.counter_op("demo", "1", "call-next", AGENT)
    await demo.counter_op("demo", "1", "complete", AGENT)
    clock.advance(121)
    before = await state(demo, redis)
    with pytest.raises(UndoExpired) as late:
        await demo.counter_op("demo", "1", "undo", AGENT)
    assert late.value.code == "undo_expired" and late.value.details["window_s"] == 120
    assert await state(demo, redis) == before
    # A returned no-show that another counter called meanwhile is that counter's now.
    await demo.counter_op("demo", "1", "call-next", AGENT)
    await demo.counter_op("demo", "1", "no-show", AGENT)
    await demo.counter_op("demo", "2", "call-next", AGENT2)
    before = await state(demo, redis)
    with pytest.raises(TicketChanged):
        await demo.counter_op("demo", "1", "undo", AGENT)
    assert await state(demo, redis) == before
    assert t["id"] not in {(await demo.site("demo"))["counters"][0]["ticket"]}


async def test_no_undo_with_a_zero_window(engine: Engine, clock: Clock) -> None:
    cfg = demo_site()
    cfg.policy.undo_window_s = 0
    await engine.put_site("demo", cfg, ADMIN)
    await engine.counter_op("demo", "1", "open", AGENT)
    await issue(engine, clock)
    await engine.counter_op("demo", "1", "call-next", AGENT)
    await engine.counter_op("demo", "1", "complete", AGENT)
    with pytest.raises(NothingToUndo):
        await engine.counter_op("demo", "1", "undo", AGENT)


@pytest.mark.parametrize(("back", "place"), [(2, 3), (0, 1), (9, 4)])
async def test_a_returned_no_show_goes_a_few_places_back(engine: Engine, redis: Redis,
                                                        clock: Clock, back: int,
                                                        place: int) -> None:
    cfg = demo_site()
    cfg.policy.no_show_return_after = back
    await engine.put_site("demo", cfg, ADMIN)
    await engine.counter_op("demo", "1", "open", AGENT)
    t, *others = await issue(engine, clock, 4)
    await engine.counter_op("demo", "1", "call-next", AGENT)
    returned = await engine.counter_op("demo", "1", "no-show", AGENT)
    assert returned["status"] == "waiting" and returned["position"] == place
    order = [x["id"] for x in (await engine.queue("demo", "internal"))["tickets"]]
    expect = [o["id"] for o in others]
    expect.insert(place - 1, t["id"])
    assert order == expect
    nxt = await engine.counter_op("demo", "1", "call-next", AGENT)
    assert (nxt["id"] == t["id"]) == (place == 1)
    check_replay(cfg, await read_events(redis, "demo"), 2.0)


async def test_the_trail_finds_a20_and_shows_class_and_appointment(demo: Engine,
                                                                   clock: Clock) -> None:
    appt = clock.now + 600_000
    t = (await demo.issue("demo", TicketRequest(service="internal", channel=Channel.WINDOW,
                                                priority="appointment", appointment_ms=appt),
                          ADMIN)).ticket
    await demo.counter_op("demo", "1", "call-next", AGENT)
    await demo.counter_op("demo", "1", "complete", AGENT)
    await demo.counter_op("demo", "1", "undo", AGENT)
    await StatsRecorder(demo).run_once()
    number = t["number"]  # A001
    short = number[0] + str(int(number[1:]))  # A1
    day = local_day(clock.now, "Asia/Shanghai")
    recs, _ = await read_page(demo.store.redis, keys.prefix("demo") + "audit:" + day,
                              Filter(number=short.lower()), 100, None)
    assert [r["k"] for r in recs] == ["issued", "called", "completed", "undone"]
    assert recs[0]["p"] == "appointment" and recs[0]["ap"] == appt
    assert recs[-1]["ud"] == "completed" and recs[-1]["uo"] == recs[-2]["o"]
    assert public(recs[0])["appointment_ms"] == appt and public(recs[-1])["undid"] == "completed"
    other, _ = await read_page(demo.store.redis, keys.prefix("demo") + "audit:" + day,
                               Filter(number=number[0] + "10"), 100, None)
    assert other == []


async def test_the_console_and_the_holder_see_the_undo(server: Server, redis: Redis) -> None:
    """Over the websocket: the counter topic's ``undone`` has the ticket current again, the
    holder's ``ticket:`` topic says ``undone`` with its status back, the board's counter
    shows it."""
    eng = Engine(Store(redis), config_ttl_s=0)
    t = (await eng.issue("demo", req(), AGENT)).ticket
    await eng.counter_op("demo", "1", "call-next", AGENT)
    await eng.counter_op("demo", "1", "start", AGENT)
    url = server.base.replace("http", "ws") + "/ws"
    async with Client(url, server.token("admin")) as console:
        await console.subscribe("counter:demo:1")
        await console.subscribe(f"ticket:{t['id']}")
        await console.next(5)
        await console.next(5)
        await eng.counter_op("demo", "1", "complete", AGENT)
        await eng.counter_op("demo", "1", "undo", AGENT)
        seen: dict[str, dict[str, Any]] = {}
        while len(seen) < 2:
            msg = await console.next(5)
            if msg.get("type") == "undone":
                seen[msg["topic"].split(":")[0]] = msg["data"]
        assert seen["counter"]["ticket"]["id"] == t["id"]
        assert seen["counter"]["ticket"]["status"] == "serving"
        assert seen["ticket"]["status"] == "serving" and seen["ticket"]["counter"] == "1"
    assert (await eng.site("demo"))["counters"][0]["ticket"] == t["id"]
