"""A security review's findings, attacked over real sockets: what a public kiosk token (it is
in the kiosk page's URL), a patient's booking token or a slow client could do."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
from redis.asyncio import Redis

from queueing import keys
from queueing.demo import demo_site
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server, running_server
from tests.integration.test_booking_http import TZ, next_lab_slot, rush_schedule, today
from tests.integration.test_booking_support import sid

TICKET = {"service": "internal", "channel": "kiosk"}


@contextlib.asynccontextmanager
async def demo_server(redis_server: EmbeddedRedis, tmp_path: Path, booking: bool = False,
                      **overrides: Any) -> AsyncIterator[Server]:
    async with running_server(redis_server.url, tmp_path, **overrides) as s:
        admin = s.auth("admin")
        r = await s.client.put("/v1/sites/demo", content=msgspec.json.encode(demo_site()),
                               headers=admin)
        assert r.status_code == 200, r.text
        if booking:
            r = await s.client.put("/v1/sites/demo/booking", headers=admin,
                                   content=msgspec.json.encode(rush_schedule()))
            assert r.status_code == 200, r.text
        yield s


async def from_another_address(s: Server, path: str, body: Any,
                               headers: dict[str, str]) -> Any:
    """POST from 127.0.0.2: another kiosk of the hall, as the server sees it."""
    import httpx
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(base_url=s.base, transport=transport) as other:
        return await other.post(path, json=body, headers=headers)


async def waiting(redis: Redis, service: str = "internal") -> int:
    return int(await redis.zcard(keys.prefix("demo") + f"q:{service}"))


# -- a kiosk token cannot flood the queue -------------------------------------------------

async def test_a_kiosk_token_cannot_issue_thousands_of_tickets(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Found: one kiosk token (read off the kiosk page's URL) issued 1,000 tickets in 4.7 s,
    and would have gone on. Now its tickets are limited per token subject and site; past
    the burst the answer is 429 rate_limited with Retry-After, and nothing is issued."""
    async with demo_server(redis_server, tmp_path) as s:
        kiosk = s.auth("kiosk", site="demo")
        began = time.monotonic()
        answers = await asyncio.gather(*(s.client.post("/v1/sites/demo/tickets", json=TICKET,
                                                       headers=kiosk) for _ in range(100)))
        # The default burst 60, then 1 a second (60 a minute) refills while the 100 run: a
        # loaded machine takes seconds for them, and each one lets one more through.
        refilled = math.ceil(time.monotonic() - began) + 1
        codes = [r.status_code for r in answers]
        assert codes.count(201) <= 60 + refilled, (refilled, codes)
        assert codes.count(429) == 100 - codes.count(201), codes
        refused = next(r for r in answers if r.status_code == 429)
        body = refused.json()
        assert body["code"] == "rate_limited" and body["temporary"] is True
        assert int(refused.headers["retry-after"]) >= 1
        assert body["details"]["retry_after_s"] == int(refused.headers["retry-after"])
        assert await waiting(redis) == codes.count(201)
        # Another kiosk (its own subject) and the counters' staff are not held back.
        other = await s.client.post("/v1/sites/demo/tickets", json=TICKET,
                                    headers=s.auth("kiosk", site="demo", subject="kiosk-2"))
        assert other.status_code == 201, other.text
        # Nor the same token on another kiosk (another address): one holder of a shared
        # kiosk token cannot lock the whole hall out by spending the budget.
        assert (await from_another_address(s, "/v1/sites/demo/tickets", TICKET,
                                           kiosk)).status_code == 201
        agent = s.auth("agent", site="demo", counter="1")
        for _ in range(70):
            r = await s.client.post("/v1/sites/demo/tickets", headers=agent,
                                    json={"service": "internal", "channel": "window"})
            assert r.status_code == 201, r.text


