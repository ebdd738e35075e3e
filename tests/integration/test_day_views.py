"""The day by hour, by counter and by staff (docs/reports.md): real Redis, the real recorder,
the engine's clock driven through a morning at two counters; then the HTTP views, their CSV
layouts, who may read them, and bad input."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

from queueing.engine import Actor, Engine
from queueing.model import Channel, TicketRequest
from queueing.openings import local_ms
from realtime import day_views
from realtime.stats import DayLog, StatsRecorder
from tests.integration.conftest import ADMIN, Clock, Server

DAY = "2026-11-23"
TZ = "Asia/Shanghai"
LI, WANG = Actor("nurse-li", "counter"), Actor("dr-wang", "counter")
KIOSK = Actor("kiosk-1", "kiosk")


def at(hour: float) -> int:
    return local_ms(DAY, 0, TZ) + round(hour * 3_600_000)


async def _morning(engine: Engine, clock: Clock) -> None:
    """07:30 counters 1 (nurse Li) and 2 (Dr Wang) open; A 08:10 and B 08:20 arrive; Li calls
    A 08:40, done 08:50; Wang calls B 09:05, starts 09:15, done 09:35; C arrives 09:10, Li
    calls it 09:20, done 09:25; counter 1 pauses 09:30; both close 10:00."""
    from queueing.demo import demo_site

    clock.now = at(7)
    await engine.put_site("demo", demo_site(), ADMIN)

    def take() -> Any:
        return engine.issue("demo", TicketRequest("internal", Channel.KIOSK), KIOSK)

    steps: list[tuple[float, Any]] = [
        (7.5, lambda: engine.counter_op("demo", "1", "open", LI)),
        (7.5, lambda: engine.counter_op("demo", "2", "open", WANG)),
        (8 + 10 / 60, take),
        (8 + 20 / 60, take),
        (8 + 40 / 60, lambda: engine.counter_op("demo", "1", "call-next", LI)),
        (8 + 50 / 60, lambda: engine.counter_op("demo", "1", "complete", LI)),
        (9 + 5 / 60, lambda: engine.counter_op("demo", "2", "call-next", WANG)),
        (9 + 10 / 60, take),
        (9 + 15 / 60, lambda: engine.counter_op("demo", "2", "start", WANG)),
        (9 + 20 / 60, lambda: engine.counter_op("demo", "1", "call-next", LI)),
        (9 + 25 / 60, lambda: engine.counter_op("demo", "1", "complete", LI)),
        (9.5, lambda: engine.counter_op("demo", "1", "pause", LI)),
        (9 + 35 / 60, lambda: engine.counter_op("demo", "2", "complete", WANG)),
        (10, lambda: engine.counter_op("demo", "1", "close", LI)),
        (10, lambda: engine.counter_op("demo", "2", "close", WANG)),
    ]
    for hour, step in steps:
        clock.now = at(hour)
        await step()
    clock.now = at(10.5)
    recorder = StatsRecorder(engine)
    while await recorder.run_once():
        pass


Step = tuple[float, str, str, Actor, dict[str, str]]


async def _steps(engine: Engine, clock: Clock, steps: list[Step]) -> None:
    """Counter operations at their hours: (hour, counter, op, who, keyword arguments)."""
    for hour, counter, op, who, kw in steps:
        clock.now = at(hour)
        await engine.counter_op("demo", counter, op, who, **kw)


async def _record(engine: Engine) -> None:
    recorder = StatsRecorder(engine)
    while await recorder.run_once():
        pass


async def _view(engine: Engine, by: str, day: str = DAY) -> dict[str, Any]:
    cfg = await engine.config("demo")
    return await day_views.view(DayLog(engine, "demo"), cfg, day, by, engine.clock())


async def test_a_morning_by_hour(engine: Engine, clock: Clock) -> None:
    await _morning(engine, clock)
    hours = {h["hour"]: h for h in (await _view(engine, "hour"))["hours"]}
    assert sorted(hours) == [7, 8, 9]
    # Two counters from 07:30; both all of 8 o'clock; at 9, counter 1 until its pause.
    assert [hours[h]["counters_open"] for h in (7, 8, 9)] == [1.0, 2.0, 1.5]
    eight, nine = hours[8], hours[9]
    # A and B arrived at 8 and waited 30 and 45 minutes (B was called at 9: its wait is 8's).
    assert eight["issued"] == 2 and eight["wait_s"] == {"n": 2, "mean": 2250.0, "p90": 2700.0}
    assert eight["called"] == 1 and nine["called"] == 2
    assert eight["served"] == 1 and nine["served"] == 2
    assert nine["issued"] == 1 and nine["wait_s"]["mean"] == 600.0
    assert eight["arrivals_per_counter"] == 1.0
    # Paediatrics is served by counter 2 only.
    assert nine["services"]["paediatrics"]["counters_open"] == 1.0
    assert eight["services"]["internal"]["counters_open"] == 2.0


async def test_a_morning_by_counter_and_staff(engine: Engine, clock: Clock) -> None:
    await _morning(engine, clock)
    rows = {r["counter"]: r for r in (await _view(engine, "counter"))["counters"]}
    assert sorted(rows) == ["1", "2"]
    one, two = rows["1"], rows["2"]
    assert (one["calls"], one["served"], one["no_shows"]) == (2, 2, 0)
    assert one["service_s"] == {"n": 2, "mean": 450.0, "median": 450.0}
    assert (one["open_s"], one["paused_s"], one["busy_s"]) == (7200.0, 1800.0, 900.0)
    assert one["busy_share"] == 0.125
    # Served from start (09:15), not from the call: 20 minutes.
    assert two["service_s"]["mean"] == 1200.0 and two["open_s"] == 9000.0
    assert two["busy_share"] == round(1200 / 9000, 3)
    staff = {r["staff"]: r for r in (await _view(engine, "staff"))["staff"]}
    assert sorted(staff) == ["dr-wang", "nurse-li"]
    assert (staff["nurse-li"]["calls"], staff["nurse-li"]["served"]) == (2, 2)
    assert staff["nurse-li"]["counters"] == ["1"] and staff["dr-wang"]["busy_s"] == 1200.0


async def test_counter_open_at_midnight(engine: Engine, clock: Clock) -> None:
    """Opened the evening before and never touched: open all day, from yesterday's record."""
    from queueing.demo import demo_site

    clock.now = at(-2)
    await engine.put_site("demo", demo_site(), ADMIN)
    await engine.counter_op("demo", "4", "open", LI)
    clock.now = at(8)
    await engine.issue("demo", TicketRequest("lab", Channel.KIOSK), KIOSK)
    clock.now = at(8.5)
    await StatsRecorder(engine).run_once()
    hours = (await _view(engine, "hour"))["hours"]
    assert [h["hour"] for h in hours] == list(range(9))
    assert {h["counters_open"] for h in hours[:8]} == {1.0}
    assert hours[8]["counters_open"] == 1.0 and hours[8]["minutes"] == 30.0


