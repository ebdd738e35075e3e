"""Codes and ticket numbers over HTTP as people type them: a booking code as the booking page
shows it ("hd4 3ux"), with a dash or in full-width forms, checks in; a ticket number typed
with a Chinese input method in full-width mode ("Ａ００１") finds the ticket and its history."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from tests.integration.conftest import Server
from tests.integration.test_booking_http import bserver, next_lab_slot

__all__ = ["bserver"]  # the fixture, used by name


def full_width(s: str) -> str:
    """``A001`` as a Chinese input method types it in full-width mode: ``Ａ００１``."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else "\u3000" for ch in s)


async def test_check_in_with_the_code_as_the_booking_page_shows_it(bserver: Server) -> None:
    c = bserver.client
    kiosk = bserver.auth("kiosk", site="demo")
    b = (await c.post("/v1/sites/demo/bookings", json={"slot": next_lab_slot(),
                      "customer": "zoe", "channel": "kiosk"}, headers=kiosk)).json()
    code = b["code"]
    typed = f"{code[:3]} {code[3:]}".lower()  # "hd4 3ux"
    r = await c.post("/v1/sites/demo/check-in", json={"code": typed}, headers=kiosk)
    assert r.status_code == 201, r.text
    assert r.json()["booking"] == b["id"]
    # The same booking again, typed otherwise: the ticket the first check-in made.
    for again in (f"{code[:3]}-{code[3:]}", full_width(f"{code[:3]} {code[3:]}"),
                  f" {code[:3]}\u2013{code[3:]} "):
        r2 = await c.post("/v1/sites/demo/check-in", json={"code": again}, headers=kiosk)
        assert r2.status_code == 201, (again, r2.text)
        assert r2.json()["id"] == r.json()["id"]
    bad = await c.post("/v1/sites/demo/check-in", json={"code": f"{code[:3]} {code[3:5]}"},
                       headers=kiosk)
    assert (bad.status_code, bad.json()["code"]) == (400, "bad_request")


async def test_a_full_width_number_finds_the_ticket_and_its_history(server: Server,
                                                                   redis: Redis) -> None:
    c = server.client
    kiosk = server.auth("kiosk", site="demo")
    agent = server.auth("agent", site="demo", counter="1")
    sup = server.auth("supervisor", site="demo")
    a = (await c.post("/v1/sites/demo/tickets", json={"service": "internal", "channel": "kiosk"},
                      headers=kiosk)).json()
    wide = full_width(a["number"])  # "Ａ００１"
    for typed in (wide, wide.lower(), f"{wide[0]}\u3000{wide[1:]}", f"{a['number'][0]}-1"):
        r = await c.get("/v1/sites/demo/tickets", params={"number": typed}, headers=agent)
        assert r.status_code == 200, (typed, r.text)
        assert [t["id"] for t in r.json()["tickets"]] == [a["id"]], typed
    for _ in range(100):  # the recorder writes the trail every second
        h = await c.get("/v1/sites/demo/audit", params={"number": wide}, headers=sup)
        assert h.status_code == 200, h.text
        if h.json()["records"]:
            break
        await asyncio.sleep(0.1)
    assert [r["event"] for r in h.json()["records"]] == ["issued"]
    assert h.json()["records"][0]["number"] == a["number"]
    # Only spaces is no number (not every ticket of the day); a Chinese character is none.
    for bad in ("\u3000 ", "甲００１"):
        r = await c.get("/v1/sites/demo/audit", params={"number": bad}, headers=sup)
        assert (r.status_code, r.json()["code"]) == (400, "bad_request"), (bad, r.text)
        assert r.json()["details"]["field"] == "number"
