"""A site changed while pages are open (`PUT /v1/sites/{site}`): every queue topic tells its
pages what the site now is (a `site` message with the public site document), live, on a
resume, and in snapshots of the staff topics. A government centre's reviewer moved window w10
from social security and residence permits to vehicle registration: the open console went on
listing the old queues and "call next" called a vehicle ticket it never showed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server, running_server


def names(en: str, zh: str) -> dict[str, str]:
    return {"en": en, "zh": zh}


SERVICES = [{"id": "ss", "name": names("Social security", "社保"), "prefix": "S"},
            {"id": "rp", "name": names("Residence permits", "居住证"), "prefix": "R"},
            {"id": "vr", "name": names("Vehicle registration", "车辆登记"), "prefix": "V"}]


def gov_site(w10: list[str], services: list[dict[str, Any]] = SERVICES,
             w12: bool = True) -> dict[str, Any]:
    counters = [{"id": "w10", "name": names("Window 10", "10号窗口"), "services": w10},
                {"id": "w11", "name": names("Window 11", "11号窗口"), "services": ["ss", "rp"]}]
    if w12:
        counters.append({"id": "w12", "name": names("Window 12", "12号窗口"),
                         "services": ["vr"]})
    return {"name": names("Service centre", "政务服务中心"), "timezone": "Asia/Shanghai",
            "languages": ["zh", "en"], "services": services, "counters": counters}


@pytest.fixture
async def gov(redis_server: EmbeddedRedis, tmp_path: Path) -> AsyncIterator[Server]:
    async with running_server(redis_server.url, tmp_path) as s:
        r = await s.client.put("/v1/sites/gov", json=gov_site(["ss", "rp"]),
                               headers=s.auth("admin"))
        assert r.status_code == 200, r.text
        for c in ("w10", "w11", "w12"):
            r = await s.client.post(f"/v1/sites/gov/counters/{c}/open", headers=s.auth("admin"))
            assert r.status_code == 200, r.text
        yield s


def ws_url(s: Server, token: str) -> str:
    return f"{s.base.replace('http', 'ws')}/ws?token={token}"


async def recv(ws: Any, wait_s: float = 5.0) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), wait_s))
    return out


async def until(ws: Any, pred: Any, wait_s: float = 5.0) -> dict[str, Any]:
    """The first message matching ``pred`` (others are skipped)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + wait_s
    while True:
        msg = await recv(ws, max(0.05, end - loop.time()))
        if pred(msg):
            return msg


async def subscribe(ws: Any, topic: str, since: dict[str, str] | None = None
                    ) -> dict[str, Any]:
    req: dict[str, Any] = {"op": "subscribe", "topic": topic, "id": 1}
    if since:
        req["since"] = since
    await ws.send(json.dumps(req))
    return await recv(ws)


def is_site(msg: dict[str, Any]) -> bool:
    return msg.get("op") == "event" and msg.get("type") == "site"


async def put(s: Server, doc: dict[str, Any]) -> None:
    r = await s.client.put("/v1/sites/gov", json=doc, headers=s.auth("admin"))
    assert r.status_code == 200, r.text


async def test_a_console_and_the_board_hear_the_new_services_live(gov: Server) -> None:
    agent = gov.token("agent", site="gov", counter="w10")
    async with websockets.connect(ws_url(gov, agent)) as ws:
        snap = await subscribe(ws, "counter:gov:w10")
        assert snap["op"] == "snapshot", snap
        # The snapshot carries the site as it is (a resync after a gap learns it too).
        assert snap["data"]["site"]["counters"][0] == {
            "id": "w10", "name": names("Window 10", "10号窗口"), "services": ["ss", "rp"]}
        assert set(snap["data"]["waiting"]) == {"ss", "rp"}
        board = await subscribe(ws, "board:gov")
        assert board["op"] == "snapshot"
        await put(gov, gov_site(["vr"]))
        got = {m["topic"]: m for m in [await until(ws, is_site), await until(ws, is_site)]}
        c = got["counter:gov:w10"]["data"]
        assert [x["services"] for x in c["site"]["counters"] if x["id"] == "w10"] == [["vr"]]
        assert set(c["waiting"]) == {"vr"} and "removed" not in c
        # Never more than the boot gave any screen of the site: no policy, no classes.
        assert set(c["site"]) == {"id", "name", "languages", "timezone", "announce_ttl_s",
                                  "services", "counters", "areas", "vocabulary"}
        b = got["board:gov"]["data"]
        assert [x["id"] for x in b["counters"]] == ["w10", "w11", "w12"]
        assert set(b["waiting"]) == {"ss", "rp", "vr"}
        assert b["site"] == c["site"]


