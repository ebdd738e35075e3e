"""The queue engine against a real Redis: every operation, its event, and its errors."""

from __future__ import annotations

import random

import pytest
from redis.asyncio import Redis

from queueing import keys
from queueing.demo import demo_site
from queueing.engine import Actor, Engine
from queueing.errors import (
    CounterBusy,
    CounterIdle,
    CounterNotOpen,
    IdempotencyMismatch,
    InvalidTransition,
    QueueEmpty,
    RecallLimit,
    UnknownPriority,
    UnknownService,
    UnknownTicket,
)
from queueing.model import Channel, TicketRequest
from tests.integration.conftest import ADMIN, Clock
from tests.integration.replay import check_replay, read_events

AGENT = Actor("agent:demo:1", "counter")


def req(service: str = "internal", priority: str | None = None, **kw: object) -> TicketRequest:
    return TicketRequest(service=service, channel=Channel.KIOSK, priority=priority,
                         **kw)  # type: ignore[arg-type]


async def n_events(redis: Redis) -> int:
    return int(await redis.xlen(keys.events("demo")))


async def test_issue_numbers_positions_and_event(demo: Engine, redis: Redis) -> None:
    before = await n_events(redis)
    a = (await demo.issue("demo", req(), ADMIN)).ticket
    b = (await demo.issue("demo", req(), ADMIN)).ticket
    c = (await demo.issue("demo", req("lab"), ADMIN)).ticket
    assert (a["number"], b["number"], c["number"]) == ("A001", "A002", "C001")
    assert (a["position"], b["position"], c["position"]) == (1, 2, 1)
    assert a["status"] == "waiting" and a["id"].startswith("demo.")
    events = (await read_events(redis, "demo"))[before:]
    assert [e["_type"] for _, e in events] == ["issued"] * 3
    assert events[0][1]["_actor"] == ADMIN.subject and events[0][1]["_via"] == ADMIN.via


async def test_numbers_reset_at_local_midnight(demo: Engine, clock: Clock) -> None:
    # Put the clock at 23:59:30 Shanghai time, then cross midnight: the numbers go on while
    # a ticket of an earlier day is open (no number is held twice), and restart otherwise.
    clock.now = 1_795_449_570_000
    assert (await demo.issue("demo", req(), ADMIN)).ticket["number"] == "A001"
    assert (await demo.issue("demo", req(), ADMIN)).ticket["number"] == "A002"
    clock.advance(60)
    assert (await demo.issue("demo", req(), ADMIN)).ticket["number"] == "A003"
    for _ in range(3):
        await demo.counter_op("demo", "1", "call-next", AGENT)
        await demo.counter_op("demo", "1", "complete", AGENT)
    clock.advance(86400)
    assert (await demo.issue("demo", req(), ADMIN)).ticket["number"] == "A001"


async def test_idempotent_retry_returns_first_ticket(demo: Engine, redis: Redis) -> None:
    first = await demo.issue("demo", req(customer="c-1"), ADMIN, "key-1")
    again = await demo.issue("demo", req(customer="c-1"), ADMIN, "key-1")
    assert not first.replay and again.replay
    assert again.ticket["id"] == first.ticket["id"]
    events = await n_events(redis)
    with pytest.raises(IdempotencyMismatch):
        await demo.issue("demo", req("lab"), ADMIN, "key-1")
    assert await n_events(redis) == events


async def test_unknown_inputs_change_nothing(demo: Engine, redis: Redis) -> None:
    events = await n_events(redis)
    with pytest.raises(UnknownService):
        await demo.issue("demo", req("ghost"), ADMIN)
    with pytest.raises(UnknownPriority):
        await demo.issue("demo", req(priority="vip"), ADMIN)
    with pytest.raises(UnknownTicket):
        await demo.ticket("demo.nothing")
    with pytest.raises(QueueEmpty):
        await demo.counter_op("demo", "1", "call-next", AGENT)
    assert await n_events(redis) == events
    # The number counter did not move either: the next ticket is still A001.
    assert (await demo.issue("demo", req(), ADMIN)).ticket["number"] == "A001"