async def test_a_counter_left_open_over_the_weekend(engine: Engine, clock: Clock) -> None:
    """Opened Friday 08:00 and never touched: open all Saturday and Sunday (no record either
    day) and on Monday, where pressing open again records nothing. The state comes from the
    day before, else from the counter's live state unchanged since before the day."""
    from queueing.demo import demo_site

    fri, sat, sun, mon = "2026-11-20", "2026-11-21", "2026-11-22", DAY
    clock.now = local_ms(fri, 7, TZ)
    await engine.put_site("demo", demo_site(), ADMIN)
    clock.now = local_ms(fri, 8, TZ)
    await engine.counter_op("demo", "1", "open", LI)
    clock.now = at(8)
    await engine.counter_op("demo", "1", "open", LI)  # already open: no event
    await engine.issue("demo", TicketRequest("internal", Channel.KIOSK), KIOSK)
    clock.now = at(8.25)
    await engine.counter_op("demo", "1", "call-next", LI)
    clock.now = at(8.5)
    await engine.counter_op("demo", "1", "complete", LI)
    clock.now = at(9)
    recorder = StatsRecorder(engine)
    while await recorder.run_once():
        pass
    for day in (sat, sun):
        [row] = (await _view(engine, "counter", day))["counters"]
        assert (row["counter"], row["open_s"], row["busy_share"]) == ("1", 86400.0, 0.0), day
        assert {h["counters_open"] for h in (await _view(engine, "hour", day))["hours"]} == {1.0}
    [row] = (await _view(engine, "counter", mon))["counters"]
    assert (row["served"], row["open_s"], row["busy_share"]) == (1, 9 * 3600.0, 0.028)
    hours = (await _view(engine, "hour", mon))["hours"]
    assert [h["hour"] for h in hours] == list(range(9)) and hours[8]["counters_open"] == 1.0


