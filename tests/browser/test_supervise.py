"""The floor overview (/supervise/{site}) in a real browser against a real demo server: the
queues with waiting counts, the longest wait and today's figures, the counters with their
state and ticket, all following the site live; and who may open it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000


def _cell(page: Any, service: str, cls: str) -> Any:
    return page.locator(f"tr[data-service='{service}'] td.{cls}")


def test_the_floor_overview_follows_the_site_live(browser: Any,
                                                  demo_server: DemoServer) -> None:
    ctx = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    try:
        page = ctx.new_page()
        token = demo_server.token("supervisor", site="demo")
        page.goto(f"{demo_server.base}/supervise/demo?token={token}&lang=en")
        wait_js(page, "window.switchboardSupervise && window.switchboardSupervise.board.ready")
        assert page.locator("#title").inner_text() == "Floor overview"
        before = int(_cell(page, "pharmacy", "s-waiting").inner_text())
        for _ in range(3):
            demo_server.take("pharmacy")
        _cell(page, "pharmacy", "s-waiting").filter(has_text=str(before + 3)).wait_for(
            timeout=WAIT_MS)
        # Longest wait: a number of minutes (under 1 min here), not "—".
        assert _cell(page, "pharmacy", "s-longest").inner_text() != "—"
        # Counter 5 opens and calls: its card shows the number, the column counts it open.
        demo_server.counter("5", "open")
        called = demo_server.counter("5", "call-next")
        card = page.locator("li[data-counter='5']")
        card.locator(".s-current", has_text=called["number"]).wait_for(timeout=WAIT_MS)
        assert "Open" in card.inner_text() and "Calling" in card.inner_text()
        assert int(_cell(page, "pharmacy", "s-open").inner_text()) >= 1
        demo_server.counter("5", "complete")
        card.locator(".muted", has_text="No ticket").wait_for(timeout=WAIT_MS)
        # Today's figures come from the stats endpoint (a minute apart): issued so far.
        wait_js(page, "window.switchboardSupervise.stats !== null")
        assert _cell(page, "pharmacy", "s-issued").inner_text().isdigit()
        # The report: the last 7 days per service, as a CSV file (once the day log, written
        # by the server's stats recorder a moment after each event, has today's tickets).
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and "pharmacy" not in httpx.get(
                f"{demo_server.base}/v1/sites/demo/stats",
                headers={"Authorization": f"Bearer {token}"}).json()["services"]:
            time.sleep(0.3)
        with page.expect_download() as dl:
            page.locator("#report").click()
        download = dl.value
        assert download.suggested_filename.startswith("switchboard-demo-")
        text = Path(download.path()).read_text(encoding="utf-8-sig")
        assert text.splitlines()[0].startswith("date,service,tickets,called,served")
        assert ",pharmacy," in text
        demo_server.counter("5", "pause")
        card.locator(".chip", has_text="Paused").wait_for(timeout=WAIT_MS)
        demo_server.counter("5", "open")
        # In Chinese, all of it: the connection chip too (it kept "● Live"); keyboard focus
        # stays on the language switch.
        page.locator("#lang button[lang='zh-CN']").focus()
        page.keyboard.press("Enter")
        page.locator("#conn-chip", has_text="实时").wait_for(timeout=WAIT_MS)
        assert page.locator("#title").inner_text() == "现场总览"
        assert page.evaluate("document.activeElement.getAttribute('lang')") == "zh-CN"
    finally:
        ctx.close()


@pytest.mark.parametrize("role, kw, status", [
    ("supervisor", {"site": "demo"}, 200),
    ("agent", {"site": "demo", "counter": "2"}, 200),  # a counter's console token too
    ("admin", {}, 200),
    ("display", {"site": "demo"}, 403),  # a wall screen's link does not open it
    ("kiosk", {"site": "demo"}, 403),
    ("supervisor", {"site": "other"}, 403),
])
def test_who_opens_the_floor_overview(demo_server: DemoServer, role: str, kw: dict[str, str],
                                      status: int) -> None:
    r = httpx.get(f"{demo_server.base}/supervise/demo",
                  params={"token": demo_server.token(role, **kw)}, timeout=10)
    assert r.status_code == status, r.text
    assert "Content-Security-Policy" in r.headers


def test_the_floor_overview_is_readable_on_a_phone(browser: Any,
                                                   demo_server: DemoServer) -> None:
    """At 320 px nothing leaves the screen but the wide table, which scrolls in its own box;
    every text passes WCAG contrast; the language switch is a 44 px target."""
    from tests.browser.test_accessibility import (
        LOW_CONTRAST,
        SMALL_TARGETS,
        assert_reflows,
        settle,
    )
    ctx = browser.new_context(locale="en-US", viewport={"width": 320, "height": 640},
                              has_touch=True)
    try:
        page = ctx.new_page()
        page.set_default_timeout(WAIT_MS)
        demo_server.take("lab")
        page.goto(f"{demo_server.base}/supervise/demo?token="
                  f"{demo_server.token('supervisor', site='demo')}&lang=en")
        wait_js(page, "window.switchboardSupervise && window.switchboardSupervise.board.ready"
                      " && window.switchboardSupervise.stats !== null")
        settle(page)
        assert_reflows(page, "floor overview", skip=".s-table-wrap")
        assert page.evaluate(LOW_CONTRAST, "body") == []
        assert page.evaluate(SMALL_TARGETS) == []
    finally:
        ctx.close()
