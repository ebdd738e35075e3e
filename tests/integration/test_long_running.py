"""What the soak test (loadtest/soak.py) found a server left behind over a long day, each
fixed and held here with a real server and Redis: the event stream of a site nobody watches
is trimmed; the rest of a body answered before it was read is not the next request's
headers; and the hub's tables go back to nothing when the clients have gone."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from redis.asyncio import Redis

from queueing import keys
from queueing.demo import demo_site
from realtime.hub import hub as hub_module
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server, running_server


async def test_stream_of_a_site_nobody_watches_is_trimmed(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    # Only a feed's trim ran, and a process has a feed only while someone watches the site
    # or after it issued a ticket there: a site taking appointments online (no ticket, no
    # screen; weeks of bookings before it opens) kept every event for ever.
    from datetime import UTC, datetime, timedelta

    import msgspec

    from loadtest.rush import schedule
    async with running_server(redis_server.url, tmp_path, trim_interval_s=1,
                              history_ttl_s=1, history_min_entries=5) as s:
        admin = s.auth("admin")
        r = await s.client.put("/v1/sites/quiet", content=msgspec.json.encode(demo_site()),
                               headers=admin)
        assert r.status_code == 200, r.text
        r = await s.client.put("/v1/sites/quiet/booking", headers=admin, json={
            **schedule(30), "templates": [{**t, "service": "internal"}
                                          for t in schedule(30)["templates"]],
            "resources": [{**x, "services": ["internal"]} for x in schedule(30)["resources"]]})
        assert r.status_code == 200, r.text
        day = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
        r = await s.client.get("/v1/sites/quiet/availability", headers=admin,
                               params={"service": "internal", "date": day})
        body = r.json()
        slots = [row["slot"] for row in (body if isinstance(body, list) else body["slots"])]
        kiosk = s.auth("kiosk", site="quiet")
        for i, slot in enumerate(slots[:20]):
            r = await s.client.post("/v1/sites/quiet/bookings", headers=kiosk, json={
                "slot": slot, "customer": f"p{i}", "channel": "kiosk"})
            assert r.status_code == 201, r.text
        stream = keys.events("quiet")
        assert await redis.xlen(stream) >= 20
        for _ in range(40):  # the janitor runs each second
            if await redis.xlen(stream) <= 5:
                break
            await asyncio.sleep(0.2)
        assert await redis.xlen(stream) == 5
        assert await redis.get(keys.prefix("quiet") + "trimmed") is not None


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    return int(head[9:12]), await asyncio.wait_for(reader.readexactly(length), 5)


async def test_rest_of_an_unread_body_is_not_the_next_requests_headers(
        server: Server) -> None:
    # A 200 KB site document with a bad token is answered 401 before its body is read;
    # uvicorn drops the rest of the body as it comes. Those bytes were counted as the next
    # request's headers: past 64 KiB, the next request on the connection got 431.
    reader, writer = await asyncio.open_connection("127.0.0.1", server.settings.port)
    body = b'{"name": "' + b"x" * 200_000 + b'"}'
    writer.write(b"PUT /v1/sites/big HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Authorization: Bearer not-a-token\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body[:1000])
    await writer.drain()
    status, _ = await _response(reader)
    assert status == 401
    writer.write(body[1000:])
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await writer.drain()
    status, answer = await _response(reader)
    assert status == 200, answer
    writer.close()


async def test_hub_tables_empty_after_clients_leave(server: Server, monkeypatch: object
                                                   ) -> None:
    # The hub's census (switchboard_hub_table_entries) follows the clients: every board,
    # phone and dropped socket gone, nothing of theirs stays in the tables.
    import websockets
    hub_module.CENSUS_EVERY_S = 1
    try:
        r = await server.client.post("/v1/sites/demo/tickets", headers=server.auth(
            "kiosk", site="demo"), json={"service": "internal", "channel": "kiosk"})
        ticket = r.json()
        url = server.base.replace("http", "ws") + "/ws"
        display = server.token("display", site="demo")
        socks = []
        for token, topic in ((display, "board:demo"), (ticket["token"],
                                                      f"ticket:{ticket['id']}")):
            ws = await websockets.connect(f"{url}?token={token}",
                                          subprotocols=["switchboard.v1.json"])  # type: ignore[list-item]
            await ws.send(f'{{"op": "subscribe", "topic": "{topic}"}}')
            await asyncio.wait_for(ws.recv(), 5)
            socks.append(ws)
        busy = await _tables(server.client, lambda t: t.get("subscribers") == 2)
        assert busy["connections"] == 2 and busy["tracked_tickets"] == 1, busy
        await socks[0].close()
        socks[1].transport.abort()  # dropped, no close frame
        idle = await _tables(server.client, lambda t: t.get("connections") == 0)
        for table in ("connections", "subscribers", "topics", "topic_state",
                      "tracked_tickets"):
            assert idle[table] == 0, idle
    finally:
        hub_module.CENSUS_EVERY_S = 5


async def _tables(client: httpx.AsyncClient, done: object) -> dict[str, float]:
    deadline = time.monotonic() + 10
    tables: dict[str, float] = {}
    while time.monotonic() < deadline:
        text = (await client.get("/metrics")).text
        tables = {line.split('"')[1]: float(line.rsplit(" ", 1)[1])
                  for line in text.splitlines()
                  if line.startswith("switchboard_hub_table_entries{")}
        if done(tables):  # type: ignore[operator]
            return tables
        await asyncio.sleep(0.2)
    raise AssertionError(f"hub tables never got there: {tables}")
