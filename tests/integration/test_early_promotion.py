"""An early check-in waits as a walk-in until ``appointment − appointment_early_s``, then
takes its appointment's place (promote.lua, the worker's ``promote`` job every 15 s): ahead
of the walk-ins its class outranks, as an on-time check-in at that moment would be, never
further back than it stood; a called or cancelled ticket is not promoted; a repeated
promotion does nothing; the holder's live topic follows."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
import websockets
from redis.asyncio import Redis

from queueing import keys
from queueing.booking.engine import BookingEngine
from queueing.booking.tasks import CTX_KEY
from queueing.engine import Actor, Engine
from queueing.model import Channel, TicketRequest
from queueing.view import SiteView
from realtime.redisproc import EmbeddedRedis
from realtime.worker import CRON_JOBS, promote
from tests.integration.conftest import Clock, Server
from tests.integration.replay import check_replay, read_events
from tests.integration.test_booking_support import KIOSK, booking_engine, req, sid
from tests.integration.test_booking_worker import until, worker
from tests.integration.test_protocol_conformance import JSON, ask, recv, ws_url

AGENT = Actor("agent:demo:1", "counter")
MIN = 60_000
PENDING = keys.prefix("demo") + "promote"


@pytest.fixture
async def bk(demo: Engine) -> BookingEngine:
    return await booking_engine(demo)  # appointment_early_s: the default, 600 s


async def _walk_in(engine: Engine) -> dict[str, Any]:
    return (await engine.issue("demo", TicketRequest(service="internal", channel=Channel.KIOSK),
                               KIOSK)).ticket


async def _positions(engine: Engine, *tickets: dict[str, Any]) -> list[int | None]:
    return [(await engine.ticket(t["id"]))["position"] for t in tickets]


async def _start(bk: BookingEngine, booking: dict[str, Any]) -> int:
    return (await bk.schedule("demo")).slot(booking["slot"]).start_ms


async def test_an_early_check_in_takes_its_appointment_place_at_its_time(
        bk: BookingEngine, demo: Engine, redis: Redis, clock: Clock) -> None:
    ten = (await bk.book("demo", req(sid("r1", 1, "10:00"), "ann"), KIOSK)).booking
    ten2 = (await bk.book("demo", req(sid("r2", 1, "10:00"), "bo"), KIOSK)).booking
    start = await _start(bk, ten)
    clock.now = start - 56 * MIN  # 09:04
    w1 = await _walk_in(demo)
    clock.advance(60)  # 09:05: 55 min early, a walk-in until 09:50
    early = (await bk.check_in("demo", ten["code"], "kiosk", KIOSK)).ticket
    assert early["priority"] == "walk_in" and early["position"] == 2
    assert early["promote_at"] == "2026-11-19T09:50:00+08:00"
    clock.now = start - 20 * MIN  # 09:40
    w2 = await _walk_in(demo)
    assert await _positions(demo, w1, early, w2) == [1, 2, 3]
    ctx = {CTX_KEY: SimpleNamespace(booking=SimpleNamespace(engine=demo))}
    assert any(job.coroutine is promote for job in CRON_JOBS)
    clock.now = start - 10 * MIN - 1  # a millisecond before its time: nothing yet
    assert await promote(ctx) == 0
    clock.now = start - 10 * MIN  # 09:50
    n = await redis.xlen(keys.events("demo"))
    assert await promote(ctx) == 1
    # Ahead of w1 (a walk-in: the appointment class outranks it and w1's budget allows one
    # pass), w2 still behind it: the place an on-time check-in at 09:50 would get.
    assert await _positions(demo, early, w1, w2) == [1, 2, 3]
    got = await demo.ticket(early["id"])
    assert got["priority"] == "appointment" and "promote_at" not in got
    assert got["appointment_at"] == "2026-11-19T10:00:00+08:00"
    assert await redis.zscore(PENDING, early["id"]) is None
    # Retried (the worker's next run, a second worker): nothing moves, no event.
    assert await promote(ctx) == 0 and await demo.promote_due("demo") == []
    assert await redis.xlen(keys.events("demo")) == n + 1
    # An on-time check-in at 09:50 for the same 10:00 is placed by the same rule: behind it
    # (its equal) and behind w1, whose one pass the promotion spent; ahead of w2.
    on_time = (await bk.check_in("demo", ten2["code"], "kiosk", KIOSK)).ticket
    assert on_time["priority"] == "appointment" and on_time["position"] == 3
    assert await _positions(demo, early, w1, on_time, w2) == [1, 2, 3, 4]
    # The stream replays through the Python policy to the same places, and a hub's view fed
    # the events agrees with Redis (budgets too).
    cfg = await demo.config("demo")
    events = await read_events(redis, "demo")
    assert [ev["_type"] for _, ev in events].count("promoted") == 1
    queues = check_replay(cfg, events, cfg.policy.aging_factor)
    assert queues["internal"].ids() == [early["id"], w1["id"], on_time["id"], w2["id"]]
    fresh = SiteView.from_snapshot("demo", await demo.snapshot("demo"))
    assert {e.id: e.budget for e in queues["internal"].entries} == {
        tid: fresh.budgets[tid] for tid in fresh.queues["internal"]}


async def test_a_call_before_the_worker_runs_gives_the_due_promotion_first(
        bk: BookingEngine, demo: Engine, redis: Redis, clock: Clock) -> None:
    # 09:50:05: the early check-in is due its appointment's place, the worker's promote job
    # (every 15 s) has not run. The call promotes it first, then calls it; before, the
    # walk-in ahead of it was called in those seconds.
    ten = (await bk.book("demo", req(sid("r1", 1, "10:00"), "ann"), KIOSK)).booking
    start = await _start(bk, ten)
    clock.now = start - 56 * MIN
    w1 = await _walk_in(demo)
    clock.advance(60)
    early = (await bk.check_in("demo", ten["code"], "kiosk", KIOSK)).ticket
    assert early["priority"] == "walk_in" and early["position"] == 2
    clock.now = start - 10 * MIN + 5_000
    assert await redis.zscore(PENDING, early["id"]) is not None
    got = await demo.counter_op("demo", "1", "call-next", AGENT)
    assert got["id"] == early["id"] and got["priority"] == "appointment"
    assert await redis.zscore(PENDING, early["id"]) is None
    assert await demo.promote_due("demo") == []  # the worker's next run: nothing twice
    assert await _positions(demo, w1) == [1]
    events = await read_events(redis, "demo")
    promoted, called = events[-2][1], events[-1][1]
    assert (promoted["_type"], called["_type"]) == ("promoted", "called")
    # The promotion is the promoter's, as the worker's job records it; the call the clerk's.
    assert (promoted["_actor"], promoted["_via"]) == ("promote", "worker")
    assert (called["_actor"], called["_via"]) == (AGENT.subject, AGENT.via)
    cfg = await demo.config("demo")
    check_replay(cfg, events, cfg.policy.aging_factor)
    fresh = SiteView.from_snapshot("demo", await demo.snapshot("demo"))
    assert fresh.queues["internal"] == [w1["id"]]


async def test_a_called_or_cancelled_early_ticket_is_not_promoted(
        bk: BookingEngine, demo: Engine, redis: Redis, clock: Clock) -> None:
    ten = (await bk.book("demo", req(sid("r1", 1, "10:00"), "ann"), KIOSK)).booking
    ten2 = (await bk.book("demo", req(sid("r2", 1, "10:00"), "bo"), KIOSK)).booking
    start = await _start(bk, ten)
    clock.now = start - 40 * MIN
    called = (await bk.check_in("demo", ten["code"], "kiosk", KIOSK)).ticket
    cancelled = (await bk.check_in("demo", ten2["code"], "kiosk", KIOSK)).ticket
    assert await redis.zcard(PENDING) == 2
    got = await demo.counter_op("demo", "1", "call-next", AGENT)
    assert got["id"] == called["id"]
    assert await redis.zscore(PENDING, called["id"]) is None  # the call took it out
    # A no-show returned to the queue is waiting again, still as the walk-in it was.
    await demo.counter_op("demo", "1", "no-show", AGENT)
    assert (await demo.ticket(called["id"]))["status"] == "waiting"
    await demo.cancel(cancelled["id"], AGENT)
    clock.now = start - 10 * MIN
    n = await redis.xlen(keys.events("demo"))
    assert await demo.promote_due("demo") == []
    assert await redis.xlen(keys.events("demo")) == n and await redis.zcard(PENDING) == 0
    t = await demo.ticket(called["id"])
    assert t["priority"] == "walk_in" and "promote_at" not in t


@pytest.mark.slow
async def test_the_worker_promotes_and_the_holder_topic_moves(
        server: Server, redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """The real worker (``switchboard worker``) and hub, the wall clock. The early check-in's
    record is written as check-in writes it (the check-in itself: the tests above)."""
    admin = server.auth("admin")
    made = []
    for _ in range(3):
        r = await server.client.post("/v1/sites/demo/tickets", headers=admin,
                                     json={"service": "internal", "channel": "kiosk"})
        assert r.status_code == 201
        made.append(r.json())
    a, _b, c = made
    now = int(time.time() * 1000)
    await redis.hset(keys.ticket("demo", c["id"]), mapping={  # type: ignore[misc]
        "appointment_ms": now + 10 * MIN, "promote_at_ms": now, "promote_to": "appointment"})
    await redis.zadd(PENDING, {c["id"]: now})
    async with websockets.connect(ws_url(server, c["token"]), subprotocols=[JSON]) as wc, \
            websockets.connect(ws_url(server, a["token"]), subprotocols=[JSON]) as wa:
        snap = await ask(wc, {"op": "subscribe", "topic": f"ticket:{c['id']}", "id": 1})
        assert snap["data"]["position"] == 3
        assert (await ask(wa, {"op": "subscribe", "topic": f"ticket:{a['id']}",
                               "id": 1}))["data"]["position"] == 1
        with worker(redis_server.url, "http://127.0.0.1:9/hook", tmp_path / "worker.log"):
            async def promoted() -> bool:
                return await redis.zcard(PENDING) == 0

            await until(promoted, 30, "the promotion")
            while (m := await recv(wc, 20))["type"] != "promoted":
                pass
            # Past both walk-ins ahead (their budgets allow one pass each).
            assert m["data"]["position"] == 1 and m["data"]["priority"] == "appointment"
            while (m := await recv(wa, 10))["type"] != "position":
                pass
            assert m["data"]["position"] == 2
    rows = await redis.xrange(keys.events("demo"))
    assert [f[b"t"] for _, f in rows].count(b"promoted") == 1
    ev = msgspec.json.decode(next(f for _, f in rows if f[b"t"] == b"promoted")[b"d"])
    assert (ev["from_index"], ev["index"], ev["from_priority"]) == (2, 0, "walk_in")