async def test_the_day_close_closes_counters_nobody_closed(engine: Engine, clock: Clock,
                                                           redis: Any) -> None:
    """Counter 1 open 08:00, counter 2 paused, counter 4 serving a patient, nobody closes
    them; the day is closed at 21:00 (cut-off 20:00). 1 and 2 are closed by the day close
    (a counter_closed by it, in the day log), 4 is left to its agent: on Tuesday only 4 is
    open."""
    import msgspec

    from queueing import keys
    from queueing.demo import demo_site

    clock.now = at(7)
    await engine.put_site("demo", demo_site(), ADMIN)
    clock.now = at(8)
    for c in ("1", "2", "4"):
        await engine.counter_op("demo", c, "open", LI)
    await engine.counter_op("demo", "2", "pause", LI)
    await engine.issue("demo", TicketRequest("lab", Channel.KIOSK), KIOSK)
    await engine.counter_op("demo", "4", "call-next", WANG)
    await engine.counter_op("demo", "4", "start", WANG)
    clock.now = at(21)
    r = await engine.close_day("demo", at(20), Actor("day_close", "worker"))
    assert r["counters_closed"] == ["1", "2"] and len(r["kept"]) == 1
    states = {c["id"]: c["state"] for c in (await engine.site("demo"))["counters"]}
    assert (states["1"], states["2"], states["4"]) == ("closed", "closed", "open")
    rows = await redis.xrange(keys.events("demo"))
    closes = [(f[b"a"], msgspec.json.decode(f[b"d"])) for _, f in rows
              if f[b"t"] == b"counter_closed"]
    assert [(a, d["counter"], d["from"]) for a, d in closes] == [
        (b"day_close", "1", "open"), (b"day_close", "2", "paused")]
    recorder = StatsRecorder(engine)
    while await recorder.run_once():
        pass
    clock.now = at(50)
    one = (await _view(engine, "counter"))["counters"][0]
    assert (one["counter"], one["open_s"]) == ("1", 13 * 3600.0)  # 08:00 to the close
    tue = (await _view(engine, "hour", "2026-11-24"))["hours"]
    assert len(tue) == 24 and {h["counters_open"] for h in tue} == {1.0}
    assert {r["counter"]: r["open_s"] for r in
            (await _view(engine, "counter", "2026-11-24"))["counters"]} == {"4": 86400.0}


async def test_a_counter_taken_out_while_open_is_closed(engine: Engine, clock: Clock,
                                                        redis: Any) -> None:
    """Counter 6 opened 08:00 and taken out of the site at 09:00: a counter_closed (removed)
    ends its day there; a counter already closed taken out says nothing."""
    import msgspec

    from queueing import keys
    from queueing.demo import demo_site

    clock.now = at(7)
    site = demo_site()
    await engine.put_site("demo", site, ADMIN)
    clock.now = at(8)
    await engine.counter_op("demo", "6", "open", LI)
    clock.now = at(9)
    fewer = msgspec.structs.replace(site, counters=[c for c in site.counters
                                                    if c.id not in ("5", "6")])
    await engine.put_site("demo", fewer, ADMIN)
    rows = await redis.xrange(keys.events("demo"))
    closes = [msgspec.json.decode(f[b"d"]) for _, f in rows if f[b"t"] == b"counter_closed"]
    assert [(d["counter"], d["from"], d["removed"]) for d in closes] == [("6", "open", True)]
    clock.now = at(18)
    recorder = StatsRecorder(engine)
    while await recorder.run_once():
        pass
    rows6 = (await _view(engine, "counter"))["counters"]
    assert [(r["counter"], r["open_s"]) for r in rows6] == [("6", 3600.0)]
    hours = (await _view(engine, "hour"))["hours"]
    assert [(h["hour"], h["counters_open"]) for h in hours] == [(8, 1.0)]