async def test_a_removed_counter_is_told_so_live_and_on_resume(gov: Server) -> None:
    agent = gov.token("agent", site="gov", counter="w12")
    async with websockets.connect(ws_url(gov, agent)) as ws:
        snap = await subscribe(ws, "counter:gov:w12")
        await put(gov, gov_site(["ss", "rp"], w12=False))
        # Closed first (it was open), then the site without it.
        closed = await until(ws, lambda m: m.get("type") == "counter_closed")
        assert closed["topic"] == "counter:gov:w12"
        msg = await until(ws, is_site)
        assert msg["data"]["removed"] is True and msg["data"]["ticket"] is None
        assert all(x["id"] != "w12" for x in msg["data"]["site"]["counters"])
    # A console that was away while it happened hears it on its resume.
    await put(gov, gov_site(["ss", "rp"]))  # back, then gone again while away
    async with websockets.connect(ws_url(gov, agent)) as ws:
        snap = await subscribe(ws, "counter:gov:w12")
        since = {"epoch": snap["epoch"], "offset": snap["offset"]}
    await put(gov, gov_site(["ss", "rp"], w12=False))
    async with websockets.connect(ws_url(gov, agent)) as ws:
        msg = await subscribe(ws, "counter:gov:w12", since)
        assert (msg["op"], msg["type"], msg["data"]["removed"]) == ("event", "site", True), msg
        # A fresh subscription to a counter the site no longer has: unknown_topic.
        await ws.send(json.dumps({"op": "subscribe", "topic": "counter:gov:w12", "id": 2}))
        err = await recv(ws)
        assert (err["op"], err["code"]) == ("error", "unknown_topic"), err


async def test_a_resume_replays_each_change_and_ends_with_the_site_as_it_is(
        gov: Server) -> None:
    agent = gov.token("agent", site="gov", counter="w10")
    sup = gov.token("supervisor", site="gov")
    async with websockets.connect(ws_url(gov, agent)) as ws:
        snap = await subscribe(ws, "counter:gov:w10")
        c_since = {"epoch": snap["epoch"], "offset": snap["offset"]}
    async with websockets.connect(ws_url(gov, sup)) as ws:
        snap = await subscribe(ws, "board:gov")
        b_since = {"epoch": snap["epoch"], "offset": snap["offset"]}
    await put(gov, gov_site(["vr"]))
    renamed = [dict(s, name=names("Vehicles", "车辆")) if s["id"] == "vr" else s
               for s in SERVICES]
    await put(gov, gov_site(["vr", "rp"], renamed))
    async with websockets.connect(ws_url(gov, agent)) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": "counter:gov:w10",
                                  "since": c_since}))
        first, last = await recv(ws), await recv(ws)
        assert (first["type"], last["type"]) == ("site", "site")
        assert first["data"]["site"]["counters"][0]["services"] == ["vr"]
        assert last["data"]["site"]["counters"][0]["services"] == ["vr", "rp"]
        # The last replayed message carries the counter's state as it is now.
        assert set(last["data"]["waiting"]) == {"vr", "rp"}
        assert await quiet(ws)
    async with websockets.connect(ws_url(gov, sup)) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:gov", "since": b_since}))
        msgs = [await recv(ws), await recv(ws)]
        assert [m["type"] for m in msgs] == ["site", "site"]
        assert msgs[-1]["data"]["site"]["services"][2]["name"] == names("Vehicles", "车辆")
        assert [c["id"] for c in msgs[-1]["data"]["counters"]] == ["w10", "w11", "w12"]


async def quiet(ws: Any, wait_s: float = 0.3) -> bool:
    try:
        await asyncio.wait_for(ws.recv(), wait_s)
    except TimeoutError:
        return True
    return False


async def test_a_console_reads_the_name_of_the_person_it_serves_and_not_once_erased(
        gov: Server) -> None:
    """docs/privacy.md: the agents of the site read a ticket's name in the console. Only the
    counter's own topic carries it (service lists go to supervisors, boards to everyone);
    erased, it leaves the console at once."""
    agent = gov.auth("agent", site="gov", counter="w11")
    r = await gov.client.post("/v1/sites/gov/tickets", headers=agent, json={
        "service": "ss", "channel": "window", "customer": "أحمد 张三"})
    assert r.status_code == 201, r.text
    t = r.json()
    token = gov.token("agent", site="gov", counter="w11")
    async with websockets.connect(ws_url(gov, token)) as ws:
        svc = await subscribe(ws, "service:gov:ss")
        assert "customer" not in svc["data"]["tickets"][0]
        await subscribe(ws, "counter:gov:w11")
        r = await gov.client.post("/v1/sites/gov/counters/w11/call-next", headers=agent)
        assert r.status_code == 200, r.text
        called = await until(ws, lambda m: m.get("type") == "called")
        assert called["data"]["ticket"]["customer"] == "أحمد 张三"
        r = await gov.client.post("/v1/sites/gov/erase", headers=gov.auth("admin"),
                                  json={"ticket": t["id"]})
        assert r.status_code == 200, r.text
        msg = await until(ws, lambda m: m.get("topic") == "counter:gov:w11"
                          and m.get("type") == "waiting")
        assert msg["data"]["ticket"]["id"] == t["id"]
        assert "customer" not in msg["data"]["ticket"]
    async with websockets.connect(ws_url(gov, gov.token("display", site="gov"))) as ws:
        board = await subscribe(ws, "board:gov")
        assert "أحمد" not in json.dumps(board, ensure_ascii=False)
