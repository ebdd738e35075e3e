"""Reviewed defects of the queue engine, against a real Redis: numbers held by two open
tickets after midnight, services removed under their tickets, idempotency keys shared by
every caller of a site."""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis

from queueing import keys
from queueing.demo import demo_site
from queueing.engine import Actor, Engine
from queueing.errors import CounterBusy, ServiceInUse
from queueing.model import Channel, SiteConfig, TicketRequest
from tests.integration.conftest import ADMIN, Clock, Server
from tests.integration.test_booking_support import KIOSK, booking_engine, sid
from tests.integration.test_booking_support import req as booking_req

AGENT1 = Actor("agent:demo:1", "counter")
AGENT4 = Actor("agent:demo:4", "counter")
EVENING = 1_795_448_940_000  # 23:49:00 Shanghai time
DAY_S = 86400


def req(service: str = "internal", **kw: Any) -> TicketRequest:
    return TicketRequest(service=service, channel=Channel.KIOSK, **kw)


async def number(engine: Engine, service: str = "internal",
                 actor: Actor = ADMIN) -> str:
    return str((await engine.issue("demo", req(service), actor)).ticket["number"])


async def recount(engine: Engine) -> dict[str, int]:
    """Open tickets by the service that numbered them, as the snapshot finds them (queues,
    counters, parked): what the store's index must say."""
    snap = await engine.snapshot("demo")
    return dict(Counter(t["origin_service"] for t in snap["tickets"].values()))


async def index(redis: Redis) -> dict[str, int]:
    raw = await redis.hgetall(keys.prefix("demo") + "num_open")  # type: ignore[misc]
    return {k.decode(): int(v) for k, v in raw.items() if int(v)}


async def assert_index_exact(engine: Engine, redis: Redis) -> None:
    assert await index(redis) == await recount(engine)


# -- A: a number is never held by two open tickets -----------------------------------------

async def test_numbers_go_on_past_midnight_while_earlier_tickets_are_open(
        demo: Engine, clock: Clock) -> None:
    # The reviewer's emergency department: two tickets at 23:49 still waiting at midnight.
    clock.now = EVENING
    assert [await number(demo), await number(demo)] == ["A001", "A002"]
    clock.advance(11 * 60)
    assert [await number(demo), await number(demo)] == ["A003", "A004"]
    # The day that began by going on keeps going on after the old tickets end.
    for _ in range(2):
        await demo.counter_op("demo", "1", "call-next", AGENT1)
        await demo.counter_op("demo", "1", "complete", AGENT1)
    assert await number(demo) == "A005"
    # Another service with nothing open restarts as usual.
    assert await number(demo, "lab") == "C001"


async def test_numbers_restart_when_nothing_is_left_from_an_earlier_day(
        demo: Engine, clock: Clock) -> None:
    clock.now = EVENING
    assert [await number(demo), await number(demo)] == ["A001", "A002"]
    await demo.counter_op("demo", "1", "call-next", AGENT1)
    await demo.counter_op("demo", "1", "complete", AGENT1)
    await demo.counter_op("demo", "1", "call-next", AGENT1)
    await demo.counter_op("demo", "1", "no-show", AGENT1)  # returns once: still open
    clock.advance(11 * 60)
    assert await number(demo) == "A003"
    clock.advance(DAY_S)
    # A002 and A003 still open: the third day goes on too; once they end, the next restarts.
    assert await number(demo) == "A004"
    for _ in range(3):
        await demo.counter_op("demo", "1", "call-next", AGENT1)
        await demo.counter_op("demo", "1", "complete", AGENT1)
    clock.advance(DAY_S)
    assert await number(demo) == "A001"


