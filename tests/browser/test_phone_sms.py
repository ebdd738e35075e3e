"""Text to join in a real browser: the demo's phone page (/phone/{site}) texts the site
through POST /v1/sites/{site}/sms as a gateway's adapter would, shows the replies, follows
the short link to the live ticket page, and — with the worker running — shows the alert the
worker sent the number when a counter calls it (the demo keeps texts in an outbox, there
being no gateway)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from queueing import keys
from tests.browser.conftest import SECRET
from tests.browser.dispatch_support import DispatchDemo

pytestmark = pytest.mark.browser
WAIT_MS = 30000


def test_a_phone_takes_a_ticket_by_text_and_hears_its_turn(browser: Any,
                                                           tmp_path: Path) -> None:
    demo = DispatchDemo.start(tmp_path / "demo", worker=True)
    ctx = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844},
                              has_touch=True)
    try:
        page = ctx.new_page()
        page.goto(demo.base + "/")
        link = page.locator("a.kind-phone")
        link.wait_for(timeout=WAIT_MS)
        assert "Text to join" in link.inner_text()
        link.click()
        page.locator("#thread .p-empty").wait_for(timeout=WAIT_MS)
        page.locator("#number").fill("+8613912345678")
        page.locator("#number").dispatch_event("change")
        # A quick button with the cashier's letter: the reply names the ticket.
        page.locator("#quick button", has_text="E Cashier").click()
        reply = page.locator("#thread .p-in").first
        reply.wait_for(timeout=WAIT_MS)
        text = reply.inner_text()
        assert "Demo Community Clinic: your ticket E" in text and "(Cashier)" in text, text
        assert "We'll text you when you are called" in text  # the demo's outbox is a gateway
        number = text.split("your ticket ", 1)[1].split(" ", 1)[0]
        href = reply.locator("a").get_attribute("href")  # the live page's short link
        # Typed, in Chinese: the answer comes in Chinese.
        page.locator("#text").fill("查询")
        page.locator("#send").click()
        page.locator("#thread .p-in", has_text=f"{number}（收费）").wait_for(timeout=WAIT_MS)
        # The short link in the first reply opens the live ticket page.
        assert href and "/s/" in href
        r = httpx.get(href, follow_redirects=True)
        assert r.status_code == 200 and "/ticket/" in str(r.url)
        # A counter calls it: the worker's "your turn" text arrives on the phone (once the
        # worker follows the site: it says so with its cursor).
        store = redis.Redis(unix_socket_path=str(tmp_path / "demo" / "redis.sock"))
        deadline = time.monotonic() + 30
        while not store.exists(keys.prefix("demo") + "nt:cursor"):
            assert time.monotonic() < deadline, "the worker never followed the site"
            time.sleep(0.1)
        store.close()
        called = httpx.post(demo.base + "/v1/sites/demo/counters/6/call-next", timeout=20,
                            headers={"Authorization": f"Bearer {demo.admin}"}).json()
        assert called["number"] == number, called
        turn = page.locator("#thread li[data-kind='turn']")
        turn.wait_for(timeout=WAIT_MS)
        # In the language the number last wrote in (查询): Chinese.
        assert f"请 {number} 号到 6号窗口" in turn.inner_text(), turn.inner_text()
        assert "your turn" in turn.locator(".p-meta").inner_text()
        # The thread survives a reload (kept per number on the device).
        page.reload()
        page.locator("#thread li[data-kind='turn']").wait_for(timeout=WAIT_MS)
        # In Chinese, the page's own words.
        page.locator("#lang button[lang='zh-CN']").click()
        assert page.locator("#title").inner_text() == "短信取号"
        assert page.locator("#quick button", has_text="查询").count() == 1
    finally:
        ctx.close()
        demo.stop()


def test_the_phone_page_needs_a_gateway_token(browser: Any, tmp_path: Path) -> None:
    from realtime.auth import make_token
    demo = DispatchDemo.start(tmp_path / "demo", worker=False)
    try:
        kiosk = make_token(SECRET, "kiosk", site="demo")
        web_partner = make_token(SECRET, "partner", site="demo", channels=["web"])
        for token, status in ((kiosk, 403), (web_partner, 403), ("junk", 401)):
            r = httpx.get(f"{demo.base}/phone/demo?token={token}")
            assert r.status_code == status, (token, r.text[:200])
        ctx = browser.new_context(locale="en-US")
        try:
            page = ctx.new_page()
            page.goto(f"{demo.base}/phone/demo?token={kiosk}")
            page.locator(".error-screen").wait_for(timeout=WAIT_MS)
        finally:
            ctx.close()
    finally:
        demo.stop()
