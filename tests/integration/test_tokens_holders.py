"""``POST /v1/tokens`` for a person's own page: a ticket or booking token is minted only for
one that exists, a booking at the token's site (found in review: ``{"role": "ticket",
"ticket": "nosite.abc"}`` and a booking token for ``other.abc`` at site ``demo`` were both
201, links to nowhere). A booking token gets its page's link, and by default lasts until a
day after the appointment, as the link made with the booking does."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import jwt
import pytest

from tests.integration.conftest import SECRET, Server
from tests.integration.test_booking_http import bserver, slot  # noqa: F401

MINTED = "minted a"


async def _mint(s: Server, body: dict[str, Any]) -> Any:
    return await s.client.post("/v1/tokens", json={"subject": "front-desk", **body},
                               headers=s.auth("admin", subject="it-setup"))


@pytest.mark.parametrize("body, code, field", [
    ({"role": "ticket", "ticket": "demo.000000000000"}, "unknown_ticket", "ticket"),
    ({"role": "ticket", "ticket": "nosite.abc"}, "unknown_ticket", "ticket"),
    ({"role": "ticket", "ticket": "abc"}, "unknown_ticket", "ticket"),
    ({"role": "booking", "site": "demo", "booking": "demo.000000000000"}, "unknown_booking",
     "booking"),
    ({"role": "booking", "site": "demo", "booking": "other.abc"}, "unknown_booking",
     "booking"),
    ({"role": "booking", "site": "demo", "booking": "abc"}, "unknown_booking", "booking"),
    ({"role": "booking", "site": "other", "booking": "other.abc"}, "unknown_site", None),
])
async def test_no_token_for_a_ticket_or_booking_that_does_not_exist(
        server: Server, body: dict[str, Any], code: str, field: str | None,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "switchboard.auth")
    r = await _mint(server, body)
    assert (r.status_code, r.json()["code"]) == (404, code), r.text
    assert r.json().get("details", {}).get("field") == field
    assert "token" not in r.json() and MINTED not in caplog.text


async def test_a_ticket_token_opens_its_ticket(server: Server) -> None:
    c = server.client
    r = await c.post("/v1/sites/demo/tickets", json={"service": "internal", "channel": "kiosk"},
                     headers=server.auth("kiosk", site="demo"))
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    r = await _mint(server, {"role": "ticket", "ticket": tid})
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["link"] == f"/ticket/{tid}?token={got['token']}"
    assert (await c.get(got["link"])).status_code == 200
    own = {"Authorization": f"Bearer {got['token']}"}
    assert (await c.get(f"/v1/tickets/{tid}", headers=own)).json()["id"] == tid


async def test_a_booking_token_opens_its_booking_until_a_day_after_it(
        bserver: Server) -> None:  # noqa: F811
    c, s = bserver.client, bserver
    r = await c.post("/v1/sites/demo/bookings", headers=s.auth("partner", site="demo"),
                     json={"slot": slot("r1", 20, "09:00"), "customer": "mo", "channel": "app"})
    assert r.status_code == 201, r.text
    b = r.json()
    r = await _mint(s, {"role": "booking", "site": "demo", "booking": b["id"]})
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["link"] == f"/booking/{b['id']}?token={got['token']}"
    assert (await c.get(got["link"])).status_code == 200
    own = {"Authorization": f"Bearer {got['token']}"}
    assert (await c.get(f"/v1/bookings/{b['id']}", headers=own)).json()["id"] == b["id"]
    # Not a day: the visit is in 20 days, and the link must still open then.
    exp = float(jwt.decode(got["token"], SECRET, algorithms=["HS256"])["exp"])
    end = datetime.fromisoformat(b["end"]).timestamp()
    assert exp >= end + 86400 - 5 and got["capped"] is False
    # A lifetime given is kept.
    r = await _mint(s, {"role": "booking", "site": "demo", "booking": b["id"], "ttl_s": 3600})
    assert r.status_code == 201 and r.json()["ttl_s"] == 3600, r.text