async def test_a_transferred_ticket_keeps_its_number_taken(demo: Engine, redis: Redis,
                                                           clock: Clock) -> None:
    clock.now = EVENING
    a = (await demo.issue("demo", req(), ADMIN)).ticket
    await demo.counter_op("demo", "1", "call-next", AGENT1)
    moved = await demo.counter_op("demo", "1", "transfer", AGENT1, service="lab")
    assert moved["number"] == "A001" and moved["status"] == "transferred"
    assert await index(redis) == {"internal": 1}
    clock.advance(11 * 60)
    # A001 waits in the lab: internal may not give A001 again; the lab's own numbers restart.
    assert await number(demo) == "A002"
    assert await number(demo, "lab") == "C001"
    await demo.cancel(a["id"], ADMIN)
    await assert_index_exact(demo, redis)


async def test_every_way_out_keeps_the_index_exact(demo: Engine, redis: Redis,
                                                   clock: Clock) -> None:
    cfg = demo_site()
    cfg.policy.no_show_return_after = 0  # a returned no-show is called again at once
    await demo.put_site("demo", cfg, ADMIN)
    ids = []
    for _ in range(6):
        ids.append((await demo.issue("demo", req(), ADMIN)).ticket["id"])
        clock.advance(1)  # each its own arrival time: a returned no-show goes back to its place
    lab = (await demo.issue("demo", req("lab"), ADMIN)).ticket["id"]
    await assert_index_exact(demo, redis)
    steps: list[tuple[str, str, dict[str, str]]] = [
        ("call-next", "1", {}), ("start", "1", {}), ("complete", "1", {"outcome": "ok"}),
        ("call-next", "1", {}), ("no-show", "1", {}),  # returned to its place: open
        ("call-next", "1", {}), ("no-show", "1", {}),  # the second time it ends
        ("call-next", "1", {}), ("park", "1", {}),
        ("call-next", "1", {}), ("transfer", "1", {"service": "lab"}),
        ("unpark", "1", {"ticket": ids[2]}),
        ("call", "4", {"ticket": ids[3]}), ("park", "4", {}),
    ]
    for op, counter, kw in steps:
        await demo.counter_op("demo", counter, op, AGENT1 if counter == "1" else AGENT4, **kw)
        await assert_index_exact(demo, redis)
    await demo.cancel(ids[3], ADMIN)  # parked
    await demo.cancel(ids[4], ADMIN)  # waiting
    called_lab = await demo.counter_op("demo", "4", "call-next", AGENT4)
    assert called_lab["id"] == lab
    await assert_index_exact(demo, redis)
    called = (await demo.site("demo"))["counters"][3]["ticket"]
    await demo.cancel(called, ADMIN)  # called
    await assert_index_exact(demo, redis)
    # Whatever is left is ended; the index says nothing is open.
    snap = await demo.snapshot("demo")
    for tid in snap["tickets"]:
        await demo.cancel(tid, ADMIN)
    assert await index(redis) == {} == await recount(demo)
    clock.advance(DAY_S)
    assert await number(demo) == "A001"


async def test_recall_limit_no_show_ends_and_counts(demo: Engine, redis: Redis) -> None:
    cfg = demo_site()
    cfg.policy.no_show_returns = False
    await demo.put_site("demo", cfg, ADMIN)
    await demo.issue("demo", req(), ADMIN)
    await demo.counter_op("demo", "1", "call-next", AGENT1)
    for _ in range(3):  # the third recall is the automatic no-show
        await demo.counter_op("demo", "1", "recall", AGENT1)
    assert await index(redis) == {} == await recount(demo)


async def test_data_from_before_the_index_is_indexed_on_first_use(demo: Engine, redis: Redis,
                                                                  clock: Clock) -> None:
    clock.now = EVENING
    for _ in range(4):
        await number(demo)
    await number(demo, "lab")
    await demo.counter_op("demo", "1", "call-next", AGENT1)
    await demo.counter_op("demo", "1", "park", AGENT1)
    await demo.counter_op("demo", "1", "call-next", AGENT1)
    p = keys.prefix("demo")

    async def forget() -> None:  # as a build without the index left the site
        await redis.delete(p + "num_open", p + "num_last")

    await forget()
    # The first change after the upgrade ends a ticket: built first, not counted below zero.
    await demo.counter_op("demo", "1", "complete", AGENT1)
    await assert_index_exact(demo, redis)
    await forget()
    clock.advance(11 * 60)
    # The first number of a day with open tickets goes on from the highest open one.
    assert await number(demo) == "A005"
    await assert_index_exact(demo, redis)