async def test_full_lifecycle(demo: Engine, redis: Redis) -> None:
    t = (await demo.issue("demo", req(), ADMIN)).ticket
    called = await demo.counter_op("demo", "1", "call-next", AGENT)
    assert called["id"] == t["id"] and called["status"] == "called" and called["counter"] == "1"
    with pytest.raises(CounterBusy):
        await demo.counter_op("demo", "1", "call-next", AGENT)
    assert (await demo.counter_op("demo", "1", "recall", AGENT))["calls"] == 2
    assert (await demo.counter_op("demo", "1", "start", AGENT))["status"] == "serving"
    done = await demo.counter_op("demo", "1", "complete", AGENT, outcome="ok")
    assert done["status"] == "done" and done["outcome"] == "ok"
    with pytest.raises(CounterIdle):
        await demo.counter_op("demo", "1", "complete", AGENT)
    kinds = [e["_type"] for _, e in await read_events(redis, "demo")]
    assert kinds[-5:] == ["issued", "called", "recalled", "started", "completed"]


async def test_complete_never_called_and_closed_counter(demo: Engine) -> None:
    t = (await demo.issue("demo", req(), ADMIN)).ticket
    with pytest.raises(CounterIdle):
        await demo.counter_op("demo", "1", "complete", AGENT)
    await demo.counter_op("demo", "1", "close", AGENT)
    with pytest.raises(CounterNotOpen):
        await demo.counter_op("demo", "1", "call-next", AGENT)
    await demo.counter_op("demo", "1", "open", AGENT)
    await demo.counter_op("demo", "1", "pause", AGENT)
    with pytest.raises(CounterNotOpen):
        await demo.counter_op("demo", "1", "call", AGENT, ticket=t["id"])
    assert (await demo.ticket(t["id"]))["status"] == "waiting"


async def test_recall_limit_then_automatic_no_show_returns_once(demo: Engine,
                                                                clock: Clock) -> None:
    t = (await demo.issue("demo", req(), ADMIN)).ticket
    clock.advance(1)
    other = (await demo.issue("demo", req(), ADMIN)).ticket
    await demo.counter_op("demo", "1", "call-next", AGENT)
    await demo.counter_op("demo", "1", "recall", AGENT)
    await demo.counter_op("demo", "1", "recall", AGENT)  # 3 calls now (default limit)
    back = await demo.counter_op("demo", "1", "recall", AGENT)
    # Returned once, no_show_return_after (2) places back: behind the one waiting.
    assert back["status"] == "waiting" and back["position"] == 2
    assert (await demo.ticket(other["id"]))["position"] == 1
    assert (await demo.counter_op("demo", "1", "call-next", AGENT))["id"] == other["id"]
    await demo.counter_op("demo", "1", "complete", AGENT)
    again = await demo.counter_op("demo", "1", "call-next", AGENT)
    assert again["id"] == t["id"]
    gone = await demo.counter_op("demo", "1", "no-show", AGENT)
    assert gone["status"] == "no_show"  # the second time it does not come back


async def test_recall_limit_error(engine: Engine) -> None:
    cfg = demo_site()
    cfg.policy.recall_max = 1
    cfg.policy.no_show_after_calls = 5
    await engine.put_site("demo", cfg, ADMIN)
    await engine.counter_op("demo", "1", "open", AGENT)
    await engine.issue("demo", req(), ADMIN)
    await engine.counter_op("demo", "1", "call-next", AGENT)
    await engine.counter_op("demo", "1", "recall", AGENT)
    with pytest.raises(RecallLimit):
        await engine.counter_op("demo", "1", "recall", AGENT)


