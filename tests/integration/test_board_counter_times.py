"""The board topic says since when each counter is in its state and since when an open one
stands free (``since``, ``free_since``), and how many of each service's tickets are set
aside (``parked``): the floor overview times its cards and shows parked people from these.
Before, it scanned the day's audit trail once per counter on every load, and a parked
person appeared nowhere on it. Real server, real websocket."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from clients.client import Client
from realtime.auth import make_token
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import SECRET, _demo_json, running_server


def _ms(iso: str | None) -> float:
    assert iso is not None
    return datetime.fromisoformat(iso).timestamp() * 1000


async def test_board_counters_carry_since_and_services_carry_parked(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with running_server(redis_server.url, tmp_path) as s:
        admin = s.auth("admin")
        r = await s.client.put("/v1/sites/demo", content=_demo_json(), headers=admin)
        assert r.status_code == 200, r.text

        async def op(what: str) -> Any:
            r = await s.client.post(f"/v1/sites/demo/counters/3/{what}", headers=admin)
            assert r.status_code == 200, r.text
            return r.json()

        await op("open")
        for _ in range(2):
            r = await s.client.post("/v1/sites/demo/tickets", headers=admin,
                                    json={"service": "paediatrics", "channel": "kiosk"})
            assert r.status_code == 201, r.text
        await op("call-next")
        board = Client(s.base.replace("http", "ws") + "/ws",
                       make_token(SECRET, "display", site="demo"))
        async with board:
            await board.subscribe("board:demo")
            snap = (await board.next(10))["data"]
            c3 = next(c for c in snap["counters"] if c["id"] == "3")
            assert c3["state"] == "open" and c3["since"] and c3["free_since"] is None  # busy
            # Called, not started: "serving for" has no start yet (it was timed from the call).
            assert c3["current"]["at"] and c3["current"]["started"] is None
            await op("start")
            msg = await board.next(10)
            while msg.get("type") != "counter":
                msg = await board.next(10)
            cur = msg["data"]["counter"]["current"]
            assert cur["status"] == "serving" and _ms(cur["started"]) >= _ms(cur["at"])
            closed = next(c for c in snap["counters"] if c["id"] == "1")
            assert closed["state"] == "closed" and closed["free_since"] is None
            paed = next(x for x in snap["services"] if x["id"] == "paediatrics")
            assert (paed["waiting"], paed["parked"]) == (1, 0)
            await op("park")
            msg = await board.next(10)
            while msg.get("type") != "counter":
                msg = await board.next(10)
            c3 = msg["data"]["counter"]
            assert c3["id"] == "3" and c3["current"] is None
            assert _ms(c3["free_since"]) >= _ms(c3["since"])  # free since the park
            assert msg["data"]["waiting"]["paediatrics"]["parked"] == 1
