"""The audit trail (docs/audit.md): every step of a ticket with its time, counter, staff
token and channel, recorded once by the day log's consumer, kept after the stream is
trimmed, read by supervisors through ``GET /v1/sites/{site}/audit``."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from redis.asyncio import Redis

from queueing import keys
from queueing.audit import Filter, score
from queueing.engine import Actor, Engine
from queueing.model import Channel, TicketRequest
from realtime.audit_api import _cursor, read_page
from realtime.stats import GROUP, StatsRecorder
from tests.integration.conftest import Clock, Server

PHONE = "+8613800138000"


async def _audit(server: Server, query: str, until: Any = bool, **tok: str) -> dict[str, Any]:
    auth = server.auth("supervisor", site="demo", **tok)
    for _ in range(100):
        r = await server.client.get(f"/v1/sites/demo/audit?{query}", headers=auth)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        if until(body["records"]):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"the audit trail never matched: {body}")


async def _story(server: Server) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ticket A: issued at the kiosk with a name and a number for texts, called, missed
    (back in the queue), called again, completed. Ticket B: cancelled by an agent."""
    kiosk = server.auth("kiosk", site="demo", subject="kiosk-lobby")
    agent = server.auth("agent", site="demo", counter="1", subject="nurse-li")
    a = (await server.client.post("/v1/sites/demo/tickets", headers=kiosk, json={
        "service": "internal", "channel": "kiosk", "customer": "张三", "notify": PHONE})).json()
    b = (await server.client.post("/v1/sites/demo/tickets", headers=kiosk,
                                  json={"service": "internal", "channel": "kiosk"})).json()
    r = await server.client.post(f"/v1/tickets/{a['id']}/notify", headers=agent,
                                 json={"to": "+8613900139000"})
    assert r.status_code == 200, r.text
    # Called again by number: the no-show went back behind B (no_show_return_after).
    for op, body in (("call-next", None), ("no-show", None), ("call", {"ticket": a["id"]})):
        r = await server.client.post(f"/v1/sites/demo/counters/1/{op}", headers=agent,
                                     json=body)
        assert r.status_code == 200, r.text
        assert r.json().get("id", r.json().get("ticket", {}).get("id")) == a["id"], (op, r.text)
    r = await server.client.post(f"/v1/tickets/{b['id']}/cancel", headers=agent)
    assert r.status_code == 200, r.text
    r = await server.client.post("/v1/sites/demo/counters/1/complete", headers=agent)
    assert r.status_code == 200, r.text
    return a, b


async def test_a_tickets_timeline_names_who_did_each_step(server: Server) -> None:
    a, b = await _story(server)
    body = await _audit(server, f"number={a['number']}", lambda rs: len(rs) == 6)
    steps = [(r["event"], r.get("counter"), r["actor"], r["via"]) for r in body["records"]]
    assert steps == [
        ("issued", None, "kiosk-lobby", "kiosk"),
        ("notify_set", None, "nurse-li", "api"),
        ("called", "1", "nurse-li", "counter"),
        ("no_show", "1", "nurse-li", "counter"),
        ("called", "1", "nurse-li", "counter"),
        ("completed", "1", "nurse-li", "counter")]
    issued, notify, call, missed, _, done = body["records"]
    assert issued["channel"] == "kiosk" and issued["id"] == a["id"]
    assert issued["service"] == "internal" and issued["number"] == a["number"]
    assert notify["notify"] is True  # the fact only
    assert call["from"] == "waiting" and call["by_number"] is False
    assert missed["returned"] is True and missed["from"] == "called"
    assert done["from"] == "called"
    ats = [r["at_ms"] for r in body["records"]]
    assert ats == sorted(ats) and body["cursor"] is None
    by_id = await _audit(server, f"ticket={b['id']}", lambda rs: len(rs) == 2)
    cancel = by_id["records"][-1]
    assert cancel["event"] == "cancelled" and cancel["reason"] == "by_staff"
    assert cancel["actor"] == "nurse-li" and cancel["from"] == "waiting"
    # What a supervisor has from the slip: the number, in any case.
    low = await _audit(server, f"number={a['number'].lower()}", lambda rs: len(rs) == 6)
    assert [r["offset"] for r in low["records"]] == [r["offset"] for r in body["records"]]


async def test_no_phone_number_or_name_is_stored(server: Server) -> None:
    a, _ = await _story(server)
    await _audit(server, f"ticket={a['id']}", lambda rs: len(rs) == 6)
    redis = Redis.from_url(server.settings.redis_url or "")
    try:
        for key in await redis.keys(keys.prefix("demo") + "audit:*"):
            for raw in await redis.zrange(key, 0, -1):
                text = raw.decode()
                assert "13800138000" not in text and "13900139000" not in text, text
                assert "张三" not in text and "\\u5f20" not in text, text
    finally:
        await redis.aclose()