async def test_park_unpark_transfer_cancel(demo: Engine, clock: Clock) -> None:
    first = (await demo.issue("demo", req(), ADMIN)).ticket
    clock.advance(60)
    await demo.issue("demo", req("lab"), ADMIN)
    await demo.counter_op("demo", "1", "call-next", AGENT)
    parked = await demo.counter_op("demo", "1", "park", AGENT)
    assert parked["status"] == "parked"
    back = await demo.counter_op("demo", "1", "unpark", AGENT, ticket=first["id"])
    assert back["status"] == "waiting" and back["position"] == 1
    await demo.counter_op("demo", "1", "call-next", AGENT)
    moved = await demo.counter_op("demo", "1", "transfer", AGENT, service="lab")
    # Keeps its original arrival time: it goes ahead of the lab ticket that came later.
    assert moved["status"] == "transferred" and moved["service"] == "lab"
    assert moved["position"] == 1 and moved["transferred_from"] == "internal"
    with pytest.raises(CounterIdle):
        await demo.counter_op("demo", "1", "start", AGENT)  # counter is free now
    cancelled = await demo.cancel(first["id"], Actor("ticket", "app"))
    assert cancelled["status"] == "cancelled"
    with pytest.raises(InvalidTransition):
        await demo.cancel(first["id"], Actor("ticket", "app"))


async def test_cancel_called_ticket_frees_counter(demo: Engine) -> None:
    t = (await demo.issue("demo", req(), ADMIN)).ticket
    await demo.counter_op("demo", "1", "call-next", AGENT)
    await demo.cancel(t["id"], ADMIN)
    site = await demo.site("demo")
    assert site["counters"][0]["ticket"] is None


async def test_cannot_cancel_served_ticket(demo: Engine) -> None:
    t = (await demo.issue("demo", req(), ADMIN)).ticket
    await demo.counter_op("demo", "1", "call-next", AGENT)
    await demo.counter_op("demo", "1", "start", AGENT)
    with pytest.raises(InvalidTransition):
        await demo.cancel(t["id"], ADMIN)
    assert (await demo.ticket(t["id"]))["status"] == "serving"


async def test_counter_with_two_services_uses_weights(demo: Engine, clock: Clock) -> None:
    # Counter 2 serves internal (weight 2) and paediatrics (weight 1).
    p = (await demo.issue("demo", req("paediatrics"), ADMIN)).ticket
    clock.advance(30)
    i = (await demo.issue("demo", req("internal"), ADMIN)).ticket
    clock.advance(30)  # paediatrics waited 60 s (x1), internal 30 s (x2): a tie on weighted wait
    agent2 = Actor("agent:demo:2", "counter")
    assert (await demo.counter_op("demo", "2", "call-next", agent2))["id"] == p["id"]
    await demo.counter_op("demo", "2", "complete", agent2)
    assert (await demo.counter_op("demo", "2", "call-next", agent2))["id"] == i["id"]


async def test_lua_order_matches_pure_policy(demo: Engine, redis: Redis, clock: Clock) -> None:
    rng = random.Random(7)
    classes = ["emergency", "priority", "appointment", "revisit", "walk_in"]
    weights = [0.02, 0.15, 0.1, 0.1, 0.63]
    agents = {c: Actor(f"agent:demo:{c}", "counter") for c in "123456"}
    busy: set[str] = set()
    for _ in range(400):
        clock.advance(rng.uniform(1, 20))
        roll = rng.random()
        if roll < 0.5:
            svc = rng.choice(["internal", "paediatrics", "lab", "pharmacy", "cashier"])
            await demo.issue("demo", req(svc, rng.choices(classes, weights)[0]), ADMIN)
        elif roll < 0.85:
            c = rng.choice("123456")
            if c in busy:
                await demo.counter_op("demo", c, "complete", agents[c])
                busy.discard(c)
            else:
                try:
                    await demo.counter_op("demo", c, "call-next", agents[c])
                    busy.add(c)
                except QueueEmpty:
                    pass
        elif roll < 0.92:
            # Reception moves a waiting ticket by id (keeps its class and arrival).
            svc = rng.choice(["internal", "lab", "pharmacy"])
            waiting = (await demo.queue("demo", svc))["tickets"]
            if waiting:
                t = rng.choice(waiting)
                to = rng.choice([s for s in ("internal", "lab", "pharmacy") if s != svc])
                await demo.transfer(t["id"], to, ADMIN)
        else:
            c = rng.choice(sorted(busy) or ["1"])
            if c in busy:
                op = rng.choice(["no-show", "park", "transfer"])
                target = "pharmacy" if c == "4" else "lab"
                await demo.counter_op("demo", c, op, agents[c],
                                      service=target if op == "transfer" else None)
                busy.discard(c)
    queues = check_replay(demo_site(), await read_events(redis, "demo"), 2.0)
    for sid, q in queues.items():
        listed = await demo.queue("demo", sid)
        assert [t["id"] for t in listed["tickets"]] == q.ids()


