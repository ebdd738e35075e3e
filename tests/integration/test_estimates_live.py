"""Wait estimates on the wire, and the day's accuracy and operations endpoint."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from clients.client import Client
from tests.integration.conftest import Server


async def _stats(server: Server, until: Any) -> dict[str, Any]:
    for _ in range(100):
        r = await server.client.get("/v1/sites/demo/stats",
                                    headers=server.auth("agent", site="demo", counter="1"))
        assert r.status_code == 200, r.text
        body = r.json()
        if until(body):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"stats never matched: {body}")


async def test_estimate_given_at_issue_shown_live_and_scored(server: Server) -> None:
    kiosk = server.auth("kiosk", site="demo")
    agent = server.auth("agent", site="demo", counter="1")
    tickets = []
    for channel in ("kiosk", "app", "sms"):
        r = await server.client.post("/v1/sites/demo/tickets", headers=kiosk,
                                     json={"service": "internal", "channel": channel})
        tickets.append(r.json())
    last = tickets[-1]
    est = last["estimate"]
    assert est is not None and est["low_s"] <= est["wait_s"] <= est["high_s"]
    assert est["wait_s"] > 0  # two people ahead at a busy counter: not zero
    ws = server.base.replace("http", "ws") + "/ws"
    async with Client(ws, last["token"]) as phone:
        await phone.subscribe(f"ticket:{last['id']}")
        snap = await phone.next(5)
        assert snap["data"]["estimate"] is not None
    async with Client(ws, server.token("display", site="demo")) as board:
        await board.subscribe("board:demo")
        snap = await board.next(5)
        internal = next(s for s in snap["data"]["services"] if s["id"] == "internal")
        assert internal["waiting"] == 3 and internal["estimate"] is not None
    await server.client.post("/v1/sites/demo/counters/1/call-next", headers=agent)
    await server.client.post("/v1/sites/demo/counters/1/complete", headers=agent)
    await server.client.post(f"/v1/tickets/{tickets[1]['id']}/cancel",
                             headers={"Authorization": f"Bearer {tickets[1]['token']}"})
    body = await _stats(server, lambda b: b["services"].get("internal", {}).get("accuracy"))
    svc = body["services"]["internal"]
    ops = svc["operations"]
    assert ops["tickets"] == 3 and ops["called"] == 1
    assert ops["by_channel"] == {"app": 1, "kiosk": 1, "sms": 1}
    assert ops["abandon_rate"] == round(1 / 3, 4)
    assert svc["accuracy"]["n"] == 1 and "coverage_p10_p90" in svc["accuracy"]
    bad = await server.client.get("/v1/sites/demo/stats?date=yesterday", headers=agent)
    assert bad.status_code == 400 and bad.json()["code"] == "bad_request"
    # Other ISO forms of the same day read the same day log, under its YYYY-MM-DD name.
    day = body["date"]
    y, m, d = (int(x) for x in day.split("-"))
    iy, iw, iwd = datetime.date(y, m, d).isocalendar()
    for alias in (day.replace("-", ""), f"{iy}-W{iw:02d}-{iwd}"):
        r = await server.client.get(f"/v1/sites/demo/stats?date={alias}", headers=agent)
        assert r.status_code == 200 and r.json()["date"] == day
        assert r.json()["services"]["internal"]["operations"]["tickets"] == 3
    # A day with nothing scored: no accuracy to speak of, not a perfect one.
    empty = (await server.client.get("/v1/sites/demo/stats?date=2020-01-01",
                                     headers=agent)).json()
    assert empty["accuracy"]["n"] == 0 and empty["accuracy"]["mae_s"] is None
    assert empty["accuracy"]["p_over"] is None and empty["services"] == {}


async def test_stats_recorded_once_across_processes(server: Server) -> None:
    """Two recorders on one stream (two server processes): every event counted once."""
    from queueing.engine import Engine
    from queueing.store import Store
    from realtime.stats import StatsRecorder, day_records
    kiosk = server.auth("kiosk", site="demo")
    for _ in range(20):
        await server.client.post("/v1/sites/demo/tickets", headers=kiosk,
                                 json={"service": "lab", "channel": "kiosk"})
    from redis.asyncio import Redis
    redis = Redis.from_url(server.settings.redis_url or "")
    try:
        eng = Engine(Store(redis))
        a, b = StatsRecorder(eng), StatsRecorder(eng)
        a.consumer, b.consumer = "a", "b"
        await asyncio.gather(a.run_once(), b.run_once(), a.run_once())
        await asyncio.sleep(1.5)  # the server's own recorder too
        day = (await _stats(server, lambda x: "lab" in x["services"]))["date"]
        recs = [r for r in await day_records(eng, "demo", day) if r["s"] == "lab"]
        assert len(recs) == 20 and len({r["o"] for r in recs}) == 20
    finally:
        await redis.aclose()


async def test_a_ticket_cancelled_after_its_call_is_counted(server: Server) -> None:
    """Called, then cancelled (a text "CANCEL" as the number comes up, a clerk's cancel):
    before, the call had no outcome and the day's figures did not add up (6 issued, 4
    accounted for). Now ``cancelled_after_call``, in the CSV report too, and the counter's
    time with it feeds the service-rate window as a no-show's does."""
    admin = server.auth("admin")
    ids = []
    for _ in range(3):
        r = await server.client.post("/v1/sites/demo/tickets", headers=admin,
                                     json={"service": "internal", "channel": "window"})
        ids.append(r.json()["id"])
    called = await server.client.post("/v1/sites/demo/counters/1/call-next", headers=admin)
    assert called.json()["id"] == ids[0]
    r = await server.client.post(f"/v1/tickets/{ids[0]}/cancel", headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    r = await server.client.post(f"/v1/tickets/{ids[1]}/cancel", headers=admin)  # waiting
    assert r.status_code == 200, r.text
    body = await _stats(server, lambda b: (b["services"].get("internal") or {}).get(
        "operations", {}).get("cancelled_after_call"))
    ops = body["services"]["internal"]["operations"]
    assert (ops["tickets"], ops["called"], ops["cancelled_after_call"]) == (3, 1, 1)
    assert ops["abandon_rate"] == round(1 / 3, 4) and ops["no_show_rate"] == 0
    waiting = 1
    assert ops["tickets"] == (ops["service_s"]["n"] + ops["cancelled_after_call"]
                              + round(ops["abandon_rate"] * ops["tickets"]) + waiting)
    csv = await server.client.get("/v1/sites/demo/report.csv", headers=admin)
    assert csv.status_code == 200, csv.text
    head, *rows = csv.text.strip().splitlines()
    col = head.split(",").index("cancelled_after_call")
    assert [row.split(",")[col] for row in rows if ",internal," in row] == ["1"]
