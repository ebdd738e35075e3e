"""A booking for a service no counter lists is refused (409 ``service_not_served``), as a
ticket there is (queueing/served.py): the person would come, check in and never be called.
Counters list their services for every day (a roster only says when they are on), so a
later day is no different. A retry of a booking made before the change is answered with
it, and the service served again takes bookings again."""

from __future__ import annotations

import msgspec
import pytest

from queueing.booking.engine import BookingEngine
from queueing.engine import Actor, Engine
from queueing.served import ServiceNotServed
from tests.integration.test_booking_support import KIOSK, booking_engine, req, sid

ADMIN = Actor("admin", "test")


@pytest.fixture
async def bk(demo: Engine) -> BookingEngine:
    return await booking_engine(demo)


async def _unserve_lab(engine: Engine) -> None:
    """The demo without counter 4, the lab's only one."""
    cfg = await engine.config("demo")
    counters = [c for c in cfg.counters if c.services != ["lab"]]
    assert all("lab" not in c.services for c in counters)
    await engine.put_site("demo", msgspec.structs.replace(cfg, counters=counters), ADMIN)


async def test_no_booking_for_a_service_nobody_serves(bk: BookingEngine, demo: Engine) -> None:
    kept = (await bk.book("demo", req(sid("lab1", 1, "09:00", "lab"), "ann"), KIOSK,
                          idempotency_key="k1")).booking
    full = await demo.config("demo")
    await _unserve_lab(demo)
    for days in (1, 6):  # tomorrow, or a later day: no counter lists the lab either day
        with pytest.raises(ServiceNotServed) as err:
            await bk.book("demo", req(sid("lab1", days, "10:00", "lab"), "bo"), KIOSK)
        assert err.value.status == 409 and err.value.code == "service_not_served"
        assert err.value.details == {"service": "lab"}
    # The retry of the booking made before is answered with it, not refused.
    again = await bk.book("demo", req(sid("lab1", 1, "09:00", "lab"), "ann"), KIOSK,
                          idempotency_key="k1")
    assert again.replay and again.booking["id"] == kept["id"]
    # Other services book as before; the lab again once a counter lists it.
    assert (await bk.book("demo", req(sid("r1", 1, "09:00"), "cy"), KIOSK)).booking
    await demo.put_site("demo", full, ADMIN)
    assert (await bk.book("demo", req(sid("lab1", 1, "10:00", "lab"), "bo"), KIOSK)).booking
