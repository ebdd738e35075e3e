"""Accessibility of the queue pages, measured in a real browser against a real server: what
people with low vision, screen-reader users, keyboard-only users and older people at the kiosk
meet. Each test checks behaviour (layout boxes at 320 px, computed contrast ratios, what a
live region does after a live update, the pixels a focused control changes), not markup."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(locale="en-US", viewport={"width": 320, "height": 640},
                              has_touch=True)
    yield ctx
    ctx.close()


# Every element whose box sticks out of the viewport, left or right (innermost only): content
# there is lost, or reached only by scrolling sideways line by line.
OUTSIDE = """() => {
  const w = document.documentElement.clientWidth;
  const out = (e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && (r.right > w + 1 || r.left < -1);
  };
  return [...document.querySelectorAll('body *')]
    .filter((e) => out(e) && ![...e.children].some(out))
    .map((e) => `${e.tagName}.${e.getAttribute('class') ?? ''}#${e.id} `
      + `"${(e.textContent ?? '').trim().slice(0, 24)}"`);
}"""


def assert_reflows(page: Any, where: str) -> None:
    width = page.evaluate("document.documentElement.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, \
        f"{where}: scrolls sideways at {width} px"
    assert page.evaluate(OUTSIDE) == [], f"{where}: content outside a {width} px screen"


@pytest.mark.parametrize("text", ["normal", "large"])
@pytest.mark.parametrize("width", [320, 640])  # a phone-sized window; a 1280 px kiosk at 200 %
def test_kiosk_fits_a_narrow_screen_without_sideways_scrolling(
        browser: Any, demo_server: DemoServer, width: int, text: str) -> None:
    """WCAG 1.4.10 (reflow): at 320 CSS px, and at 200 % zoom of the kiosk, in normal and
    large text, the services, the check-in keypad and the printed ticket fit the width."""
    ctx = browser.new_context(locale="en-US", viewport={"width": width, "height": 720},
                              has_touch=True)
    try:
        page = ctx.new_page()
        large = "&text=large" if text == "large" else ""
        page.goto(demo_server.page_url("kiosk", lang="en") + large)
        page.locator(".k-service").first.wait_for(timeout=WAIT_MS)
        wait_js(page, "window.switchboardKiosk.client.state.status === 'online'")
        assert_reflows(page, "services")
        page.locator("#appt-btn").click()
        assert_reflows(page, "check-in")
        page.locator("#checkin-back").click()
        page.locator(".k-service").first.click()
        page.locator("#screen-ticket").wait_for(timeout=WAIT_MS)
        assert_reflows(page, "ticket")
    finally:
        ctx.close()