async def test_the_kiosk_budget_refills_and_is_configurable(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with demo_server(redis_server, tmp_path, kiosk_rate_per_min=600,
                           kiosk_rate_burst=3) as s:
        kiosk = s.auth("kiosk", site="demo", subject="hall-a")
        codes = [(await s.client.post("/v1/sites/demo/tickets", json=TICKET,
                                      headers=kiosk)).status_code for _ in range(4)]
        assert codes == [201, 201, 201, 429]
        await asyncio.sleep(0.25)  # 600 a minute: one more every 0.1 s
        r = await s.client.post("/v1/sites/demo/tickets", json=TICKET, headers=kiosk)
        assert r.status_code == 201, r.text
    # 0 turns the limit off (a load test's own server).
    async with demo_server(redis_server, tmp_path, kiosk_rate_per_min=0) as s:
        kiosk = s.auth("kiosk", site="demo", subject="loadtest")
        answers = await asyncio.gather(*(s.client.post("/v1/sites/demo/tickets", json=TICKET,
                                                       headers=kiosk) for _ in range(80)))
        assert {r.status_code for r in answers} == {201}


async def test_a_kiosk_token_cannot_book_every_slot(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with demo_server(redis_server, tmp_path, booking=True, kiosk_rate_per_min=60,
                           kiosk_rate_burst=5) as s:
        kiosk = s.auth("kiosk", site="demo")
        codes = []
        for i in range(8):
            r = await s.client.post("/v1/sites/demo/bookings", headers=kiosk, json={
                "slot": sid("r1", 1, f"{9 + i // 2:02d}:{30 * (i % 2):02d}", tz=TZ,
                            today=today()), "customer": f"p{i}", "channel": "kiosk"})
            codes.append(r.json().get("code") if r.status_code != 201 else 201)
        assert codes[:5] == [201] * 5 and codes[5:] == ["rate_limited"] * 3, codes


# -- booking codes cannot be guessed from a kiosk ----------------------------------------

async def test_guessing_booking_codes_at_a_kiosk_is_stopped(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Found: booking codes are 6 letters (30 bits) and a kiosk token checked in any code
    at ~200 a second: with a few thousand bookings a day a guess hits within minutes,
    checks a stranger in and names their booking (and, read by id, their customer id).
    Now a caller whose check-in codes keep matching nothing is refused (429) before it
    finds one, even with a right code, until its budget refills."""
    async with demo_server(redis_server, tmp_path, booking=True,
                           checkin_failures_per_min=3) as s:
        c = s.client
        partner = s.auth("partner", site="demo", subject="app")
        b = (await c.post("/v1/sites/demo/bookings", headers=partner, json={
            "slot": next_lab_slot(), "customer": "13800138000", "channel": "app"})).json()
        kiosk = s.auth("kiosk", site="demo", subject="hall-kiosk")
        wrong = [c for c in ("AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD") if c != b["code"]][:3]
        for guess in wrong:
            r = await c.post("/v1/sites/demo/check-in", json={"code": guess}, headers=kiosk)
            assert r.json()["code"] == "unknown_booking", r.text
        hit = await c.post("/v1/sites/demo/check-in", json={"code": b["code"]}, headers=kiosk)
        assert hit.status_code == 429 and hit.json()["code"] == "rate_limited", hit.text
        assert int(hit.headers["retry-after"]) >= 1
        got = await c.get(f"/v1/bookings/{b['id']}", headers=partner)
        assert got.json()["status"] == "confirmed"  # not checked in by the guesser
        # Another kiosk of the hall, with the same token, is not blocked by the guesser.
        ok = await from_another_address(s, "/v1/sites/demo/check-in", {"code": b["code"]},
                                        kiosk)
        assert ok.status_code == 201, ok.text
        ok = await c.post("/v1/sites/demo/check-in", json={"code": b["code"]},
                          headers=s.auth("kiosk", site="demo", subject="kiosk-2"))
        assert ok.status_code == 201, ok.text


async def test_a_booking_token_cannot_probe_other_codes(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """A patient's own booking token checking in other codes learns which exist
    (another's code is ``forbidden``, a made-up one ``unknown_booking``): those count as
    misses too."""
    async with demo_server(redis_server, tmp_path, booking=True,
                           checkin_failures_per_min=2) as s:
        c = s.client
        partner = s.auth("partner", site="demo", subject="app")
        mine, theirs = [(await c.post("/v1/sites/demo/bookings", headers=partner, json={
            "slot": next_lab_slot(), "customer": who, "channel": "app"})).json()
            for who in ("me", "them")]
        own = {"Authorization": f"Bearer {mine['token']}"}
        first = await c.post("/v1/sites/demo/check-in", json={"code": theirs["code"]},
                             headers=own)
        assert first.json()["code"] == "forbidden"
        second = await c.post("/v1/sites/demo/check-in", json={"code": "ZZZZZZ"}, headers=own)
        assert second.json()["code"] in ("unknown_booking", "forbidden")
        third = await c.post("/v1/sites/demo/check-in", json={"code": theirs["code"]},
                             headers=own)
        assert third.status_code == 429 and third.json()["code"] == "rate_limited"


# -- slow clients cannot hold connections for ever (slowloris) ---------------------------

async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    """What the server sends before it closes the connection (b"" if nothing)."""
    out = b""
    async with asyncio.timeout(seconds):
        while chunk := await reader.read(4096):
            out += chunk
    return out


async def test_a_silent_or_trickling_client_is_disconnected(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Found: a connection that sent nothing, or one header line every few seconds, stayed
    open for as long as the client liked (40 s and counting): a few thousand of them use up
    the server's file descriptors and every screen of the building with them."""
    async with demo_server(redis_server, tmp_path, http_read_timeout_s=1) as s:
        port = int(s.base.rsplit(":", 1)[1])
        silent_r, silent_w = await asyncio.open_connection("127.0.0.1", port)
        trickle_r, trickle_w = await asyncio.open_connection("127.0.0.1", port)
        trickle_w.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")

        async def trickle() -> None:
            for i in range(40):
                await asyncio.sleep(0.2)
                if trickle_w.is_closing():
                    return
                trickle_w.write(b"X-Slow-%d: 1\r\n" % i)
                with contextlib.suppress(ConnectionError):
                    await trickle_w.drain()

        feeder = asyncio.create_task(trickle())
        t0 = asyncio.get_running_loop().time()
        assert await _closed_within(silent_r, 4) == b""
        assert await _closed_within(trickle_r, 4) == b""
        assert asyncio.get_running_loop().time() - t0 < 4
        feeder.cancel()
        for w in (silent_w, trickle_w):
            w.close()
        # A prompt client on a kept-alive connection is served as before.
        r = await s.client.get("/healthz")
        assert r.status_code == 200


async def test_a_trickled_body_gets_408(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with demo_server(redis_server, tmp_path, http_read_timeout_s=1) as s:
        port = int(s.base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        token = s.token("kiosk", site="demo")
        writer.write(b"POST /v1/sites/demo/tickets HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + token.encode() +
                     b"\r\nContent-Length: 200\r\n\r\n{")
        await writer.drain()
        answer = await _closed_within(reader, 5)
        writer.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer
        assert msgspec.json.decode(body)["code"] == "request_timeout"
        assert await waiting(redis) == 0


async def test_a_websocket_outlives_the_read_timeout(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Boards hold their websocket for hours: the deadline is for a request's headers."""
    from websockets.asyncio.client import connect
    async with demo_server(redis_server, tmp_path, http_read_timeout_s=1) as s:
        url = s.base.replace("http", "ws") + "/ws?token=" + s.token("display", site="demo")
        async with connect(url) as ws:
            await asyncio.sleep(2.5)
            await ws.send('{"op": "ping", "id": 7}')
            assert msgspec.json.decode(await asyncio.wait_for(ws.recv(), 5)) == {
                "op": "pong", "id": 7}


# -- the data folder is private ------------------------------------------------------------

async def test_the_data_folder_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """Found: the data folder was 0755 and Redis's append-only files in it 0644: any local
    account of the server read every patient's name, phone number and booking code (and the
    whole event log). The folder is now 0700 (tightened if it existed), so nothing under it
    is reachable by other accounts whatever the files' own modes."""
    import stat

    fresh, existing = tmp_path / "fresh", tmp_path / "existing"
    existing.mkdir(mode=0o755)
    existing.chmod(0o755)
    for folder in (fresh, existing):
        embedded = EmbeddedRedis(folder)
        embedded.start()
        try:
            client = Redis.from_url(embedded.url)
            await client.set("patient", "13800138000")
            await client.aclose()
            mode = stat.S_IMODE(folder.stat().st_mode)
            assert mode & 0o077 == 0, oct(mode)
            assert any(folder.rglob("*.aof"))  # the append-only files are inside it
        finally:
            embedded.stop()


def test_a_generated_secret_lives_in_a_private_folder(tmp_path: Path) -> None:
    import stat

    from realtime.auth import load_secret
    folder = tmp_path / "data"
    load_secret(None, folder)
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE((folder / "secret").stat().st_mode) == 0o600


# -- a public kiosk token cannot take the places held for the window ------------------------

async def test_a_kiosk_token_cannot_book_or_check_in_as_the_window(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Found: a kiosk token — public, also used by apps and SMS gateways — booked through
    the ``window`` channel, so it took the places a site holds for people at the window
    and on the phone (the quota; a scalper's bot needs nothing more). Tickets were fixed
    the same way before (self-service channels only); bookings and check-ins now too."""
    from tests.integration.test_booking_support import snapshot
    async with demo_server(redis_server, tmp_path, booking=True) as s:
        c = s.client
        kiosk = s.auth("kiosk", site="demo")
        slot = sid("r1", 3, "09:00", tz=TZ, today=today())
        before = await snapshot(redis)
        r = await c.post("/v1/sites/demo/bookings", headers=kiosk, json={
            "slot": slot, "customer": "bot-1", "channel": "window"})
        assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text
        assert r.json()["details"]["allowed"] == ["kiosk"]
        assert await snapshot(redis) == before
        # Its own channel still books, and the window's place is left for the window.
        mine = await c.post("/v1/sites/demo/bookings", headers=kiosk, json={
            "slot": next_lab_slot(), "customer": "walk-up", "channel": "kiosk"})
        assert mine.status_code == 201, mine.text
        r = await c.post("/v1/sites/demo/check-in", headers=kiosk,
                         json={"code": mine.json()["code"], "channel": "window"})
        assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text
        r = await c.post("/v1/sites/demo/check-in", headers=kiosk,
                         json={"code": mine.json()["code"]})
        assert r.status_code == 201 and r.json()["channel"] == "kiosk", r.text


# -- pages cannot be framed; static files are not sniffed --------------------------------------

async def test_pages_refuse_framing_and_static_files_are_not_sniffed(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Found: the pages' CSP had no frame-ancestors (another site could frame a counter
    console or the kiosk under its own buttons), and /static/ answered without nosniff and
    served the page templates themselves (/static/counter.html) without the pages' CSP."""
    async with demo_server(redis_server, tmp_path, map_tile_url="https://t.example/{z}/{x}/{y}.png"
                           ) as s:
        c = s.client
        pages = [f"/board/demo?token={s.token('display', site='demo')}",
                 f"/kiosk/demo?token={s.token('kiosk', site='demo')}",
                 f"/counter/demo/1?token={s.token('agent', site='demo', counter='1')}",
                 "/ticket/demo.000000000000?token=x", "/", "/tech/city.t1?token=x"]
        for path in pages:
            r = await c.get(path)
            csp = r.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp, (path, csp)
            assert r.headers["x-frame-options"] == "DENY", path
        for path in ("/static/js/ui.js", "/static/css/base.css", "/static/img/icon.svg"):
            r = await c.get(path)
            assert r.status_code == 200 and r.headers["x-content-type-options"] == "nosniff"
        for name in ("counter", "kiosk", "board", "ticket", "index", "tech", "track", "org"):
            r = await c.get(f"/static/{name}.html")
            assert r.status_code == 404 and r.json()["code"] == "not_found", name


# -- the QR link of a ticket does not put its token into the log ---------------------------

async def test_the_kiosk_qr_request_logs_no_ticket_token(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Found: the kiosk draws a ticket's QR code with ``/qr.svg?data=<tracker link>``, and
    the link's ``?token=`` is URL-encoded in it (``%3Ftoken%3DeyJ…``): the access log kept
    every kiosk ticket's token in clear (whoever reads the log could follow or cancel the
    ticket). Encoded tokens are redacted too."""
    import io
    import logging
    from urllib.parse import quote

    from realtime.logfilter import redact
    assert redact("/qr.svg?data=http%3A%2F%2Fh%2Fticket%2Fd.1%3Ftoken%3DeyJ.a.b%26lang%3Dzh"
                  ) == "/qr.svg?data=http%3A%2F%2Fh%2Fticket%2Fd.1%3Ftoken%3D[redacted]%26lang%3Dzh"
    assert redact("x?data=%253Ftoken%253DeyJ.a.b") == "x?data=%253Ftoken%253D[redacted]"
    async with demo_server(redis_server, tmp_path, log_level="info") as s:
        out = io.StringIO()
        handlers = [h for name in ("uvicorn", "uvicorn.access")
                    for h in logging.getLogger(name).handlers]
        old = [h.setStream(out) for h in handlers]  # type: ignore[attr-defined]
        try:
            t = (await s.client.post("/v1/sites/demo/tickets", json=TICKET,
                                     headers=s.auth("kiosk", site="demo"))).json()
            link = f"{s.base}{t['tracker']}"  # as kiosk.js builds it
            r = await s.client.get(f"/qr.svg?data={quote(link, safe='')}")
            assert r.status_code == 200
        finally:
            for h, stream in zip(handlers, old, strict=True):
                h.setStream(stream)  # type: ignore[attr-defined]
    text = out.getvalue()
    assert "/qr.svg?data=" in text and "%3Ftoken%3D[redacted]" in text, text
    assert t["token"] not in text


# -- an unauthenticated probe learns nothing of the server's insides --------------------------

async def test_readyz_does_not_tell_strangers_where_redis_lives(tmp_path: Path) -> None:
    """Found: /readyz (no token) answered Redis's own error text while Redis was down —
    the unix socket's path (the data folder) or the Redis host and port. It says
    ``unavailable`` now and logs the detail."""
    embedded = EmbeddedRedis(tmp_path / "redis")
    embedded.start()
    try:
        async with demo_server(embedded, tmp_path / "srv") as s:
            embedded.stop()
            r = await s.client.get("/readyz")
            assert r.status_code == 503
            body = r.json()
            assert body["code"] == "unavailable" and body["temporary"] is True
            assert str(tmp_path) not in r.text and "sock" not in r.text, r.text
    finally:
        embedded.stop()


async def test_endless_request_headers_are_cut_off(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Found: uvicorn's httptools protocol sets no limit on a request's headers: one client
    streaming header lines pushed 1 GB into a server process in 2 s (peak RSS 1,152 MB),
    enough to have the OOM killer end the server. Headers (request line included) beyond
    SWITCHBOARD_HTTP_MAX_HEADER_BYTES get 431 headers_too_large and the connection closes;
    a request with an ordinary amount of headers and a body is served as before."""
    async with demo_server(redis_server, tmp_path, http_read_timeout_s=30,
                           http_max_header_bytes=16384) as s:
        port = int(s.base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        line = b"X-Pad: " + b"a" * 4000 + b"\r\n"
        t0 = asyncio.get_running_loop().time()
        with contextlib.suppress(ConnectionError):
            for _ in range(2000):  # 8 MB, unless cut off first
                writer.write(line)
                await writer.drain()
        answer = await _closed_within(reader, 5)
        writer.close()
        assert asyncio.get_running_loop().time() - t0 < 5
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 431"), answer[:200]
        assert msgspec.json.decode(body)["code"] == "headers_too_large"
        # One giant header line (no CRLF at all) is cut off the same way.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nX-Big: ")
        with contextlib.suppress(ConnectionError):
            for _ in range(200):
                writer.write(b"b" * 40000)
                await writer.drain()
        answer = await _closed_within(reader, 5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
        # Headers over the limit that arrive whole, in one write, are refused too (they
        # were served: the count only ran while the headers were still incomplete).
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"c" * 20000
                     + b"\r\n\r\n")
        await writer.drain()
        answer = await _closed_within(reader, 5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
        # The end of the headers split across two reads ("\r\n\r" | "\n" + a big body):
        # the body is not headers (it was counted as such: a large document got 431).
        body = msgspec.json.encode(demo_site()) + b" " * 40000
        head = (b"PUT /v1/sites/demo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                + s.token("admin").encode() + b"\r\nContent-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head[:-1])
        await writer.drain()
        await asyncio.sleep(0.2)  # two reads on the server's side
        writer.write(head[-1:] + body)
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
        assert status.startswith(b"HTTP/1.1 200"), status
        # Under the limit: served, body and all (the body does not count as headers).
        r = await s.client.post("/v1/sites/demo/tickets", headers={
            **s.auth("agent", site="demo", counter="1"), "X-Pad": "p" * 12000},
            json={"service": "internal", "channel": "window", "customer": "c" * 100,
                  "notify": "n" * 500})
        assert r.status_code == 201, r.text
        r = await s.client.put("/v1/sites/demo", headers=s.auth("admin"),
                               content=msgspec.json.encode(demo_site()) + b" " * 40000)
        assert r.status_code == 200, r.text


# -- an appointment time no calendar has cannot poison a queue ---------------------------------

async def test_an_appointment_beyond_the_calendar_is_refused_and_poisons_nothing(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Found: an agent's ``appointment_ms`` past the year 9999 (or past 64 bits) was stored
    and then answered 500 (``internal``, marked temporary, so clients retried and stored
    more); from then on the service's queue — the counter console's list — answered 500
    for everyone until that ticket ended. Now 400 bad_request naming the field, and
    nothing stored."""
    async with demo_server(redis_server, tmp_path) as s:
        c = s.client
        agent = s.auth("agent", site="demo", counter="1")
        for ms in (253_402_300_800_000, 9_223_372_036_854_775_807, 99_999_999_999_999_999_999):
            r = await c.post("/v1/sites/demo/tickets", headers=agent, content=(
                b'{"service": "internal", "channel": "window", "priority": "appointment", '
                b'"appointment_ms": %d}' % ms))
            assert r.status_code == 400 and r.json()["code"] == "bad_request", (ms, r.text)
            assert "appointment_ms" in r.json()["message"]
        assert await waiting(redis) == 0
        ok = await c.post("/v1/sites/demo/tickets", headers=agent, json={
            "service": "internal", "channel": "window", "priority": "appointment",
            "appointment_ms": 253_402_128_000_000})  # 9999-12-30, the calendar's last day
        assert ok.status_code == 201, ok.text
        q = await c.get("/v1/sites/demo/services/internal/queue", headers=agent)
        assert q.status_code == 200 and len(q.json()["tickets"]) == 1, q.text


# -- a short signing key is refused --------------------------------------------------------------

def test_a_short_secret_is_refused_before_anything_starts(tmp_path: Path) -> None:
    """Found: any SWITCHBOARD_SECRET was taken (``hospital2026``). A kiosk token is public
    (the kiosk page's URL) and signed with it, so a short key is found offline from that
    token in minutes, and with it an admin token is forged. A key under 32 characters
    (configured or in DATA_DIR/secret) now stops serve, worker and token with a message
    that does not repeat it, before an embedded Redis is started."""
    import os
    import subprocess
    import sys

    from tests.conftest import free_port
    short = "hospital2026"
    env = {**os.environ, "SWITCHBOARD_SECRET": short}
    data = tmp_path / "data"
    for cmd in (["serve", "--port", str(free_port())], ["token", "admin"]):
        r = subprocess.run([sys.executable, "-m", "realtime.cli", *cmd, "--data-dir", str(data)],
                           env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode != 0, (cmd, r.stdout, r.stderr)
        assert "at least 32" in r.stderr and short not in r.stderr + r.stdout, r.stderr
    assert not (data / "redis.sock").exists() and not (data / "redis.pid").exists()
    # A short key in the data folder's secret file is refused the same way.
    data.mkdir(exist_ok=True)
    (data / "secret").write_text("abc123\n")
    env.pop("SWITCHBOARD_SECRET")
    r = subprocess.run([sys.executable, "-m", "realtime.cli", "token", "admin", "--data-dir",
                        str(data)], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "at least 32" in r.stderr and "abc123" not in r.stderr


# -- drawing QR codes cannot stall the server ----------------------------------------------------

async def test_a_flood_of_qr_codes_does_not_stall_the_server(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    """Found: /qr.svg needs no token (the kiosk's <img>) and drew a 1,024-character code
    in ~65 ms of pure Python on the event loop, each request; 16 clients looping on it
    kept every other answer of a `serve` (one worker) 1.6 s late (p50; boards' calls
    too). QR codes are now drawn off the loop, two at a time per
    process; past a short queue the answer is 429 rate_limited (Retry-After), at once."""
    import httpx
    async with demo_server(redis_server, tmp_path) as s:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=s.base, timeout=60, limits=limits) as flood:
            answers = await asyncio.gather(*(
                flood.get("/qr.svg", params={"data": f"x{i}".ljust(1024, "a")})
                for i in range(64)))
        codes = [r.status_code for r in answers]
        assert set(codes) == {200, 429} and codes.count(200) >= 18, codes
        for r in answers:
            if r.status_code == 429:
                assert r.json()["code"] == "rate_limited" and r.headers["retry-after"] == "1"
            else:
                assert r.headers["content-type"].startswith("image/svg+xml")
                assert r.content.startswith(b"<svg")
        # One at a time, as a kiosk asks, is always drawn.
        r = await s.client.get("/qr.svg", params={"data": "http://x/ticket/demo.1?token=t"})
        assert r.status_code == 200
