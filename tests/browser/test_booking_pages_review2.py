"""The booking pages, second review: each test here failed before its fix.

- a 503 on the person's own page (a cancel, a move while Redis fails over) was told as
  "The text could not be sent": that sentence is for the public page's texted code only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from realtime.auth import make_token
from tests.browser.conftest import SECRET, DemoServer, wait_js
from tests.browser.test_booking_page import WAIT_MS, book

pytestmark = pytest.mark.browser

BUSY = '{"code":"unavailable","message":"try later","temporary":true}'


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844},
                              has_touch=True)
    p = ctx.new_page()
    p.set_default_timeout(WAIT_MS)
    yield p
    ctx.close()


def test_a_busy_server_is_not_a_text_that_could_not_be_sent(page: Any,
                                                             demo_server: DemoServer) -> None:
    b = book(demo_server, "internal", dt.date.today() + dt.timedelta(days=4))
    page.route("**/v1/bookings/*/cancel", lambda route: route.fulfill(
        status=503, content_type="application/json", body=BUSY))
    page.goto(demo_server.base + b["manage"] + "&lang=en")
    page.locator("#act-cancel").tap()
    page.locator("#ask-yes").tap()
    toast = page.locator(".toast", has_text="try again in a moment")
    toast.wait_for()
    assert "text" not in toast.inner_text().lower()
    # The public page's texted code: a gateway's refusal is said as one.
    web = make_token(SECRET, "partner", site="demo", channels=["web"], subject="rev2")
    page.route("**/v1/sites/demo/verify", lambda route: route.fulfill(
        status=503, content_type="application/json", body=BUSY))
    page.goto(f"{demo_server.base}/book/demo?token={web}&lang=zh")
    page.locator("#phone").fill("13800138555")
    page.locator("#code-send").tap()
    page.locator("#phone-error", has_text="短信暂时无法发送").wait_for()


def test_a_move_puts_a_token_lasting_to_the_new_time_in_the_address(
        page: Any, demo_server: DemoServer) -> None:
    """The page's link (made with the booking) ends a day after the booking's first time: a
    person who moved to a later day and reloaded or saved the page on the day found it
    dead. A move's fresh token is now used, and put in the address bar."""
    import jwt

    b = book(demo_server, "internal", dt.date.today() + dt.timedelta(days=1))
    page.goto(demo_server.base + b["manage"] + "&lang=en")
    page.locator("#act-move").tap()
    page.locator("#move-list .b-time").first.wait_for()
    for _ in range(5):  # five days on
        day0 = page.locator("#move-day").inner_text()
        page.locator("#move-next").tap()
        page.locator("#move-day").filter(has_not_text=day0).wait_for()
    pick = page.locator("#move-list .b-time").first
    new_slot = pick.get_attribute("data-slot")
    pick.tap()
    page.locator("#ask-yes").tap()
    wait_js(page, f"window.switchboardBooking.booking.slot === {new_slot!r}")
    wait_js(page, f"!location.search.includes({b['token']!r})")
    fresh = page.evaluate("new URLSearchParams(location.search).get('token')")
    assert page.evaluate("new URLSearchParams(location.search).get('lang')") == "en"
    end = dt.datetime.fromisoformat(page.evaluate("window.switchboardBooking.booking.end"))
    assert jwt.decode(fresh, SECRET, algorithms=["HS256"])["exp"] >= end.timestamp() + 86000
    assert "token" not in page.evaluate("Object.keys(window.switchboardBooking.booking)")
    page.reload()  # the address as it now is opens the page
    wait_js(page, f"window.switchboardBooking?.booking?.slot === {new_slot!r}")
    page.locator("#act-cancel").tap()  # and acts with the fresh token
    page.locator("#ask-yes").tap()
    wait_js(page, "window.switchboardBooking.booking.status === 'cancelled'")
