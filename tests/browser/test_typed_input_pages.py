"""Codes and ticket numbers typed as people type them, in real Chromium against a demo server:
the console's Find with an appointment code as the booking page shows it ("hd4 3ux") and a
ticket number typed with a Chinese input method in full-width mode ("Ａ００１"); a failed
Find's message gone once the next one finds; the kiosk's check-in field; the floor
overview's ticket history with a full-width number, and a refused one said in words."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DemoServer
from tests.browser.test_console_booking import console

__all__ = ["console"]  # the fixture (an en-GB desktop page), used by name

pytestmark = pytest.mark.browser
WAIT_MS = 15000


def full_width(s: str) -> str:
    """``A001`` as a Chinese input method types it in full-width mode: ``Ａ００１``."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else "\u3000" for ch in s)


def as_shown(code: str) -> str:
    """A code as the booking page shows it, in two groups, and typed in lower case."""
    return f"{code[:3]} {code[3:]}".lower()


def book_lab(server: DemoServer, customer: str) -> dict[str, Any]:
    """A lab appointment within the hour (check-in open), booked at the window."""
    slot = server.slot_soon("lab", 180, 3000, channel="window")
    return dict(server.post("/v1/sites/demo/bookings",
                            server.token("agent", site="demo", counter="4"),
                            {"slot": slot["slot"], "customer": customer, "channel": "window"}))


def find(page: Any, typed: str) -> None:
    page.locator("#find-number").fill(typed)
    page.locator("#find-number").press("Enter")


def test_the_consoles_find_reads_codes_and_numbers_as_typed(console: Any,
                                                            demo_server: DemoServer) -> None:
    ticket = demo_server.take("internal")
    booking = book_lab(demo_server, "MRN-0071")
    console.clock.install()
    console.goto(demo_server.page_url("counter:4", lang="en"))
    console.locator("#book-open:not([hidden])").wait_for()
    # Timers paused from here: the error toast's own 5 s never hides it; only a Find may.
    console.clock.pause_at(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2))
    toast = console.locator("body > .toast")
    card = console.locator("#found .found-card")
    find(console, "A#1")  # no ticket number: refused
    expect(toast).to_be_visible()
    # The next Find finds: the old message goes (it stayed up beside the card).
    find(console, ticket["number"])
    expect(card.locator(".q-num")).to_have_text(ticket["number"])
    expect(toast).to_be_hidden()
    find(console, "A#1")  # said what a ticket number is, with what was read
    expect(toast).to_contain_text("No ticket number reads “A#1”")
    console.locator("#find-number").fill("")
    expect(card).to_have_count(0)
    # A Chinese input method's full-width letters and digits: the same ticket.
    find(console, full_width(ticket["number"]))
    expect(card.locator(".q-num")).to_have_text(ticket["number"])
    expect(toast).to_be_hidden()
    # The code as the booking page shows it: read as an appointment code, checked in.
    find(console, as_shown(booking["code"]))
    console.locator("#found", has_text="appointment code").wait_for()
    expect(console.locator("#found")).to_contain_text(booking["code"])
    console.locator("#checkin-code").click()
    console.locator("#issued:not([hidden])").wait_for()
    assert console.locator("#issued-number").inner_text().startswith("C")  # a lab ticket


def test_the_kiosk_sends_the_code_as_meant(console: Any, demo_server: DemoServer) -> None:
    page = console  # the same desktop page, at the kiosk
    booking = book_lab(demo_server, "MRN-0072")
    page.goto(demo_server.page_url("kiosk", lang="en"))
    page.locator("#appt-btn").click()
    page.locator("#code").fill(full_width(as_shown(booking["code"])))  # "ｈｄ４　３ｕｘ"
    with page.expect_request(lambda r: r.url.endswith("/v1/sites/demo/check-in")) as sent:
        page.locator("#checkin-submit").click()
    assert json.loads(sent.value.post_data or "{}")["code"] == booking["code"]
    page.locator("#screen-ticket").wait_for()


def test_ticket_history_with_a_full_width_number(browser: Any,
                                                  demo_server: DemoServer) -> None:
    ticket = demo_server.take("pharmacy")
    sup = {"Authorization": f"Bearer {demo_server.token('supervisor', site='demo')}"}
    for _ in range(100):  # the recorder writes the trail every second
        r = httpx.get(f"{demo_server.base}/v1/sites/demo/audit", headers=sup, timeout=10,
                      params={"number": ticket["number"]})
        if r.json()["records"]:
            break
        time.sleep(0.1)
    for lang, refused in (("en", "“甲001” is not a ticket number"), ("zh", "“甲001”不是票号")):
        ctx = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US",
                                  viewport={"width": 1280, "height": 900})
        try:
            pg = ctx.new_page()
            pg.set_default_timeout(WAIT_MS)
            token = demo_server.token("supervisor", site="demo")
            pg.goto(f"{demo_server.base}/supervise/demo?token={token}&lang={lang}")
            pg.locator("#audit:not([hidden])").wait_for()
            pg.locator("#au-number").fill(full_width(ticket["number"]))
            pg.locator("#audit button[type=submit]").click()
            step = pg.locator("#au-list li[data-event=issued]")
            step.wait_for()
            assert pg.locator("#au-status").inner_text().startswith(ticket["number"])
            # A number no ticket can have: refused, and said in words, no raw code.
            pg.locator("#au-number").fill("甲００１")
            pg.locator("#audit button[type=submit]").click()
            expect(pg.locator("#au-status")).to_contain_text(refused)
            assert "bad_request" not in pg.locator("#au-status").inner_text()
        finally:
            ctx.close()
