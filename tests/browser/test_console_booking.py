"""Appointments at the counter console: reception or the phone line books a time for someone
at the desk or on the phone ("+ Appointment", the window's and phone line's channels, with
the places held for them), and checks in a person who booked by typing the code in the find
box. Real Chromium against a demo server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from tests.browser.conftest import DemoServer, wait_js
from tests.browser.test_accessibility import SMALL_TARGETS

pytestmark = pytest.mark.browser
WAIT_MS = 15000


@pytest.fixture
def console(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    yield page
    ctx.close()


def open_console(page: Any, server: DemoServer, counter: str) -> None:
    page.goto(server.page_url(f"counter:{counter}", lang="en"))
    page.locator("#book-open:not([hidden])").wait_for()
    wait_js(page, "window.switchboardCounter.client.state.status === 'online'")


def booking_by_code(server: DemoServer, code: str, booking_id: str) -> dict[str, Any]:
    agent = server.token("agent", site="demo", counter="4")
    r = httpx.get(f"{server.base}/v1/bookings/{booking_id}", timeout=10,
                  headers={"Authorization": f"Bearer {agent}"})
    assert r.status_code == 200, r.text
    b = dict(r.json())
    assert b["code"] == code
    return b


def test_the_phone_line_books_then_the_desk_checks_the_code_in(console: Any,
                                                               demo_server: DemoServer) -> None:
    open_console(console, demo_server, "4")  # the lab's counter: its service comes first
    console.locator("#book-open").click()
    assert console.locator("#book-how [aria-pressed=true]").inner_text() == "On the phone"
    assert console.locator("#book-services [aria-pressed=true]").inner_text().endswith(
        "Laboratory")
    # A lab time within the hour, so check-in is open (an hour early); not one about to
    # start (booked a few seconds on, it would have started: the lab's slots are 5 minutes),
    # and after the lab's last time of the day (23:55) tomorrow's.
    slot = demo_server.slot_soon("lab", 180, 3000, channel="phone")
    console.locator("#book-date").fill(slot["start"][:10])
    pick = console.locator(f"#book-times .b-time[data-slot='{slot['slot']}']")
    pick.wait_for()
    assert console.evaluate(SMALL_TARGETS) == []  # 44 px, the dialog's times too
    console.locator("#book-go").click()  # nothing chosen: said so, nothing sent
    console.locator("#book-error", has_text="Choose a time first").wait_for()
    pick.click()
    console.locator("#book-chosen", has_text="Chosen:").wait_for()
    console.locator("#book-go").click()
    console.locator("#book-error", has_text="patient ID or mobile number").wait_for()
    console.locator("#book-customer").fill("MRN-0042")
    console.locator("#book-phone").fill("13800138000")
    console.locator("#book-go").click()
    console.locator("#booked:not([hidden])").wait_for()
    code = console.locator("#booked-code").inner_text().replace(" ", "")
    assert len(code) == 6
    # No gateway in this demo: the read-out promises no text.
    assert "no texts are sent" in console.locator("#booked-read-out").inner_text()
    assert console.locator("#booked-qr").is_hidden()
    console.locator("#booked-done").click()
    # The person arrives: the code in the find box checks them in at this window.
    console.locator("#find-number").fill(code)
    console.locator("#find-go").click()
    console.locator("#found", has_text="appointment code").wait_for()
    console.locator("#checkin-code").click()
    console.locator("#issued:not([hidden])").wait_for()
    number = console.locator("#issued-number").inner_text()
    assert number.startswith("C")  # a lab ticket
    console.locator("#issued-done").click()
    console.locator("#found .found-card", has_text="Laboratory").wait_for()
    assert console.locator("#found .q-num").inner_text() == number


def test_at_the_desk_the_slip_carries_the_persons_page(console: Any,
                                                       demo_server: DemoServer) -> None:
    open_console(console, demo_server, "1")
    console.locator("#book-open").click()
    console.locator("#book-how button", has_text="At the desk").click()
    console.locator("#book-next").click()  # tomorrow: internal medicine has free times
    console.locator("#book-day", has_text="Tomorrow").wait_for()
    console.locator("#book-times .b-time").first.wait_for()
    console.locator("#book-times .b-time").first.click()
    console.locator("#book-customer").fill("MRN-0043")
    console.locator("#book-go").click()
    console.locator("#booked:not([hidden])").wait_for()
    src = unquote(console.locator("#booked-qr").get_attribute("src") or "")
    assert f"{demo_server.base}/booking/demo." in src and "?token=" in src
    assert console.locator("#booked-read-out").is_hidden()
    booking_id = src.split("/booking/")[1].split("?")[0]
    code = console.locator("#booked-code").inner_text().replace(" ", "")
    b = booking_by_code(demo_server, code, booking_id)
    assert (b["channel"], b["customer"], b["status"]) == ("window", "MRN-0043", "confirmed")
    start = dt.datetime.fromisoformat(b["start"])
    assert start.date() == (dt.datetime.now(start.tzinfo) + dt.timedelta(days=1)).date()
    console.locator("#booked-done").click()
    # Tomorrow's appointment checked in today: too early, said with the time it opens.
    console.locator("#find-number").fill(code)
    console.locator("#find-go").click()
    console.locator("#checkin-code").click()
    console.locator(".toast", has_text="Too early for this appointment: check-in opens").wait_for()
