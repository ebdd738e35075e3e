"""A booking's own token lasts until a day after its appointment ends: a move to a later
time gives the person a fresh one (found in review: the page's link, made for the first
time, expired a day after it, so a person who moved to a later week found their page's
link dead before the visit)."""

from __future__ import annotations

from datetime import datetime

import jwt

from tests.integration.conftest import SECRET, Server
from tests.integration.test_booking_http import bserver, slot  # noqa: F401


def _exp(token: str) -> float:
    return float(jwt.decode(token, SECRET, algorithms=["HS256"])["exp"])


async def test_a_move_later_answers_a_token_that_lasts_to_the_new_time(
        bserver: Server) -> None:  # noqa: F811
    c, s = bserver.client, bserver
    r = await c.post("/v1/sites/demo/bookings", headers=s.auth("partner", site="demo"),
                     json={"slot": slot("r1", 1, "09:00"), "customer": "mo", "channel": "app"})
    assert r.status_code == 201, r.text
    b = r.json()
    own = {"Authorization": f"Bearer {b['token']}"}
    r = await c.post(f"/v1/bookings/{b['id']}/reschedule", headers=own,
                     json={"slot": slot("r1", 20, "09:00")})
    assert r.status_code == 200, r.text
    moved = r.json()
    end = datetime.fromisoformat(moved["end"]).timestamp()
    assert _exp(b["token"]) < end  # the first token would not see the visit
    assert _exp(moved["token"]) >= end + 86400 - 5
    assert moved["manage"] == f"/booking/{b['id']}?token={moved['token']}"
    fresh = {"Authorization": f"Bearer {moved['token']}"}
    got = await c.get(f"/v1/bookings/{b['id']}", headers=fresh)
    assert got.status_code == 200 and got.json()["slot"] == moved["slot"]