async def test_records_survive_the_stream_trim(server: Server) -> None:
    a, _ = await _story(server)
    await _audit(server, f"ticket={a['id']}", lambda rs: len(rs) == 6)
    redis = Redis.from_url(server.settings.redis_url or "")
    try:
        eng = Engine(server_store(redis))
        far = 2 ** 41  # a "now" long after every entry: all but the last one go
        r = await eng.store.run("trim", "demo", far, "", "", 1, 1)
        assert r["trimmed"] > 6
        assert await redis.xlen(keys.events("demo")) == 1
    finally:
        await redis.aclose()
    again = await _audit(server, f"ticket={a['id']}")
    assert [r["event"] for r in again["records"]][-1] == "completed"
    assert len(again["records"]) == 6


def server_store(redis: Redis) -> Any:
    from queueing.store import Store
    return Store(redis)


async def test_filters_and_pages(server: Server) -> None:
    a, b = await _story(server)
    day = (await _audit(server, "", lambda rs: len(rs) >= 15))["date"]
    everything = (await _audit(server, f"date={day}&limit=1000"))["records"]
    assert len({r["offset"] for r in everything}) == len(everything)
    mine = [r for r in everything if r["actor"] == "nurse-li"]
    got = (await _audit(server, "actor=nurse-li&limit=1000"))["records"]
    assert got == mine and len(got) == 6
    at_1 = (await _audit(server, "counter=1&limit=1000"))["records"]
    assert at_1 and all(r.get("counter") == "1" for r in at_1)
    # Pages of 4 follow each other to the same list, and the last says there is no more.
    pages, cursor = [], ""
    while True:
        body = await _audit(server, f"date={day}&limit=4" + (f"&cursor={cursor}" if cursor
                                                               else ""), lambda rs: True)
        pages += body["records"]
        cursor = body["cursor"]
        if cursor is None:
            break
        assert len(body["records"]) == 4
    assert pages == everything
    # A filtered page stops at its limit; its cursor goes on from there.
    first = await _audit(server, f"number={a['number']}&limit=2")
    rest = await _audit(server, f"number={a['number']}&cursor={first['cursor']}")
    assert [r["event"] for r in first["records"] + rest["records"]] == [
        "issued", "notify_set", "called", "no_show", "called", "completed"]
    # By kind of step: the no-shows only.
    shows = (await _audit(server, "event=no_show&limit=1000"))["records"]
    assert shows == [r for r in everything if r["event"] == "no_show"] and shows
    both = await _audit(server, f"ticket={b['id']}&number={a['number']}", lambda rs: True)
    assert both["records"] == []
    old = await _audit(server, "date=2020-01-01", lambda rs: True)
    assert old == {"site": "demo", "date": "2020-01-01", "records": [], "cursor": None}


async def test_bad_input_and_who_may_read(server: Server) -> None:
    sup = server.auth("supervisor", site="demo")
    for q, field in (("date=yesterday", "date"), ("limit=0", "limit"), ("limit=1001", "limit"),
                     ("limit=ten", "limit"), ("cursor=abc", "cursor"),
                     ("number=" + "9" * 41, "number"), ("actor=a%20b", "actor"),
                     ("counter=" + "c" * 65, "counter"), ("ticket=x%0Ay", "ticket"),
                     # A typo or an unknown kind answered every record, unfiltered.
                     ("conter=7", "conter"), ("event=day_closd", "event")):
        r = await server.client.get(f"/v1/sites/demo/audit?{q}", headers=sup)
        assert r.status_code == 400, q
        assert r.json()["code"] == "bad_request" and r.json()["details"]["field"] == field, q
    r = await server.client.get("/v1/sites/nowhere/audit", headers=server.auth("admin"))
    assert r.status_code == 404 and r.json()["code"] == "unknown_site"
    assert (await server.client.get("/v1/sites/demo/audit",
                                    headers=server.auth("admin"))).status_code == 200
    for role, kw in (("agent", {"counter": "1"}), ("kiosk", {}), ("display", {})):
        r = await server.client.get("/v1/sites/demo/audit",
                                    headers=server.auth(role, site="demo", **kw))
        assert r.status_code == 403 and r.json()["code"] == "forbidden", role
    other = server.auth("supervisor", site="elsewhere")
    r = await server.client.get("/v1/sites/demo/audit", headers=other)
    assert r.status_code == 403
    r = await server.client.get("/v1/sites/demo/audit")
    assert r.status_code == 401