async def test_checked_in_tickets_are_counted(demo: Engine, redis: Redis,
                                              clock: Clock) -> None:
    bk = await booking_engine(demo)
    slot = sid("r1", 1, "10:00")
    b = (await bk.book("demo", booking_req(slot, "ann"), KIOSK)).booking
    clock.now = (await bk.schedule("demo")).slot(slot).start_ms - 600_000
    t = (await bk.check_in("demo", b["code"], "kiosk", KIOSK)).ticket
    assert t["number"] == "A001"
    await assert_index_exact(demo, redis)
    assert await index(redis) == {"internal": 1}


# -- B: a service with open tickets cannot be removed --------------------------------------

def without(service: str, *, drop: tuple[str, ...] = (),
            retarget: dict[str, list[str]] | None = None) -> SiteConfig:
    """The demo site without ``service``: counters in ``drop`` removed, those in
    ``retarget`` given other services."""
    cfg = demo_site()
    cfg.services = [s for s in cfg.services if s.id != service]
    counters = []
    for c in cfg.counters:
        if c.id in drop:
            continue
        if retarget and c.id in retarget:
            c.services, c.weights = retarget[c.id], {}
        counters.append(c)
    cfg.counters = counters
    return cfg


async def unchanged(engine: Engine, redis: Redis, before: tuple[Any, int]) -> None:
    assert (await engine.config("demo"), await redis.xlen(keys.events("demo"))) == before


async def state(engine: Engine, redis: Redis) -> tuple[Any, int]:
    return await engine.config("demo"), await redis.xlen(keys.events("demo"))


async def test_a_service_with_a_parked_ticket_cannot_be_removed(demo: Engine,
                                                                redis: Redis) -> None:
    t = (await demo.issue("demo", req("lab"), ADMIN)).ticket
    await demo.counter_op("demo", "4", "call-next", AGENT4)
    await demo.counter_op("demo", "4", "park", AGENT4)
    before = await state(demo, redis)
    with pytest.raises(ServiceInUse):
        await demo.put_site("demo", without("lab", drop=("4",)), ADMIN)
    await unchanged(demo, redis, before)
    await demo.cancel(t["id"], ADMIN)
    await demo.put_site("demo", without("lab", drop=("4",)), ADMIN)
    assert (await demo.config("demo")).service("lab") is None


async def test_a_service_with_a_called_ticket_cannot_be_removed(demo: Engine,
                                                                redis: Redis) -> None:
    await demo.issue("demo", req("lab"), ADMIN)
    await demo.counter_op("demo", "4", "call-next", AGENT4)
    before = await state(demo, redis)
    # Counter 4 stays (so it is not refused as busy), serving the pharmacy from now on.
    with pytest.raises(ServiceInUse):
        await demo.put_site("demo", without("lab", retarget={"4": ["pharmacy"]}), ADMIN)
    await unchanged(demo, redis, before)


async def test_a_service_served_at_another_counter_cannot_be_removed(demo: Engine,
                                                                     redis: Redis) -> None:
    t = (await demo.issue("demo", req("lab"), ADMIN)).ticket
    await demo.counter_op("demo", "1", "call", AGENT1, ticket=t["id"])
    await demo.counter_op("demo", "1", "start", AGENT1)
    before = await state(demo, redis)
    with pytest.raises(ServiceInUse):
        await demo.put_site("demo", without("lab", drop=("4",)), ADMIN)
    await unchanged(demo, redis, before)
    await demo.counter_op("demo", "1", "complete", AGENT1)
    await demo.put_site("demo", without("lab", drop=("4",)), ADMIN)


async def test_a_counter_with_a_ticket_cannot_be_removed(demo: Engine, redis: Redis) -> None:
    await demo.issue("demo", req("lab"), ADMIN)
    await demo.counter_op("demo", "4", "call-next", AGENT4)
    cfg = demo_site()
    cfg.counters = [c for c in cfg.counters if c.id != "4"]
    before = await state(demo, redis)
    with pytest.raises(CounterBusy):
        await demo.put_site("demo", cfg, ADMIN)
    await unchanged(demo, redis, before)