async def test_live_view_tracks_order_and_budgets_like_redis(demo: Engine, redis: Redis,
                                                             clock: Clock) -> None:
    """A hub's SiteView, built from a snapshot and fed the events, equals Redis's state."""
    from queueing.view import SiteView
    view = SiteView.from_snapshot("demo", await demo.snapshot("demo"))
    start = (await demo.snapshot("demo"))["offset"]
    rng = random.Random(11)
    for _ in range(150):
        clock.advance(rng.uniform(1, 30))
        if rng.random() < 0.6:
            prio = rng.choices(["emergency", "priority", "walk_in"], [0.03, 0.3, 0.67])[0]
            await demo.issue("demo", req(rng.choice(["internal", "lab"]), prio), ADMIN)
        elif rng.random() < 0.8:
            c = rng.choice(["1", "4"])
            try:
                await demo.counter_op("demo", c, "call-next", AGENT)
                await demo.counter_op("demo", c, "complete", AGENT)
            except QueueEmpty:
                pass
        else:  # a waiting ticket moved to the other queue by id
            svc = rng.choice(["internal", "lab"])
            waiting = (await demo.queue("demo", svc))["tickets"]
            if waiting:
                other = "lab" if svc == "internal" else "internal"
                await demo.transfer(rng.choice(waiting)["id"], other, ADMIN)
    rows = await redis.xrange(keys.events("demo"), "(" + start, "+")
    from realtime.hub.entry import decode_entry
    for eid, fields in rows:
        e = decode_entry(eid, fields)
        view.apply(e.type, e.data)
    snap = SiteView.from_snapshot("demo", await demo.snapshot("demo"))
    assert view.queues == snap.queues
    assert view.budgets == snap.budgets and snap.budgets


async def test_view_knows_parked_tickets_from_snapshot_and_events(demo: Engine, redis: Redis,
                                                                  clock: Clock) -> None:
    """Counter consoles list parked tickets from the hub's view: after a hub restart (a view
    from the snapshot) as after the events themselves."""
    from queueing.view import SiteView
    from realtime.hub.entry import decode_entry
    view = SiteView.from_snapshot("demo", await demo.snapshot("demo"))
    start = (await demo.snapshot("demo"))["offset"]
    ids = [(await demo.issue("demo", req(), ADMIN)).ticket["id"] for _ in range(3)]
    for _ in ids:
        clock.advance(30)
        await demo.counter_op("demo", "1", "call-next", AGENT)
        await demo.counter_op("demo", "1", "park", AGENT)
    await demo.counter_op("demo", "1", "unpark", AGENT, ticket=ids[1])
    for eid, fields in await redis.xrange(keys.events("demo"), "(" + start, "+"):
        e = decode_entry(eid, fields)
        view.apply(e.type, e.data)
    fresh = SiteView.from_snapshot("demo", await demo.snapshot("demo"))
    assert list(view.parked) == [ids[0], ids[2]]
    assert list(fresh.parked) == [ids[0], ids[2]]