async def test_each_event_recorded_once_with_two_consumers(demo: Engine, redis: Redis,
                                                           clock: Clock) -> None:
    """Two recorders (two server processes), and a late one whose entry another claimed:
    every event is in the trail and the day log once."""
    who = Actor("kiosk-1", "api")
    for _ in range(12):
        await demo.issue("demo", TicketRequest(service="lab", channel=Channel.KIOSK), who)
        clock.advance(1)
    a, b = StatsRecorder(demo), StatsRecorder(demo)
    a.consumer, b.consumer = "a", "b"
    await asyncio.gather(a.run_once(), b.run_once(), a.run_once(), b.run_once())
    # A slow consumer read an entry; another claimed and recorded it (the script as the
    # recorder runs it); then the slow one records it too: nothing is written twice.
    await demo.issue("demo", TicketRequest(service="lab", channel=Channel.KIOSK), who)
    stream = keys.events("demo")
    ((_, rows),) = await redis.xreadgroup(GROUP, "slow", {stream: ">"}, count=1)
    eid = rows[0][0].decode()
    for payload in ("claimed", "late"):
        rec = msgspec.json.encode({"o": payload, "k": "issued"}).decode()
        await demo.store.run("record", "demo", 0, "", "", GROUP, eid, 86400, 86400,
                             "2026-11-19", 1, rec, "2026-11-19", f'{{"k":"{payload}"}}')
    keys_ = await redis.keys(keys.prefix("demo") + "audit:*")
    recs = [msgspec.json.decode(r) for k in keys_ for r in await redis.zrange(k, 0, -1)]
    issued = [r for r in recs if r["k"] == "issued"]
    assert len(issued) == 13 and len({r["o"] for r in issued}) == 13
    assert "claimed" in {r["o"] for r in issued} and "late" not in {r["o"] for r in recs}
    days = await redis.keys(keys.prefix("demo") + "daylog:*")
    logged = [msgspec.json.decode(r) for k in days for r in await redis.lrange(k, 0, -1)]  # type: ignore[misc]
    assert len([r for r in logged if r["k"] == "i"]) == 12
    assert [r["k"] for r in logged if r["k"] in ("claimed", "late")] == ["claimed"]


async def test_an_erasure_is_in_the_trail_without_the_number(server: Server) -> None:
    a, _ = await _story(server)
    # Recorded first (an erasure deletes the stream entries that carried the number; one
    # that came before the recorder read them would take their steps with them).
    await _audit(server, f"ticket={a['id']}", lambda rs: len(rs) == 6)
    r = await server.client.post("/v1/sites/demo/erase", json={"ticket": a["id"]},
                                 headers=server.auth("admin", subject="dpo-wang"))
    assert r.status_code == 200, r.text
    body = await _audit(server, "actor=dpo-wang", lambda rs: any(
        x["event"] == "erased" for x in rs))
    erased = next(x for x in body["records"] if x["event"] == "erased")
    assert erased["id"] == a["id"] and erased["counts"] and erased["via"] == "api"
    assert "reference" not in erased
    # The ticket's own history is still there, the number never was.
    steps = await _audit(server, f"ticket={a['id']}", lambda rs: len(rs) == 7)
    assert "13800138000" not in str(steps) and "13900139000" not in str(steps)


async def test_pages_split_records_of_one_score(redis: Redis) -> None:
    """Past 999 steps in one millisecond records share a score (queueing.audit.score): a
    page may end among them, and the next begins with the one after, none skipped or shown
    twice (the cursor passed an exclusive score, and lost the rest of that millisecond)."""
    key = keys.prefix("demo") + "audit:2026-12-06"
    offsets = [f"1796500000000-{seq}" for seq in range(995, 1010)]
    await redis.zadd(key, {msgspec.json.encode({"o": o, "k": "issued"}): score(o)
                           for o in offsets})
    assert len({score(o) for o in offsets}) == 5  # 995..998, then 999 for eleven
    got, cursor = [], None
    while True:
        page, cursor = await read_page(redis, key, Filter(), 3, _cursor(cursor))
        got += [r["o"] for r in page]
        if cursor is None:
            break
    assert sorted(got) == sorted(offsets) and len(got) == len(offsets)
    # A bare score (a cursor answered before) is after every record of that score.
    rest, _ = await read_page(redis, key, Filter(), 100, _cursor(str(score(offsets[-1]))))
    assert rest == []