async def test_a_service_whose_numbers_moved_elsewhere_may_go(demo: Engine, redis: Redis,
                                                              clock: Clock) -> None:
    # A lab-numbered ticket transferred to internal belongs to internal now: the lab may
    # go, and if it comes back its numbers go on past the one still open.
    clock.now = EVENING
    await demo.issue("demo", req("lab"), ADMIN)
    await demo.counter_op("demo", "4", "call-next", AGENT4)
    await demo.counter_op("demo", "4", "transfer", AGENT4, service="internal")
    await demo.put_site("demo", without("lab", drop=("4",)), ADMIN)
    clock.advance(DAY_S)
    await demo.put_site("demo", demo_site(), ADMIN)
    assert await number(demo, "lab") == "C002"


async def test_http_refuses_removing_a_service_with_a_parked_ticket(server: Server) -> None:
    admin = server.auth("admin")
    c = server.client
    r = await c.post("/v1/sites/demo/tickets", json={"service": "lab", "channel": "kiosk"},
                     headers=admin)
    assert r.status_code == 201, r.text
    for op in ("call-next", "park"):
        r = await c.post(f"/v1/sites/demo/counters/4/{op}", headers=admin)
        assert r.status_code == 200, r.text
    r = await c.put("/v1/sites/demo", content=msgspec.json.encode(without("lab", drop=("4",))),
                    headers=admin)
    assert r.status_code == 409 and r.json()["code"] == "service_in_use", r.text
    site = (await c.get("/v1/sites/demo", headers=admin)).json()
    assert "lab" in [s["id"] for s in site["services"]]


# -- C: an idempotency key belongs to its caller -------------------------------------------

async def test_the_same_key_from_two_callers_makes_two_tickets(demo: Engine) -> None:
    a, b = Actor("kiosk-a", "kiosk"), Actor("kiosk-b", "kiosk")
    first = await demo.issue("demo", req(), a, "idem-1")
    other = await demo.issue("demo", req(), b, "idem-1")
    agent = await demo.issue("demo", req(), Actor("agent:demo:2", "kiosk"), "idem-1")
    assert not (first.replay or other.replay or agent.replay)
    assert len({first.ticket["id"], other.ticket["id"], agent.ticket["id"]}) == 3
    again = await demo.issue("demo", req(), a, "idem-1")
    assert again.replay and again.ticket["id"] == first.ticket["id"]
    assert (await demo.issue("demo", req(), b, "idem-1")).ticket["id"] == other.ticket["id"]


async def test_caller_and_key_cannot_run_into_each_other(demo: Engine) -> None:
    one = await demo.issue("demo", req(), Actor("a:b", "kiosk"), "c")
    two = await demo.issue("demo", req(), Actor("a", "kiosk"), "b:c")
    assert not two.replay and two.ticket["id"] != one.ticket["id"]


async def test_http_kiosks_do_not_share_idempotency_keys(server: Server) -> None:
    c = server.client
    body = {"service": "internal", "channel": "kiosk"}
    key = {"Idempotency-Key": "idem-1"}
    kiosk_a = server.auth("kiosk", site="demo", subject="kiosk-a") | key
    kiosk_b = server.auth("kiosk", site="demo", subject="kiosk-b") | key
    agent = server.auth("agent", site="demo", counter="2") | key
    tickets = []
    for headers in (kiosk_a, kiosk_b, agent):
        r = await c.post("/v1/sites/demo/tickets", json=body, headers=headers)
        assert r.status_code == 201 and "idempotent-replayed" not in r.headers, r.text
        tickets.append(r.json()["id"])
    assert len(set(tickets)) == 3
    r = await c.post("/v1/sites/demo/tickets", json=body, headers=kiosk_a)
    assert r.headers.get("idempotent-replayed") == "true" and r.json()["id"] == tickets[0]
