"""Who confirmed, cancelled or moved a booking is on its event: the worker texts the person
what staff did, not what they did themselves (queueing/booking/consumer.py)."""

from __future__ import annotations

import pytest

from realtime.auth import Principal
from realtime.booking_api import _who


@pytest.mark.parametrize(("role", "via"), [
    ("booking", "holder"), ("partner", "partner"), ("agent", "staff"), ("admin", "staff")])
def test_the_actor_says_who_acted(role: str, via: str) -> None:
    a = _who(Principal(role, f"{role}:demo", site="demo"))
    assert (a.subject, a.via) == (f"{role}:demo", via)
