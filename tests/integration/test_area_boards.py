"""Waiting areas' boards over the hub (``board:{site}:{area}``), with a real Redis and server.

Two gaps closed: a display token minted for one waiting room's TV opened any room's board,
or the whole site's (now it opens its own area's only; another's is refused, ``forbidden``
with a message naming its area); and a quiet room's board reloaded after a busy spell
elsewhere showed no recent calls (the site's last calls were all another room's): an area's
board now gets its own recent calls on (re)connect."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import msgspec
import pytest
import websockets
from redis.asyncio import Redis

from queueing import redisconn
from queueing.demo import demo_site
from queueing.engine import Engine
from queueing.model import SiteConfig
from queueing.store import Store
from realtime.auth import load_secret
from realtime.cli import main
from realtime.hub import area_board  # noqa: F401 - serves board:{site}:{area}
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import ADMIN, Server, running_server

AREAS = [{"id": "wr1", "name": {"zh": "一号候诊区", "en": "Waiting room 1"},
          "counters": ["1", "2", "3"]},
         {"id": "wr2", "name": {"zh": "二号候诊区", "en": "Waiting room 2"},
          "counters": ["4", "5"]}]


@pytest.fixture
async def site(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
               ) -> AsyncIterator[Server]:
    # ``redis`` first: an empty store (another file's waiting tickets would be called here)
    async with running_server(redis_server.url, tmp_path) as s:
        doc = msgspec.to_builtins(demo_site()) | {"areas": AREAS}
        r = await s.client.put("/v1/sites/demo", json=doc, headers=s.auth("admin"))
        assert r.status_code == 200, r.text
        for c in ("1", "4", "5"):
            r = await s.client.post(f"/v1/sites/demo/counters/{c}/open",
                                    headers=s.auth("admin"))
            assert r.status_code == 200, r.text
        yield s


async def call(s: Server, service: str, counter: str) -> str:
    r = await s.client.post("/v1/sites/demo/tickets", headers=s.auth("admin"),
                            json={"service": service, "channel": "kiosk"})
    assert r.status_code == 201, r.text
    number = str(r.json()["number"])
    r = await s.client.post(f"/v1/sites/demo/counters/{counter}/call-next",
                            headers=s.auth("admin"))
    assert r.status_code == 200 and number in r.text, r.text
    for step in ("start", "complete"):  # the counter is free for its next call
        r = await s.client.post(f"/v1/sites/demo/counters/{counter}/{step}",
                                headers=s.auth("admin"))
        assert r.status_code == 200, r.text
    return number


async def subscribe(s: Server, token: str, topic: str) -> dict[str, Any]:
    async with websockets.connect(f"{s.base.replace('http', 'ws')}/ws?token={token}") as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": topic, "id": 1}))
        while True:
            msg: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
            if msg.get("op") in ("snapshot", "error"):
                return msg


async def test_a_quiet_room_gets_its_own_recent_calls_after_a_busy_spell(site: Server) -> None:
    quiet = [await call(site, "internal", "1") for _ in range(3)]
    busy = [await call(site, "pharmacy", "5") for _ in range(25)]  # room 2, more than 20
    token = site.token("display", site="demo")
    whole = await subscribe(site, token, "board:demo")
    assert quiet[-1] not in [r["number"] for r in whole["data"]["recent"]]
    room1 = await subscribe(site, token, "board:demo:wr1")
    assert room1["op"] == "snapshot" and room1["data"]["area"] == "wr1"
    assert [r["number"] for r in room1["data"]["recent"]] == quiet[::-1]
    assert {r["counter"] for r in room1["data"]["recent"]} == {"1"}
    assert all(r["announcement"]["en"].startswith(f"Ticket {r['number']}")
               for r in room1["data"]["recent"])
    assert [c["id"] for c in room1["data"]["counters"]] == ["1", "2", "3"]
    room2 = await subscribe(site, token, "board:demo:wr2")
    assert [r["number"] for r in room2["data"]["recent"]] == busy[::-1][:10]


async def test_an_area_token_opens_its_area_only(site: Server) -> None:
    await call(site, "lab", "4")
    mine = site.token("display", site="demo", area="wr2")
    got = await subscribe(site, mine, "board:demo:wr2")
    assert got["op"] == "snapshot" and [c["id"] for c in got["data"]["counters"]] == ["4", "5"]
    for topic in ("board:demo", "board:demo:wr1"):
        refused = await subscribe(site, mine, topic)
        assert refused["op"] == "error" and refused["code"] == "forbidden", refused
        assert "waiting area wr2" in refused["message"], refused
    # A site-wide display token still opens every board; an unknown area is no topic.
    wide = site.token("display", site="demo")
    assert (await subscribe(site, wide, "board:demo"))["op"] == "snapshot"
    assert (await subscribe(site, wide, "board:demo:wr1"))["op"] == "snapshot"
    gone = await subscribe(site, wide, "board:demo:nowhere")
    assert gone["op"] == "error" and gone["code"] == "unknown_topic", gone


async def test_an_area_board_hears_only_its_counters_live(site: Server) -> None:
    token = site.token("display", site="demo", area="wr1")
    url = f"{site.base.replace('http', 'ws')}/ws?token={token}"
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo:wr1", "id": 1}))
        while json.loads(await asyncio.wait_for(ws.recv(), 5)).get("op") != "snapshot":
            pass
        other = await call(site, "lab", "4")
        mine = await call(site, "internal", "1")
        seen: list[dict[str, Any]] = []
        while not any(m.get("type") == "called" for m in seen):
            seen.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        calls = [m["data"]["number"] for m in seen if m.get("type") == "called"]
        assert calls == [mine] and other not in json.dumps(seen)


async def test_an_admin_mints_an_area_display_token_over_http(site: Server) -> None:
    c = site.client
    r = await c.post("/v1/tokens", headers=site.auth("admin"), json={
        "role": "display", "site": "demo", "area": "wr1", "subject": "demo-board-wr1"})
    assert r.status_code == 201, r.text
    minted = r.json()
    assert minted["link"] == f"/board/demo?area=wr1&token={minted['token']}"
    got = await subscribe(site, minted["token"], "board:demo:wr2")
    assert got["op"] == "error" and got["code"] == "forbidden"
    assert (await c.get(minted["link"])).status_code == 200
    for body, field in (({"role": "display", "site": "demo", "area": "wr9"}, "area"),
                        ({"role": "kiosk", "site": "demo", "area": "wr1"}, "area")):
        r = await c.post("/v1/tokens", headers=site.auth("admin"),
                         json=body | {"subject": "x"})
        assert r.status_code == 400 and r.json()["details"]["field"] == field, r.text


def test_the_cli_mints_an_area_display_token(
        redis_server: EmbeddedRedis, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_SECRET", raising=False)

    async def put() -> None:
        redis = redisconn.connect(redis_server.url)
        try:
            await redis.flushall()
            cfg = msgspec.convert(msgspec.to_builtins(demo_site()) | {"areas": AREAS},
                                  SiteConfig)
            await Engine(Store(redis)).put_site("demo", cfg, ADMIN)
        finally:
            await redis.aclose()
    asyncio.run(put())
    load_secret(None, tmp_path)
    base = ["--data-dir", str(tmp_path), "--redis-url", redis_server.url]
    assert main(["token", "display", "--site", "demo", "--area", "wr2", *base]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert (claims["site"], claims["area"], claims["sub"]) == ("demo", "wr2", "display:demo:wr2")
    assert main(["token", "display", "--site", "demo", "--area", "wr7", *base]) == 2
    assert "has no waiting area 'wr7'" in capsys.readouterr().err
    assert main(["token", "kiosk", "--site", "demo", "--area", "wr1", *base]) == 2
    assert "only a display token" in capsys.readouterr().err


async def test_an_area_board_leaves_out_calls_a_day_close_took_off(site: Server) -> None:
    await call(site, "internal", "1")  # yesterday's, in room 1
    r = await site.client.post("/v1/sites/demo/close-day", headers=site.auth("admin"),
                               json={})
    assert r.status_code == 200, r.text
    for c in ("1", "4", "5"):  # the day close closed the counters
        await site.client.post(f"/v1/sites/demo/counters/{c}/open", headers=site.auth("admin"))
    today = await call(site, "internal", "1")
    for _ in range(21):
        await call(site, "pharmacy", "5")
    room1 = await subscribe(site, site.token("display", site="demo"), "board:demo:wr1")
    assert [r["number"] for r in room1["data"]["recent"]] == [today]
