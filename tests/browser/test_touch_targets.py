"""Touch targets on the pages other than the kiosk and the counter console (those are in
test_accessibility.py): the queue tracker, the service-visit tracker, the technician's device,
the enterprise dashboard, the front page and the board. Every control a finger can reach is
at least 44 × 44 CSS px, measured as laid out (bounding boxes): WCAG 2.5.8 asks 24, phones
and gloved or older fingers want 44. The 中文 / EN switch is measured on its own too, so a page
that lost it cannot pass by having nothing to measure; it was 36 px high on the trackers and
the device, 30 on a wristband, 40 elsewhere.

At 320 CSS px (a phone; a desktop at 400 %), 640 (a desktop at 200 %) and a desktop, the
pages still fit their width. A wristband (240-320 px) keeps the same 44 px: 24 is the floor
there, and a finger on a wrist needs more, not less.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import AUTOPLAY_BLOCKED, launch, wait_js
from tests.browser.dispatch_support import ORG, DispatchDemo
from tests.browser.test_accessibility import SMALL_TARGETS, WAIT_MS, assert_reflows

pytestmark = pytest.mark.browser
TECH = "city.t1"
# What shows once each page has drawn itself from the server's data.
READY = {
    "ticket": "#cancel-btn",
    "track": "#steps .tr-step",
    "tech": ".w-head .lang-switch button",
    "org": "#kpis .o-kpi",
    "home": ".h-card",
}
LANG_BOXES = """() => [...document.querySelectorAll('.lang-switch button')]
  .filter((e) => e.checkVisibility())
  .map((e) => [e.textContent, e.getBoundingClientRect().width,
                e.getBoundingClientRect().height])"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DispatchDemo]:
    # No worker: no offer comes to cover the device's page (test_dispatch_pages.py measures
    # the wristband's full-screen offer buttons).
    d = DispatchDemo.start(tmp_path_factory.mktemp("targets"), worker=False)
    yield d
    d.stop()


@pytest.fixture(scope="module")
def links(demo: DispatchDemo) -> dict[str, str]:
    s = demo.server
    job = demo.create_job(31.2304, 121.4737, org=ORG, customer="Touch targets",
                          address="黄浦区 南京东路 1号")
    return {
        "ticket": s.base + s.take("cashier")["tracker"] + "&lang=en",
        "track": demo.track_url(job, lang="en"),
        "tech": demo.tech_url(TECH, lang="en"),
        "org": demo.org_url(lang="en"),
        "home": s.base + "/?lang=en",
    }


def open_page(browser: Any, url: str, ready: str, width: int,
              height: int = 800) -> tuple[Any, Any]:
    ctx = browser.new_context(locale="en-US", viewport={"width": width, "height": height},
                              has_touch=True)
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    page.locator(ready).first.wait_for()
    return ctx, page


def assert_targets(page: Any, where: str) -> None:
    switch = page.evaluate(LANG_BOXES)
    assert [name for name, _, _ in switch] == ["中文", "EN"], f"{where}: {switch}"
    assert all(w >= 44 and h >= 44 for _, w, h in switch), f"{where}: {switch}"
    assert page.evaluate(SMALL_TARGETS) == [], where


# First in the module: the demo's own offers to this technician last two minutes from the
# server's start, and this test needs one on the screen.
@pytest.mark.parametrize("width", [240, 300])
def test_a_wristband_keeps_44_px_targets_and_its_offer_on_the_screen(
        browser: Any, links: dict[str, str], width: int) -> None:
    """The device's wristband layout (a square screen of 240-320 px): 中文 / EN are 44 × 44
    (were 31 × 30) and the header grows by 14 px at most; an offer fills the screen with
    Accept and Decline wholly on it, 64 px high at least (at 240 px the card went past the
    screen's side and the buttons below its edge)."""
    ctx, page = open_page(browser, links["tech"], "body.has-offer .offer-card", width, width)
    try:
        assert_targets(page, f"wristband at {width} px")
        assert_reflows(page, f"wristband at {width} px")
        head = page.locator(".w-head").bounding_box()
        name = page.locator(".w-name").bounding_box()
        assert head["height"] <= 60 and name["width"] >= 60, (head, name)
        # Whichever facts the first offer has: a time window (its longest value; it wrapped
        # to two lines at 240 px and pushed the buttons off the screen, depending on the
        # hour the demo's offers were made) stays whole on one line.
        fit = page.evaluate("""() => {
          const d = document.querySelector('.offer-card .offer-facts dd');
          d.textContent = '22:57–00:57';
          return [d.scrollWidth, d.clientWidth, d.getBoundingClientRect().height,
                  parseFloat(getComputedStyle(d).fontSize)];
        }""")
        assert fit[0] <= fit[1] and fit[2] <= fit[3] * 1.6 and fit[3] >= 14, fit
        for button in (".offer-decline", ".offer-accept"):
            box = page.locator(f".offer-card {button}").first.bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= width, (button, box)
            assert box["height"] >= 64 and box["width"] >= 88, (button, box)
    finally:
        ctx.close()


@pytest.mark.parametrize("width", [320, 640, 1280])
@pytest.mark.parametrize("where", list(READY))
def test_every_control_is_a_44_px_target_and_the_page_still_fits(
        browser: Any, links: dict[str, str], where: str, width: int) -> None:
    ctx, page = open_page(browser, links[where], READY[where], width)
    try:
        if where == "tech":
            wait_js(page, "window.switchboardTech && window.switchboardTech.state.ready")
        assert_targets(page, f"{where} at {width} px")
        # A map's drawing runs past its frame, which clips it: not content lost.
        assert_reflows(page, f"{where} at {width} px", skip=".map")
    finally:
        ctx.close()


@pytest.mark.parametrize("width", [320, 1920])
def test_the_board_sound_button_is_a_44_px_target(pw: Any, demo: DispatchDemo,
                                                  width: int) -> None:
    """The board's one control, the button that lets it speak where the browser blocks
    sound, on a TV and on a phone-sized window."""
    blocked = launch(pw, AUTOPLAY_BLOCKED)
    try:
        page = blocked.new_page(viewport={"width": width, "height": 1080})
        page.goto(demo.server.page_url("board", lang="en"))
        page.locator("#gate-btn").wait_for(state="visible", timeout=WAIT_MS)
        box = page.locator("#gate-btn").bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, box
        assert page.evaluate(SMALL_TARGETS) == []
    finally:
        blocked.close()