async def test_time_with_a_patient_transferred_or_parked_is_busy(engine: Engine,
                                                                 clock: Clock) -> None:
    """Triage at counter 1 calls a patient 08:00 and sends them to the lab at 08:10; the lab
    (counter 4) serves them 08:20-08:30. Counter 2 calls one 09:00, starts 09:02, parks them
    09:07. The counter's minutes with them are busy, though nobody was served there."""
    from queueing.demo import demo_site

    clock.now = at(7)
    await engine.put_site("demo", demo_site(), ADMIN)
    for c in ("1", "2", "4"):
        await engine.counter_op("demo", c, "open", LI)
    for _ in range(2):
        await engine.issue("demo", TicketRequest("internal", Channel.KIOSK), KIOSK)
    steps: list[Step] = [
        (8, "1", "call-next", LI, {}), (8 + 10 / 60, "1", "transfer", LI, {"service": "lab"}),
        (8 + 20 / 60, "4", "call-next", WANG, {}), (8.5, "4", "complete", WANG, {}),
        (9, "2", "call-next", WANG, {}), (9 + 2 / 60, "2", "start", WANG, {}),
        (9 + 7 / 60, "2", "park", WANG, {})]
    await _steps(engine, clock, steps)
    clock.now = at(10)
    await _record(engine)
    rows = {r["counter"]: r for r in (await _view(engine, "counter"))["counters"]}
    got = {c: (r["calls"], r["served"], r["handed_on"], r["busy_s"]) for c, r in rows.items()}
    assert got == {"1": (1, 0, 1, 600.0), "2": (1, 0, 1, 300.0), "4": (1, 1, 0, 600.0)}
    staff = {r["staff"]: r for r in (await _view(engine, "staff"))["staff"]}
    assert (staff["nurse-li"]["busy_s"], staff["dr-wang"]["busy_s"]) == (600.0, 900.0)


async def test_a_call_after_a_no_show_return_or_a_park_counts_at_its_counter(
        engine: Engine, clock: Clock) -> None:
    """Counter 1 (Li) calls A at 08:10, marks it absent at 08:15 (the policy sends A back to
    its place); counter 2 (Wang) calls A again at 08:20 and serves it. Li calls B at 08:40 and
    parks it at 08:45; Wang calls B from the parked list at 09:00 and serves it. Each counter
    made two calls; Wang's served tickets are his calls (he had none counted before)."""
    from queueing.demo import demo_site

    clock.now = at(7)
    await engine.put_site("demo", demo_site(), ADMIN)
    for c in ("1", "2"):
        await engine.counter_op("demo", c, "open", LI)
    clock.now = at(8)
    await engine.issue("demo", TicketRequest("internal", Channel.KIOSK), KIOSK)
    steps: list[Step] = [
        (8 + 10 / 60, "1", "call-next", LI, {}), (8.25, "1", "no-show", LI, {}),
        (8 + 20 / 60, "2", "call-next", WANG, {}), (8.5, "2", "complete", WANG, {})]
    await _steps(engine, clock, steps)
    clock.now = at(8 + 35 / 60)
    b = (await engine.issue("demo", TicketRequest("internal", Channel.KIOSK), KIOSK)).ticket
    steps = [(8 + 40 / 60, "1", "call-next", LI, {}), (8.75, "1", "park", LI, {}),
             (9, "2", "call", WANG, {"ticket": b["id"]}), (9 + 10 / 60, "2", "complete", WANG, {})]
    await _steps(engine, clock, steps)
    clock.now = at(10)
    await _record(engine)
    rows = {r["counter"]: r for r in (await _view(engine, "counter"))["counters"]}
    got = {c: (r["calls"], r["served"], r["no_shows"], r["handed_on"]) for c, r in rows.items()}
    # Counter 1's no-show sent A back (not terminal): not in no_shows.
    assert got == {"1": (2, 0, 0, 1), "2": (2, 2, 0, 0)}
    staff = {r["staff"]: (r["calls"], r["served"]) for r in (await _view(engine, "staff"))["staff"]}
    assert staff == {"nurse-li": (2, 0), "dr-wang": (2, 2)}
    # By hour, "called" stays the first calls (A at 08:10, B at 08:40): the wait ended there.
    hours = {h["hour"]: h for h in (await _view(engine, "hour"))["hours"]}
    assert (hours[8]["called"], hours[8]["served"]) == (2, 1)
    assert (hours[9]["called"], hours[9]["served"]) == (0, 1)


