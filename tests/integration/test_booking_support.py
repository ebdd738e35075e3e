"""Shared set-up of the booking tests (no tests here; the name keeps it in the booking
tests' files): a schedule on the demo clinic, slot ids, and what a refused request must
leave unchanged."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

from queueing import keys
from queueing.booking.engine import BookingEngine
from queueing.booking.model import (
    WEEKDAYS,
    BookingConfig,
    BookingPolicy,
    BookingRequest,
    Quota,
    Resource,
    Session,
    Template,
)
from queueing.booking.schedule import slot_id
from queueing.engine import Actor, Engine
from queueing.model import Channel

TZ = ZoneInfo("Asia/Shanghai")
# tests.integration.conftest.Clock starts at 2026-11-18 19:06:40 Shanghai time (a Wednesday).
TODAY = date(2026, 11, 18)
KIOSK = Actor("kiosk:demo", "kiosk")


def schedule(**policy: Any) -> BookingConfig:
    every: Any = list(WEEKDAYS)
    return BookingConfig(
        resources=[Resource("r1", "Dr One", ["internal"]), Resource("r2", "Dr Two", ["internal"]),
                   Resource("lab1", "Lab", ["lab"])],
        templates=[Template("r1", "internal", every, [Session("09:00", "12:00", 4, 30)]),
                   Template("r2", "internal", every, [Session("09:00", "12:00", 4, 30)]),
                   Template("lab1", "lab", every, [Session("09:00", "12:00", 2, 30)])],
        # A quarter of each slot (1 of 4) held for phone and window until the day before.
        quotas=[Quota([Channel.PHONE, Channel.WINDOW], 0.25, 86400)],
        policy=BookingPolicy(**policy))


def sid(resource: str, day_offset: int, hhmm: str, service: str = "internal",
        tz: ZoneInfo = TZ, today: date = TODAY) -> str:
    d = today + timedelta(days=day_offset)
    h, m = map(int, hhmm.split(":"))
    start = datetime(d.year, d.month, d.day, h, m, tzinfo=tz)
    return slot_id(resource, service, int(start.timestamp() * 1000))


def req(slot: str, customer: str, channel: Channel = Channel.APP, **kw: Any) -> BookingRequest:
    return BookingRequest(slot=slot, customer=customer, channel=channel, **kw)


async def booking_engine(engine: Engine, **policy: Any) -> BookingEngine:
    b = BookingEngine(engine)
    await b.put_config("demo", schedule(**policy), Actor("admin", "test"))
    return b


async def snapshot(redis: Redis, site: str = "demo") -> dict[str, Any]:
    """Everything a refused request must leave as it was: the stream, every booking key."""
    p = keys.prefix(site)
    out: dict[str, Any] = {"events": await redis.xlen(keys.events(site))}
    async for key in redis.scan_iter(match=p + "bk:*", count=1000):
        kind = await redis.type(key)
        if kind == b"hash":
            out[key] = await redis.hgetall(key)
        elif kind == b"zset":
            out[key] = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == b"string":
            out[key] = await redis.get(key)
        elif kind == b"set":
            out[key] = sorted(await redis.smembers(key))  # type: ignore[misc]
    return out


async def stream_types(redis: Redis, site: str = "demo") -> list[str]:
    return [f[b"t"].decode() for _, f in await redis.xrange(keys.events(site))]
