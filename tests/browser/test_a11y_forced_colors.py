"""Pressed and selected states that people can see without colour: in forced colours
(Windows high contrast, which paints every background the system's own) and, where cheap,
by a mark besides the colour in the normal look (WCAG 1.4.1, 1.4.11). Measured as the
accessibility review did: computed styles in real Chromium with forced colours emulated.
Each test fails without the forced-colors rules or marks it names (review 2026-12-07)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from realtime.auth import make_token
from tests.browser.conftest import SECRET, DemoServer, wait_js
from tests.browser.test_accessibility import settle
from tests.browser.test_booking_page import book

pytestmark = pytest.mark.browser
WAIT_MS = 15000

# Each visible button matching `sel`: [aria-pressed, the background painted behind its text
# (its own, or its nearest ancestor's with one: a transparent button on a white header looks
# white)]. Text colour alone is no mark: a pressed counter state is disabled, in GrayText.
LOOKS = """(sel) => [...document.querySelectorAll(sel)].filter((e) => e.checkVisibility())
  .map((e) => {
    let bg = 'none';
    for (let a = e; a && bg === 'none'; a = a.parentElement) {
      const c = getComputedStyle(a).backgroundColor;
      if (!/rgba\\(.*, 0\\)$/.test(c)) bg = c;
    }
    return [e.getAttribute('aria-pressed'), bg];
  })"""

# Besides colour: a check mark (content of ::before / ::after, shown) or an underline.
MARKED = """(sel) => [...document.querySelectorAll(sel)].filter((e) => e.checkVisibility())
  .map((e) => {
    const mark = ['::before', '::after'].some((p) => {
      const cs = getComputedStyle(e, p);
      return cs.content !== 'none' && cs.content !== 'normal' && cs.visibility === 'visible';
    });
    return mark || getComputedStyle(e).textDecorationLine.includes('underline');
  })"""


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844},
                              has_touch=True)
    yield ctx
    ctx.close()


def assert_pressed_stands_out(page: Any, sel: str, where: str) -> None:
    """In forced colours, every pressed button of `sel` has another background than every
    other one; in the normal look it has a mark besides its colour."""
    page.emulate_media(forced_colors="active")
    settle(page)  # buttons fade to their colours
    looks = page.evaluate(LOOKS, sel)
    on = {look for pressed, look in looks if pressed == "true"}
    off = {look for pressed, look in looks if pressed == "false"}
    assert on and off, f"{where}: {looks}"
    assert not on & off, f"{where}: pressed {on} looks like not pressed {off}"
    page.emulate_media(forced_colors="none")
    settle(page)
    assert all(page.evaluate(MARKED, f"{sel}[aria-pressed='true']")), \
        f"{where}: a pressed {sel} shown by colour alone"


def test_book_page_shows_the_chosen_service_and_time(phone: Any,
                                                     demo_server: DemoServer) -> None:
    """The public booking page: the chosen service and time (and 中文 / EN) stand out in
    forced colours (they were identical to the others) and carry a check mark."""
    web = make_token(SECRET, "partner", site="demo", channels=["web"], subject="web-page")
    page = phone.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{demo_server.base}/book/demo?token={web}&lang=en")
    page.locator("#services button").first.tap()
    page.locator("#times .b-time").first.wait_for()
    page.locator("#times .b-time").first.tap()
    wait_js(page, "document.querySelector('#times .b-time[aria-pressed=\"true\"]')")
    assert_pressed_stands_out(page, "#services button", "service")
    assert_pressed_stands_out(page, "#times button", "time")
    assert_pressed_stands_out(page, ".lang-switch button", "book 中文 / EN")


def test_kiosk_toggles_and_language_show_which_is_on(browser: Any,
                                                     demo_server: DemoServer) -> None:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1024})
    try:
        page = ctx.new_page()
        page.goto(demo_server.page_url("kiosk", lang="en"))
        page.locator(".k-service").first.wait_for(timeout=WAIT_MS)
        page.locator("#large-btn").press("Enter")
        page.locator("#large-btn[aria-pressed='true']").wait_for(timeout=WAIT_MS)
        assert_pressed_stands_out(page, ".k-toggle", "kiosk toggles")
        assert_pressed_stands_out(page, ".lang-switch button", "kiosk 中文 / EN")
        page.locator("#contrast-btn").press("Enter")  # high contrast has its own colours
        page.locator("#contrast-btn[aria-pressed='true']").wait_for(timeout=WAIT_MS)
        page.locator("#large-btn").press("Enter")
        page.locator("#large-btn[aria-pressed='false']").wait_for(timeout=WAIT_MS)
        assert_pressed_stands_out(page, ".k-toggle", "kiosk toggles, high contrast")
        assert_pressed_stands_out(page, ".lang-switch button", "kiosk 中文 / EN, high contrast")
    finally:
        ctx.close()


def test_counter_state_switch_shows_the_state(browser: Any, demo_server: DemoServer) -> None:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    try:
        page = ctx.new_page()
        page.goto(demo_server.page_url("counter:5", lang="en"))
        wait_js(page, "document.querySelector('#state-group button[aria-pressed=\"true\"]')")
        assert_pressed_stands_out(page, "#state-group button", "counter state")
        assert_pressed_stands_out(page, ".lang-switch button", "counter 中文 / EN")
    finally:
        ctx.close()


def test_ticket_called_panel_keeps_its_box(phone: Any, demo_server: DemoServer) -> None:
    """"It's your turn" is a green box with a shadow; forced colours take both away, and the
    most important message of the page was plain text among the rest. It keeps a frame."""
    t = demo_server.take("paediatrics")
    demo_server.post("/v1/sites/demo/counters/3/call", demo_server.token(
        "agent", site="demo", counter="3"), {"ticket": t["id"]})
    try:
        page = phone.new_page()
        page.goto(demo_server.base + t["tracker"] + "&lang=en")
        wait_js(page, "window.switchboardTicket && window.switchboardTicket.phase === 'called'")
        assert_pressed_stands_out(page, ".lang-switch button", "ticket 中文 / EN")
        page.emulate_media(forced_colors="active")
        frame = page.evaluate("""() => {
          const cs = getComputedStyle(document.getElementById('status'));
          return [cs.borderTopStyle, parseFloat(cs.borderTopWidth), cs.borderTopColor,
                  cs.backgroundColor]; }""")
        assert frame[0] != "none" and frame[1] >= 3, frame
        assert frame[2] != frame[3], frame  # the frame drawn in another colour than its inside
    finally:
        demo_server.counter("3", "complete")


def test_booking_and_job_tracker_language_switch(phone: Any,
                                                 demo_server: DemoServer) -> None:
    b = book(demo_server, "internal", dt.date.today() + dt.timedelta(days=3))
    page = phone.new_page()
    page.goto(demo_server.base + b["manage"] + "&lang=en")
    wait_js(page, "window.switchboardBooking.booking?.status === 'confirmed'")
    assert_pressed_stands_out(page, ".lang-switch button", "booking 中文 / EN")
    paths = re.findall(r'"path":"([^"]*)"', httpx.get(demo_server.base + "/", timeout=10).text)
    page.goto(demo_server.base + next(p for p in paths if p.startswith("/track/")))
    page.locator(".lang-switch button").first.wait_for(timeout=WAIT_MS)
    assert_pressed_stands_out(page, ".lang-switch button", "job tracker 中文 / EN")