async def test_the_day_before_s_counter_states_are_kept(engine: Engine, clock: Clock,
                                                        redis: Any) -> None:
    """The day before is read once for its closing counter states, which are kept with its
    length; a record landing late (the recorder catching up) has them read again."""
    import msgspec

    from queueing import keys
    from queueing.demo import demo_site

    clock.now = at(-10)
    await engine.put_site("demo", demo_site(), ADMIN)
    await engine.counter_op("demo", "1", "open", LI)
    clock.now = at(-5)
    await engine.counter_op("demo", "1", "pause", LI)
    clock.now = at(9)
    recorder = StatsRecorder(engine)
    while await recorder.run_once():
        pass
    kept = keys.prefix("demo") + "dayend:2026-11-22"
    hours = (await _view(engine, "hour"))["hours"]
    assert hours == [] and msgspec.json.decode(await redis.get(kept)) == {
        "n": 2, "states": {"1": "paused"}}
    # Read from what was kept (shown by changing it), while the day's length is the same...
    await redis.set(kept, msgspec.json.encode({"n": 2, "states": {"1": "open"}}))
    assert [h["counters_open"] for h in (await _view(engine, "hour"))["hours"]] == [1.0] * 9
    # ...and read again when a late record lands.
    late = {"o": "1-1", "s": "", "k": "q", "ctr": "1", "t": at(-1), "f": "paused"}
    await redis.rpush(keys.prefix("demo") + "daylog:2026-11-22", msgspec.json.encode(late))
    assert (await _view(engine, "hour"))["hours"] == []
    assert msgspec.json.decode(await redis.get(kept))["states"] == {"1": "closed"}


async def _wait_for(server: Server, path: str, ready: Any) -> Any:
    sup = server.auth("supervisor", site="demo")
    for _ in range(100):
        r = await server.client.get(path, headers=sup)
        assert r.status_code == 200, r.text
        if ready(r):
            return r
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} never ready: {r.text}")


async def test_views_over_http(server: Server) -> None:
    c = server.client
    agent = server.auth("agent", site="demo", counter="4", subject="nurse-li")
    await c.post("/v1/sites/demo/tickets", json={"service": "lab", "channel": "kiosk"},
                 headers=server.auth("kiosk", site="demo"))
    assert (await c.post("/v1/sites/demo/counters/4/call-next", headers=agent)).status_code == 200
    assert (await c.post("/v1/sites/demo/counters/4/complete", headers=agent)).status_code == 200
    r = await _wait_for(server, "/v1/sites/demo/stats?by=staff",
                        lambda r: any(s["staff"] == "nurse-li" for s in r.json()["staff"]))
    body = r.json()
    assert body["by"] == "staff" and body["site"] == "demo"
    [li] = [s for s in body["staff"] if s["staff"] == "nurse-li"]
    assert (li["calls"], li["served"], li["counters"]) == (1, 1, ["4"])
    hour = (await c.get("/v1/sites/demo/stats?by=hour", headers=agent)).json()
    assert hour["by"] == "hour" and sum(h["issued"] for h in hour["hours"]) == 1
    # The server's fixture opened all six counters today.
    assert hour["hours"][-1]["counters_open"] is not None
    ctr = (await c.get("/v1/sites/demo/stats?by=counter", headers=agent)).json()
    assert {r["counter"] for r in ctr["counters"]} == {"1", "2", "3", "4", "5", "6"}
    # Without ``by`` the day's figures are what they were.
    plain = (await c.get("/v1/sites/demo/stats", headers=agent)).json()
    assert "by" not in plain and plain["services"]["lab"]["operations"]["tickets"] == 1

    for by, first in (("hour", "date,hour,service,issued"), ("counter", "date,counter,calls"),
                      ("staff", "date,staff,calls")):
        r = await c.get(f"/v1/sites/demo/report.csv?by={by}",
                        headers=server.auth("supervisor", site="demo"))
        assert r.status_code == 200, r.text
        assert f'-by-{by}.csv"' in r.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
        assert ",".join(day_views.COLUMNS[by]).startswith(first)
        assert list(rows[0]) == list(day_views.COLUMNS[by])
    r = await c.get("/v1/sites/demo/report.csv?by=hour", headers=agent)
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert {row["service"] for row in rows} >= {"*", "lab"}


