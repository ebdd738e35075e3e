"""``rush``: a booking rush of N attempts on K slots (appointments), then the winners'
phones on their ``booking:`` topics.

N different people each try to book one of the K one-place slots of a day, through C
keep-alive HTTP connections at once, as fast as the server answers. Afterwards: no slot
holds more than its place (checked through ``availability``), every attempt got either a
booking or a refusal with a code (``slot_full`` …), and every winner's phone subscribes to
its ``booking:{id}`` topic over the websocket and sees its booking ``confirmed``.

Latency here is the booking request's round trip (request sent → response read).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter as Tally
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from loadtest.backends import SwitchboardAPI
from loadtest.servers import NeedsError, Target

SITE = "ltb"
SLOT_MINUTES = 10
PER_RESOURCE = 30  # 08:00-13:00 in ten-minute slots


class HttpConn:
    """A minimal keep-alive HTTP/1.1 client connection (httpx would cost the generator
    more CPU per request than the server spends answering it)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 head: bytes) -> None:
        self.reader, self.writer, self.head = reader, writer, head

    @classmethod
    async def open(cls, host: str, port: int, token: str) -> HttpConn:
        reader, writer = await asyncio.open_connection(host, port)
        head = (f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                "Content-Type: application/json\r\n").encode()
        return cls(reader, writer, head)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        self.writer.write(b"POST " + path.encode() + b" HTTP/1.1\r\n" + self.head
                          + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                          + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length = 0
        for line in raw.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


def schedule(slots: int) -> dict[str, Any]:
    n = max(1, math.ceil(slots / PER_RESOURCE))
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return {"resources": [{"id": f"r{i}", "name": f"Room {i}", "services": ["s0"]}
                          for i in range(n)],
            "templates": [{"resource": f"r{i}", "service": "s0", "days": days,
                           "sessions": [{"start": "08:00", "end": "13:00", "capacity": 1,
                                         "slot_minutes": SLOT_MINUTES}]} for i in range(n)]}


async def prepare(api: SwitchboardAPI, slots: int) -> tuple[str, list[str]]:
    from loadtest.scenarios import needs_booking, site_config
    needs_booking()
    await api.put_site(SITE, site_config(1, 1, lambda i: ["s0"], name="Rush"))
    admin = {"Authorization": f"Bearer {api.token('admin')}"}
    r = await api.http.put(f"/v1/sites/{SITE}/booking", headers=admin, json=schedule(slots))
    if r.status_code != 200:
        raise NeedsError(f"rush could not set the booking schedule: {r.status_code} {r.text}")
    day = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
    r = await api.http.get(f"/v1/sites/{SITE}/availability", headers=admin,
                           params={"service": "s0", "date": day})
    r.raise_for_status()
    body = r.json()
    rows = body if isinstance(body, list) else body.get("slots", [])
    ids = [row["slot"] for row in rows][:slots]
    if len(ids) < slots:
        raise NeedsError(f"rush asked for {slots} slots, the schedule has {len(ids)}")
    return day, ids


async def attempt_all(target: Target, api: SwitchboardAPI, slot_ids: list[str],
                      attempts: int, concurrency: int, progress: Any
                      ) -> tuple[Tally[str], dict[int, int], list[dict[str, Any]], float]:
    token = api.token("kiosk", site=SITE)
    conns = [await HttpConn.open(target.host, target.port, token) for _ in range(concurrency)]
    codes: Tally[str] = Tally()
    hist: dict[int, int] = {}
    booked: list[dict[str, Any]] = []
    rng = random.Random(7)
    next_i = [0]
    path = f"/v1/sites/{SITE}/bookings"

    async def worker(c: HttpConn) -> None:
        while next_i[0] < attempts:
            i = next_i[0]
            next_i[0] += 1
            body = msgspec.json.encode({"slot": rng.choice(slot_ids), "customer": f"p{i}",
                                        "channel": "kiosk"})
            t0 = time.perf_counter()
            try:
                status, raw = await c.post(path, body)
            except (OSError, asyncio.IncompleteReadError) as exc:
                codes[f"transport: {type(exc).__name__}"] += 1
                return
            ms = int((time.perf_counter() - t0) * 1000)
            hist[ms] = hist.get(ms, 0) + 1
            if status == 201:
                codes["booked"] += 1
                booked.append(msgspec.json.decode(raw))
            else:
                try:
                    codes[msgspec.json.decode(raw).get("code", str(status))] += 1
                except msgspec.DecodeError:
                    codes[str(status)] += 1
            progress(next_i[0] / attempts)

    t0 = time.monotonic()
    try:
        await asyncio.gather(*(worker(c) for c in conns))
    finally:
        for c in conns:
            c.close()
    return codes, hist, booked, time.monotonic() - t0


async def inventory(api: SwitchboardAPI, day: str) -> tuple[int, int, int]:
    """(places taken, places in all, slots over capacity) from the availability API."""
    admin = {"Authorization": f"Bearer {api.token('admin')}"}
    r = await api.http.get(f"/v1/sites/{SITE}/availability", headers=admin,
                           params={"service": "s0", "date": day})
    r.raise_for_status()
    body = r.json()
    rows = body if isinstance(body, list) else body.get("slots", [])
    cap = sum(int(row["capacity"]) for row in rows)
    taken = sum(int(row["capacity"]) - int(row["remaining"]) for row in rows)
    over = sum(1 for row in rows if int(row["remaining"]) < 0)
    return taken, cap, over
