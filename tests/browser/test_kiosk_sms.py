"""At the kiosk, after the ticket came out: "text me before my turn" — a mobile number typed
on the kiosk's own keypad goes to the ticket (with the ticket's own token), and the ticket
says where texts will go. Offered only where the server has a notification webhook (an SMS
gateway); the number is cleared when the kiosk goes back to the start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from queueing import keys
from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000


def _redis(server: DemoServer) -> Redis:
    return Redis(unix_socket_path=str(Path(server.data_dir) / "redis.sock"))


def _kiosk(browser: Any, server: DemoServer) -> Any:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1024},
                              has_touch=True)
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(server.page_url("kiosk", lang="en"))
    return page


def test_a_number_typed_at_the_kiosk_goes_to_the_ticket(browser: Any,
                                                        sms_server: DemoServer) -> None:
    page = _kiosk(browser, sms_server)
    try:
        page.get_by_role("button", name="Laboratory").first.click()
        page.locator("#screen-ticket").wait_for()
        ticket = page.evaluate("window.switchboardKiosk.ticket")
        page.locator("#sms-btn").click()
        page.locator("#screen-sms").wait_for()
        pad = page.locator("#phonepad")
        for key in "+86138":
            pad.get_by_role("button", name=key, exact=True).click()
        page.locator("#sms-submit").click()  # too short: said so, nothing sent
        page.locator("#sms-error", has_text="6 to 15").wait_for()
        page.locator("#phone").fill("")
        for key in "13800000001":
            pad.get_by_role("button", name=key, exact=True).click()
        pad.get_by_role("button", name="Delete").click()
        pad.get_by_role("button", name="2", exact=True).click()
        page.locator("#sms-submit").click()
        page.locator("#screen-ticket").wait_for()
        # First in line (the alert position is 3): only "your turn" is promised.
        page.locator("#t-sms", has_text="You are nearly up: we will text 138****0002 when "
                                        "you are called.").wait_for()
        assert page.locator("#sms-btn").is_hidden()
        with _redis(sms_server) as r:
            # One spelling (E.164): what the gateway sends back, whatever was typed.
            assert r.hget(keys.ticket("demo", ticket["id"]), "notify") == b"+8613800000002"
            # The texts go in the language the visitor read the kiosk in.
            assert r.get(keys.prefix("demo") + "nt:lang:" + ticket["id"]) == b"en"
        # Done: the next person sees neither the number nor the ticket.
        page.locator("#done-btn").click()
        page.locator("#screen-services").wait_for()
        assert page.locator("#phone").input_value() == ""
        page.get_by_role("button", name="Laboratory").first.click()
        page.locator("#screen-ticket").wait_for()
        assert page.locator("#sms-btn").is_visible() and page.locator("#t-sms").is_hidden()
    finally:
        page.context.close()


def test_no_text_offered_without_a_gateway(browser: Any, demo_server: DemoServer) -> None:
    page = _kiosk(browser, demo_server)
    try:
        page.get_by_role("button", name="Laboratory").first.click()
        page.locator("#screen-ticket").wait_for()
        wait_js(page, "window.switchboardKiosk.ticket !== null")
        assert page.locator("#sms-btn").is_hidden()
    finally:
        page.context.close()


def test_the_number_screen_fits_a_narrow_kiosk(browser: Any, sms_server: DemoServer) -> None:
    """Large text on a small stand (or 200 % zoom): the keypad and buttons stay on the screen
    and are 44 px targets."""
    from tests.browser.test_accessibility import SMALL_TARGETS, assert_reflows
    ctx = browser.new_context(locale="en-US", viewport={"width": 320, "height": 640},
                              has_touch=True)
    try:
        page = ctx.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(sms_server.page_url("kiosk", lang="en") + "&text=large")
        page.get_by_role("button", name="Pharmacy").first.click()
        page.locator("#sms-btn").click()
        page.locator("#screen-sms").wait_for()
        assert_reflows(page, "kiosk SMS screen")
        assert page.evaluate(SMALL_TARGETS) == []
    finally:
        ctx.close()


def test_a_number_stuck_on_the_network_does_not_hold_the_kiosk(browser: Any,
                                                              sms_server: DemoServer) -> None:
    """The request setting the number hangs (a network hiccup); the person gives up (Back,
    Done): the next person still takes a ticket at once."""
    page = _kiosk(browser, sms_server)
    try:
        held: list[Any] = []
        page.route("**/notify", lambda route: held.append(route))  # never answered
        page.get_by_role("button", name="Laboratory").first.click()
        page.locator("#sms-btn").click()
        page.locator("#phone").fill("13800000003")
        page.locator("#sms-submit").click()
        wait_js(page, "document.getElementById('sms-submit').disabled")
        page.locator("#sms-back").click()
        page.locator("#done-btn").click()
        page.locator("#screen-services").wait_for()
        page.get_by_role("button", name="Pharmacy").first.click()
        page.locator("#screen-ticket").wait_for()
        assert page.evaluate("window.switchboardKiosk.ticket.service") == "pharmacy"
        assert len(held) == 1
    finally:
        page.context.close()