async def test_who_may_read_which_view(server: Server) -> None:
    c = server.client
    roles = {"agent": server.auth("agent", site="demo", counter="1"),
             "supervisor": server.auth("supervisor", site="demo"),
             "display": server.auth("display", site="demo"),
             "kiosk": server.auth("kiosk", site="demo"),
             "admin": server.auth("admin"),
             "other": server.auth("supervisor", site="elsewhere")}
    allowed = {"hour": {"agent", "supervisor", "display", "kiosk", "admin"},
               "counter": {"agent", "supervisor", "admin"}, "staff": {"supervisor", "admin"}}
    for by, who in allowed.items():
        for role, headers in roles.items():
            r = await c.get(f"/v1/sites/demo/stats?by={by}", headers=headers)
            assert r.status_code == (200 if role in who else 403), (by, role, r.text)
            if r.status_code == 403:
                assert r.json()["code"] == "forbidden"
    csv_allowed = {"hour": {"agent", "supervisor", "admin"},
                   "counter": {"agent", "supervisor", "admin"}, "staff": {"supervisor", "admin"}}
    for by, who in csv_allowed.items():
        for role, headers in roles.items():
            r = await c.get(f"/v1/sites/demo/report.csv?by={by}", headers=headers)
            assert r.status_code == (200 if role in who else 403), (by, role, r.text)


async def test_bad_input(server: Server) -> None:
    c = server.client
    sup = server.auth("supervisor", site="demo")
    for path in ("/v1/sites/demo/stats?by=week", "/v1/sites/demo/stats?by=HOUR",
                 "/v1/sites/demo/report.csv?by=patient", "/v1/sites/demo/stats?by=hour&date=x",
                 "/v1/sites/demo/report.csv?by=staff&from=2026-12-05&to=2026-12-01"):
        r = await c.get(path, headers=sup)
        assert r.status_code == 400, (path, r.text)
        assert r.json()["code"] == "bad_request"
    # Dates near the calendar's ends (the day before, local hours) are refused, not a 500.
    for q in ("by=hour&date=0001-01-01", "by=counter&date=0001-01-01",
              "by=hour&date=9999-12-31", "by=staff&date=9999-12-31"):
        r = await c.get(f"/v1/sites/demo/stats?{q}", headers=sup)
        assert (r.status_code, r.json()["code"]) == (400, "bad_request"), (q, r.text)
        assert r.json()["details"]["field"] == "date"
    r = await c.get("/v1/sites/demo/stats?by=week", headers=sup)
    assert r.json()["details"]["field"] == "by"
    assert r.json()["details"]["allowed"] == ["hour", "counter", "staff"]
    r = await c.get("/v1/sites/nowhere/stats?by=hour", headers=server.auth("admin"))
    assert r.status_code == 404 and r.json()["code"] == "unknown_site"
    # An empty ``by`` is no view: the day's figures.
    r = await c.get("/v1/sites/demo/stats?by=", headers=sup)
    assert r.status_code == 200 and "accuracy" in r.json()
