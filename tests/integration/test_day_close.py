"""The end of the working day: tickets still open from before ``policy.day_close`` are
closed (cancelled, reason ``day_closed``) once per local date, so the next morning's queue
does not start with yesterday's and numbering restarts; by hand with ``close-day``."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec
from redis.asyncio import Redis

from queueing import keys
from queueing.dayclose import close_due, last_cutoff
from queueing.daylog import record_for
from queueing.demo import demo_site
from queueing.engine import Actor, Engine
from queueing.model import Channel, TicketRequest
from realtime.stats import summarise
from tests.integration.conftest import ADMIN, Clock, Server

SH = ZoneInfo("Asia/Shanghai")
WORKER = Actor("day_close", "worker")


def _ms(*args: int, tz: ZoneInfo = SH) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp() * 1000)  # type: ignore[misc]


def test_last_cutoff_is_the_latest_day_close_at_or_before_now() -> None:
    assert last_cutoff("03:00", "Asia/Shanghai", _ms(2026, 11, 19, 3, 0)) == (
        "2026-11-19", _ms(2026, 11, 19, 3, 0))
    assert last_cutoff("03:00", "Asia/Shanghai", _ms(2026, 11, 19, 2, 59)) == (
        "2026-11-18", _ms(2026, 11, 18, 3, 0))
    ny = ZoneInfo("America/New_York")
    # 02:30 does not exist on 2026-03-08 (02:00 EST -> 03:00 EDT): it falls at 03:30 EDT.
    day, cut = last_cutoff("02:30", "America/New_York", _ms(2026, 3, 8, 12, 0, tz=ny))
    assert day == "2026-03-08" and cut == _ms(2026, 3, 8, 7, 30, tz=ZoneInfo("UTC"))


async def _issue(engine: Engine, service: str) -> dict:  # type: ignore[type-arg]
    return (await engine.issue("demo", TicketRequest(service=service, channel=Channel.KIOSK),
                               ADMIN)).ticket


async def test_the_day_closes_once_at_day_close(demo: Engine, redis: Redis,
                                                clock: Clock) -> None:
    cfg = demo_site()
    cfg.policy.day_close = "03:00"
    await demo.put_site("demo", cfg, ADMIN)
    serving = await _issue(demo, "internal")
    await demo.counter_op("demo", "1", "call-next", ADMIN)
    await demo.counter_op("demo", "1", "start", ADMIN)
    waiting = await _issue(demo, "internal")
    called = await _issue(demo, "lab")
    await demo.counter_op("demo", "4", "call-next", ADMIN)
    parked = await _issue(demo, "pharmacy")
    await demo.counter_op("demo", "5", "call-next", ADMIN)
    await demo.counter_op("demo", "5", "park", ADMIN)
    # Nothing before 03:00 the next morning (the clock starts at 19:06 Shanghai time)...
    clock.now = _ms(2026, 11, 19, 2, 59)
    before = await close_due(demo, "demo", clock.now, WORKER)  # the 18th's close: all after
    assert before is not None and before["day"] == "2026-11-18" and before["closed"] == []
    clock.now = _ms(2026, 11, 19, 3, 0, 30)
    early = await _issue(demo, "internal")  # ...an early bird after the cutoff stays.
    r = await close_due(demo, "demo", clock.now, WORKER)
    assert r is not None and r["day"] == "2026-11-19"
    assert {(c["id"], c["from"]) for c in r["closed"]} == {
        (waiting["id"], "waiting"), (called["id"], "called"), (parked["id"], "parked")}
    assert [k["id"] for k in r["kept"]] == [serving["id"]]  # being served: the agent's
    for t in (waiting, called, parked):
        assert (await demo.ticket(t["id"]))["status"] == "cancelled"
    assert (await demo.ticket(early["id"]))["status"] == "waiting"
    assert (await demo.site("demo"))["counters"][3]["ticket"] is None  # counter 4 is free
    # Once per local date.
    assert await close_due(demo, "demo", clock.now + 3600_000, WORKER) is None
    # The events say why; the day log counts them as closed, not as people who left.
    rows = await redis.xrange(keys.events("demo"))
    closed = [msgspec.json.decode(f[b"d"]) for _, f in rows if f[b"t"] == b"cancelled"]
    assert {d["reason"] for d in closed} == {"day_closed"} and len(closed) == 3
    recs = [record_for("cancelled", d, "1-0", "Asia/Shanghai") for d in closed]
    day = recs[0][0] if recs[0] else ""
    ops = summarise([r for _, r in filter(None, recs)], day)["services"]
    assert ops["internal"]["operations"]["closed_unserved"] == 1
    assert ops["internal"]["operations"]["abandon_rate"] is None
    # The lab's sequence restarts (nothing of an earlier day open); internal's goes on while
    # yesterday's patient is still being served.
    assert (await _issue(demo, "lab"))["number"] == "C001"
    assert (await _issue(demo, "internal"))["number"] == "A004"


async def test_a_day_close_moved_later_on_a_closed_day_closes_again(demo: Engine,
                                                                     clock: Clock) -> None:
    """A reviewer set day_close to 08:39 (13 tickets closed), issued one at 08:39, then set
    08:41: the worker closed nothing at 08:41 (the date was marked closed) and the ticket
    stayed open overnight. Moved earlier, nothing closes twice."""
    cfg = demo_site()
    cfg.policy.day_close = "08:39"
    await demo.put_site("demo", cfg, ADMIN)
    clock.now = _ms(2026, 11, 19, 8, 39, 5)
    first = await close_due(demo, "demo", clock.now, WORKER)
    assert first is not None and first["day"] == "2026-11-19"
    late = await _issue(demo, "internal")  # 08:39:05, after the first close
    cfg.policy.day_close = "08:41"
    await demo.put_site("demo", cfg, ADMIN)
    clock.now = _ms(2026, 11, 19, 8, 40)
    # Not yet 08:41: the latest 08:41 is yesterday's, whose tickets were closed already.
    r = await close_due(demo, "demo", clock.now, WORKER)
    assert r is None or (r["day"] == "2026-11-18" and r["closed"] == [])
    clock.now = _ms(2026, 11, 19, 8, 41, 15)
    again = await close_due(demo, "demo", clock.now, WORKER)
    assert again is not None and [c["id"] for c in again["closed"]] == [late["id"]]
    assert (await demo.ticket(late["id"]))["status"] == "cancelled"
    assert await close_due(demo, "demo", clock.now + 60_000, WORKER) is None  # once
    cfg.policy.day_close = "08:30"  # moved earlier: already closed past it
    await demo.put_site("demo", cfg, ADMIN)
    kept = await _issue(demo, "internal")
    assert await close_due(demo, "demo", clock.now + 120_000, WORKER) is None
    assert (await demo.ticket(kept["id"]))["status"] == "waiting"


async def test_close_day_by_hand_over_http(server: Server) -> None:
    c = server.client
    kiosk, admin = server.auth("kiosk", site="demo"), server.auth("admin")
    t = (await c.post("/v1/sites/demo/tickets", json={"service": "lab", "channel": "kiosk"},
                      headers=kiosk)).json()
    agent = server.auth("agent", site="demo", counter="4")
    r = await c.post("/v1/sites/demo/close-day", json={}, headers=agent)
    assert r.status_code == 403
    r = await c.post("/v1/sites/demo/close-day", json={"before": "2026-12-05T03:00:00"},
                     headers=admin)
    assert r.status_code == 400 and r.json()["details"]["field"] == "before"
    r = await c.post("/v1/sites/nowhere/close-day", json={}, headers=admin)
    assert r.status_code == 404 and r.json()["code"] == "unknown_site"
    r = await c.post("/v1/sites/demo/close-day", json={"before": "2000-01-01T00:00:00Z"},
                     headers=admin)
    assert r.status_code == 200 and r.json()["closed"] == []
    r = await c.post("/v1/sites/demo/close-day", json={}, headers=admin)
    assert r.status_code == 200, r.text
    assert [x["number"] for x in r.json()["closed"]] == [t["number"]]
    assert (await c.get(f"/v1/tickets/{t['id']}", headers=admin)).json()["status"] == "cancelled"


async def test_a_kiosk_token_issues_self_service_channels_only(server: Server) -> None:
    kiosk = server.auth("kiosk", site="demo")
    for channel in ("kiosk", "app", "sms", "web"):
        r = await server.client.post("/v1/sites/demo/tickets", headers=kiosk,
                                     json={"service": "lab", "channel": channel})
        assert r.status_code == 201, (channel, r.text)
    for channel in ("phone", "window", "partner"):
        r = await server.client.post("/v1/sites/demo/tickets", headers=kiosk,
                                     json={"service": "lab", "channel": channel})
        assert r.status_code == 403 and r.json()["details"]["field"] == "channel", r.text
    agent = server.auth("agent", site="demo", counter="4")
    r = await server.client.post("/v1/sites/demo/tickets", headers=agent,
                                 json={"service": "lab", "channel": "window"})
    assert r.status_code == 201


async def test_the_worker_task_closes_every_site_due(demo: Engine) -> None:
    from types import SimpleNamespace

    from queueing.booking.tasks import CTX_KEY
    from realtime.worker import CRON_JOBS, day_close
    assert any(job.coroutine is day_close for job in CRON_JOBS)
    cfg = demo_site()
    cfg.policy.day_close = "03:00"
    await demo.put_site("demo", cfg, ADMIN)
    old = await _issue(demo, "lab")  # on the test clock: weeks before the wall clock's now
    ctx = {CTX_KEY: SimpleNamespace(booking=SimpleNamespace(engine=demo))}
    assert await day_close(ctx) == 1
    assert (await demo.ticket(old["id"]))["status"] == "cancelled"
    assert await day_close(ctx) == 0  # once per local date


async def test_close_day_clears_the_board_s_calls(server: Server) -> None:
    """Friday's 'now calling C001 -> 4' must not stay on the screen into Monday, when the
    numbers start again; a board watching gets one ``day_closed`` event, a board that
    connects later a clean snapshot. ``close-day`` needs no body (``before`` is optional)."""
    import asyncio
    import json

    import websockets
    c = server.client
    kiosk, admin = server.auth("kiosk", site="demo"), server.auth("admin")
    agent = server.auth("agent", site="demo", counter="4")
    t = (await c.post("/v1/sites/demo/tickets", json={"service": "lab", "channel": "kiosk"},
                      headers=kiosk)).json()
    assert (await c.post("/v1/sites/demo/counters/4/call-next", headers=agent)).status_code \
        == 200
    url = f"{server.base.replace('http', 'ws')}/ws?token={server.token('display', site='demo')}"

    async def board_snapshot(ws: websockets.ClientConnection) -> dict[str, object]:
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo", "id": 1}))
        snap: dict[str, object] = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert snap["op"] == "snapshot"
        return snap

    async with websockets.connect(url) as ws:
        snap = await board_snapshot(ws)
        assert [r["number"] for r in snap["data"]["recent"]] == [t["number"]]  # type: ignore[index]
        r = await c.post("/v1/sites/demo/close-day", headers=admin)  # no body at all
        assert r.status_code == 200, r.text
        assert [x["number"] for x in r.json()["closed"]] == [t["number"]]
        seen = []
        while not seen or seen[-1].get("type") != "day_closed":
            try:
                seen.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
            except TimeoutError:
                raise AssertionError(seen) from None
        closed = seen[-1]["data"]
        assert closed["recent"] == [] and isinstance(closed["before_ms"], int)
        room4 = next(x for x in closed["counters"] if x["id"] == "4")
        assert room4["current"] is None
    async with websockets.connect(url) as ws:
        snap = await board_snapshot(ws)
        assert snap["data"]["recent"] == []  # type: ignore[index]
        # A resume from before the close replays it (with the cut-off to apply).
        since = {"epoch": snap["epoch"], "offset": "0-0"}
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo", "id": 2,
                                  "since": since}))
        replayed = []
        while True:
            try:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            except TimeoutError:
                raise AssertionError(replayed) from None
            replayed.append(msg)
            if msg["op"] == "snapshot" or "counters" in msg["data"]:  # the current state
                break  # rides on the last message of a resume
        types = [m.get("type") for m in replayed]
        # The call, then the six counters the close closed (nobody had), then the close.
        assert types[types.index("called"):] == ["called", *["counter"] * 6, "day_closed"], types
        assert isinstance(replayed[-1]["data"]["before_ms"], int)
