"""The phone line: reception answers a call and issues a ticket for the caller from the
console ("On the phone": channel ``phone``, no slip, the number is read out, alerts by SMS);
the next form starts at the desk again."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import DemoServer

pytestmark = pytest.mark.browser
WAIT_MS = 30000


def test_a_caller_gets_a_phone_ticket(browser: Any, sms_server: DemoServer) -> None:
    demo_server = sms_server  # texts can go out here (a webhook is configured)
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        console = ctx.new_page()
        console.goto(demo_server.page_url("counter:5", lang="en"))
        console.locator("#issue-open").click()
        console.locator("#issue-dialog[open]").wait_for(timeout=WAIT_MS)
        how = console.locator("#issue-how [aria-pressed='true']")
        assert how.inner_text() == "At the desk"  # the default
        console.locator("#issue-how button", has_text="On the phone").click()
        assert how.inner_text() == "On the phone"
        console.locator("#issue-services button", has_text="Pharmacy").click()
        console.locator("#issue-phone").fill("+8613800001111")
        console.locator("#issue-go").click()
        console.locator("#issued:not([hidden])").wait_for(timeout=WAIT_MS)
        number = console.locator("#issued-number").inner_text()
        read_out = console.locator("#issued-read-out")
        assert read_out.is_visible()
        assert read_out.inner_text() == ("Read the number to the caller. It is also texted to "
                                         "+8613800001111, and again before their turn.")
        # Nothing to print or scan for a caller.
        for el in ("#issued-qr", "#issued-scan", "#issued-print"):
            assert not console.locator(el).is_visible(), el
        token = demo_server.token("agent", site="demo", counter="5")
        found = httpx.get(f"{demo_server.base}/v1/sites/demo/tickets", params={"number": number},
                          headers={"Authorization": f"Bearer {token}"}).json()["tickets"]
        assert [(t["channel"], t["service"]) for t in found] == [("phone", "pharmacy")]
        # The next person is at the desk again: the slip is back.
        console.locator("#issued-done").click()
        console.locator("#issue-open").click()
        assert how.inner_text() == "At the desk"
        console.locator("#issue-go").click()
        console.locator("#issued:not([hidden])").wait_for(timeout=WAIT_MS)
        assert console.locator("#issued-print").is_visible()
        assert not read_out.is_visible()
        # In Chinese, without a number: the caller is told they get no text.
        console.locator("#issued-done").click()
        console.goto(demo_server.page_url("counter:5", lang="zh"))
        console.locator("#issue-open").click()
        console.locator("#issue-how button", has_text="电话取号").click()
        console.locator("#issue-go").click()
        console.locator("#issued:not([hidden])").wait_for(timeout=WAIT_MS)
        assert read_out.inner_text() == "请把号码告诉来电人。没有手机号，叫号前无法发短信提醒。"
    finally:
        ctx.close()


def test_no_text_is_promised_without_a_gateway(browser: Any, demo_server: DemoServer) -> None:
    """No notification webhook: the console must not tell the caller a text will come."""
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        console = ctx.new_page()
        console.goto(demo_server.page_url("counter:5", lang="en"))
        console.locator("#issue-open").click()
        console.locator("#issue-how button", has_text="On the phone").click()
        console.locator("#issue-phone").fill("+8613800002222")
        console.locator("#issue-go").click()
        console.locator("#issued:not([hidden])").wait_for(timeout=WAIT_MS)
        assert console.locator("#issued-read-out").inner_text() == (
            "Read the number to the caller. No texts can be sent from here (no SMS gateway is "
            "set up): ask them to note it.")
    finally:
        ctx.close()
