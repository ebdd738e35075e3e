"""The supervisor role: reads one site (board, queues, stats, the floor overview) and changes
nothing; `switchboard token supervisor --site S` mints it for 30 days like other staff."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import websockets
from redis.asyncio import Redis

from queueing import keys
from realtime.auth import make_token
from tests.integration.conftest import SECRET, Server


async def test_a_supervisor_reads_the_site_and_changes_nothing(server: Server,
                                                               redis: Redis) -> None:
    c = server.client
    sup = server.auth("supervisor", site="demo")
    t = (await c.post("/v1/sites/demo/tickets", json={"service": "lab", "channel": "kiosk"},
                      headers=server.auth("kiosk", site="demo"))).json()
    for path, params in (("/v1/sites/demo", {}), ("/v1/sites/demo/stats", {}),
                         ("/v1/sites/demo/services/lab/queue", {}),
                         ("/v1/sites/demo/tickets", {"number": t["number"]})):
        r = await c.get(path, params=params, headers=sup)
        assert r.status_code == 200, (path, r.text)
    events = await redis.xlen(keys.events("demo"))
    for path, body in (("/v1/sites/demo/tickets", {"service": "lab", "channel": "window"}),
                       ("/v1/sites/demo/counters/4/call-next", {}),
                       ("/v1/sites/demo/counters/4/close", {}),
                       (f"/v1/tickets/{t['id']}/transfer", {"service": "internal"}),
                       (f"/v1/tickets/{t['id']}/cancel", {}),
                       ("/v1/sites/demo/close-day", {})):
        r = await c.post(path, json=body, headers=sup)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), (path, r.text)
    assert await redis.xlen(keys.events("demo")) == events
    # Another site's supervisor sees nothing here.
    r = await c.get("/v1/sites/demo/stats", headers=server.auth("supervisor", site="other"))
    assert r.status_code == 403
    # Live: the board and the service lists, not a counter's console topic.
    url = (f"{server.base.replace('http', 'ws')}/ws?token="
           f"{server.token('supervisor', site='demo')}")
    async with websockets.connect(url) as ws:
        for i, topic in enumerate(("board:demo", "service:demo:lab", "counter:demo:4")):
            await ws.send(json.dumps({"op": "subscribe", "topic": topic, "id": i}))
            msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if topic.startswith("counter"):
                assert (msg["op"], msg["code"]) == ("error", "forbidden"), msg
            else:
                assert msg["op"] == "snapshot", msg


def test_supervisor_tokens_need_a_site_and_last_like_staff_tokens() -> None:
    with pytest.raises(ValueError, match="needs --site"):
        make_token(SECRET, "supervisor")
    from realtime.cli import STAFF_ROLES
    assert "supervisor" in STAFF_ROLES


async def test_the_day_report_as_csv(server: Server) -> None:
    """A spreadsheet of the day log: one row per day and service, from the same records as
    /stats; a supervisor or agent may download it, for at most the 31 days kept."""
    import csv
    import io
    import time

    c = server.client
    agent = server.auth("agent", site="demo", counter="4")
    for _ in range(3):
        await c.post("/v1/sites/demo/tickets", json={"service": "lab", "channel": "kiosk"},
                     headers=server.auth("kiosk", site="demo"))
    await c.post("/v1/sites/demo/counters/4/call-next", headers=agent)
    await c.post("/v1/sites/demo/counters/4/complete", headers=agent)
    sup = server.auth("supervisor", site="demo")
    deadline = time.monotonic() + 15
    while True:  # the stats recorder appends the day log within a second or so
        r = await c.get("/v1/sites/demo/report.csv", headers=sup)
        assert r.status_code == 200, r.text
        rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
        lab = [row for row in rows if row["service"] == "lab"]
        if (lab and lab[-1]["served"] == "1") or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.3)
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="switchboard-demo-' in r.headers["content-disposition"]
    today = (await c.get("/v1/sites/demo/stats", headers=sup)).json()["date"]
    [row] = [x for x in lab if x["date"] == today]
    assert (row["tickets"], row["called"], row["served"]) == ("3", "1", "1")
    assert float(row["wait_mean_s"]) >= 0 and row["abandon_rate"] == "0.0"
    for params, headers, status in (
        ({"from": "2026-12-05", "to": "2026-12-01"}, sup, 400),
        ({"from": "2026-01-01", "to": "2026-12-01"}, sup, 400),
        ({"from": "yesterday"}, sup, 400),
        ({}, server.auth("kiosk", site="demo"), 403),
        ({}, server.auth("display", site="demo"), 403),
    ):
        r = await c.get("/v1/sites/demo/report.csv", params=params, headers=headers)
        assert r.status_code == status, (params, r.text)


async def test_report_dates_far_off_are_refused_not_500(server: Server) -> None:
    sup = server.auth("supervisor", site="demo")
    for params in ({"to": "0001-01-01"}, {"to": "9999-12-31"},
                   {"from": "9999-12-31", "to": "9999-12-31"}, {"from": "0001-01-01"}):
        r = await server.client.get("/v1/sites/demo/report.csv", params=params, headers=sup)
        assert (r.status_code, r.json()["code"]) == (400, "bad_request"), (params, r.text)
    r = await server.client.get("/v1/sites/demo/report.csv", params={"to": "31-12-2026"},
                                headers=sup)
    assert r.json()["details"]["field"] == "to"


def test_a_supervisor_token_needs_its_own_subject(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Revoked by subject when a laptop is lost: one default subject would revoke them all."""
    from realtime.cli import main
    assert main(["token", "supervisor", "--site", "demo", "--data-dir", str(tmp_path)]) == 2
    assert "--subject" in capsys.readouterr().err
