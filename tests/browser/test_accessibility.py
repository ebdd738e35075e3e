"""Accessibility of the queue pages, measured in a real browser against a real server: what
people with low vision, screen-reader users, keyboard-only users and older people at the kiosk
meet. Each test checks behaviour (layout boxes at 320 px, computed contrast ratios, what a
live region does after a live update, the pixels a focused control changes), not markup."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
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
        # Keys, not taps: the demo's live counts can move a card under a tap mid-way.
        page.locator("#appt-btn").press("Enter")
        page.locator("#checkin-back").wait_for(timeout=WAIT_MS)
        assert_reflows(page, "check-in")
        page.locator("#checkin-back").press("Enter")
        page.locator(".k-service").first.press("Enter")
        page.locator("#screen-ticket").wait_for(timeout=WAIT_MS)
        assert_reflows(page, "ticket")
    finally:
        ctx.close()


# What happens inside the page's live regions: every text the region has after a change,
# with the time, recorded by a MutationObserver (a screen reader re-reads a region whose
# nodes are replaced, even with the same text).
WATCH_LIVE = """(sel) => {
  window.liveLog = [];
  const region = (n) => (n.nodeType === 1 ? n : n.parentElement)?.closest(sel);
  new MutationObserver((ms) => {
    for (const el of new Set(ms.map((m) => region(m.target)).filter(Boolean))) {
      window.liveLog.push({ id: el.id || el.className, text: el.textContent.trim(),
                            live: el.getAttribute('aria-live') || el.getAttribute('role') });
    }
  }).observe(document.body, { subtree: true, childList: true, characterData: true });
}"""
LIVE = "[aria-live]:not([aria-live='off']), [role=status], [role=alert]"


def test_board_announces_a_call_once_and_again_only_on_a_recall(
        browser: Any, demo_server: DemoServer) -> None:
    """The board's "now calling" is an assertive live region: a new call is put in it once;
    the end of the nine-second flash must not rebuild it (a screen reader would shout the
    same call again), and a recall does put it in again."""
    tv = browser.new_context(locale="en-US", viewport={"width": 1920, "height": 1080})
    try:
        board = tv.new_page()
        board.goto(demo_server.page_url("board", lang="en"))
        wait_js(board, "window.switchboardBoard && window.switchboardBoard.offset")
        hero = board.locator("#hero")
        assert hero.get_attribute("aria-live") == "assertive"
        assert hero.get_attribute("aria-atomic") == "true"
        board.evaluate(WATCH_LIVE, "#hero")
        demo_server.take("lab")
        called = demo_server.counter("4", "call-next")
        hero.locator(".hero-number", has_text=called["number"]).wait_for(timeout=WAIT_MS)
        wait_js(board, "document.getElementById('hero').classList.contains('flash')")
        wait_js(board, "!document.getElementById('hero').classList.contains('flash')", 15)
        board.wait_for_timeout(300)
        log = board.evaluate("window.liveLog")
        assert len(log) == 1 and called["number"] in log[0]["text"], log

        demo_server.counter("4", "recall")
        hero.locator(".badge-recall").wait_for(timeout=WAIT_MS)
        log = board.evaluate("window.liveLog")
        assert len(log) == 2 and called["number"] in log[1]["text"], log
    finally:
        tv.close()



@pytest.fixture
def doomed_server(tmp_path: Path) -> Iterator[DemoServer]:
    """A server of its own, to be killed."""
    s = DemoServer(tmp_path / "data").start()
    yield s
    s.stop()


def test_offline_is_announced_once_not_every_second(browser: Any,
                                                    doomed_server: DemoServer) -> None:
    """The connection banner counts down to the next try ("retrying in 4 s") every second.
    Screen-reader users on the tracker and at the kiosk are told once that the page is
    offline (politely), not read each tick of the countdown; and told when it is back."""
    ticket = doomed_server.take("internal")
    phone = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    stand = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1024})
    try:
        tracker = phone.new_page()
        tracker.goto(doomed_server.base + ticket["tracker"] + "&lang=en")
        kiosk = stand.new_page()
        kiosk.goto(doomed_server.page_url("kiosk", lang="en"))
        wait_js(tracker, "window.switchboardTicket.client.state.status === 'online'")
        wait_js(kiosk, "window.switchboardKiosk.client.state.status === 'online'")
        for page in (tracker, kiosk):
            page.evaluate(WATCH_LIVE, LIVE)

        doomed_server.kill9()
        for page in (tracker, kiosk):
            page.locator(".conn-banner.offline").wait_for(state="visible", timeout=WAIT_MS)
        tracker.wait_for_timeout(6000)
        for page in (tracker, kiosk):
            banner = page.locator(".conn-banner").inner_text()
            assert "Offline since" in banner  # the visible banner is unchanged
            said = [e["text"] for e in page.evaluate("window.liveLog") if e["text"]]
            assert len(said) == 1 and said[0].startswith("Offline since"), said
            assert "retrying" not in said[0]
            # Whatever says it is a polite region, not an alert.
            assert page.evaluate("window.liveLog")[0]["live"] in ("polite", "status")

        doomed_server.start()
        for page in (tracker, kiosk):
            page.locator(".conn-banner").wait_for(state="hidden", timeout=30000)
            said = [e["text"] for e in page.evaluate("window.liveLog") if e["text"]]
            assert len(said) == 2 and said[1] == "Connected again", said
    finally:
        phone.close()
        stand.close()
