"""Console and floor-overview links last 30 days, so everything made on set-up day stopped
together, without a word. In a link's last 3 days both pages now say, calmly, when it stops
working (the site's date and time, whatever zone the device is set to) and to ask the
administrator for a new one, in English and Chinese; a link with longer to go shows nothing."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from realtime.auth import make_token
from tests.browser.conftest import SECRET, DemoServer, wait_js

pytestmark = pytest.mark.browser
DAY_S = 86400
TZ = "Europe/London"  # the device's zone, not the site's
SITE_TZ = "Asia/Shanghai"
PAGES = {
    "console": ("agent", "2", "/counter/demo/2",
                "window.switchboardCounter && document.body.dataset.state"),
    "overview": ("supervisor", None, "/supervise/demo",
                 "window.switchboardSupervise && window.switchboardSupervise.board.ready"),
}
SAYS = {"en": ("This link stops working on", "ask your administrator for a new one"),
        "zh": ("此链接将于", "失效，请向管理员索取新链接")}


def _open(browser: Any, server: DemoServer, kind: str, lang: str, ttl_s: int) -> tuple[Any, Any]:
    role, counter, path = PAGES[kind][:3]
    token = make_token(SECRET, str(role), site="demo", counter=counter, ttl_s=ttl_s)
    ctx = browser.new_context(locale="en-GB" if lang == "en" else "zh-CN", timezone_id=TZ,
                              viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.goto(f"{server.base}{path}?token={token}&lang={lang}")
    wait_js(page, PAGES[kind][3])
    return ctx, page


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("kind", list(PAGES))
def test_a_link_in_its_last_days_says_when_it_stops(browser: Any, demo_server: DemoServer,
                                                    kind: str, lang: str) -> None:
    ttl_s = 2 * DAY_S
    ctx, page = _open(browser, demo_server, kind, lang, ttl_s)
    try:
        notice = page.locator(".link-expiry")
        notice.wait_for(timeout=5000)
        text = notice.inner_text()
        assert all(part in text for part in SAYS[lang]), text
        assert notice.get_attribute("role") == "status"
        # The date it stops, on the site's clock (2 days from now), not the device's.
        exp = dt.datetime.fromtimestamp(time.time() + ttl_s, ZoneInfo(SITE_TZ))
        date = (f"{exp.day} {exp:%B} {exp.year}" if lang == "en"
                else f"{exp.year}年{exp.month}月{exp.day}日")
        assert date in text, (date, text)
        # At the top of the page, above everything else, readable (in the viewport).
        box = notice.bounding_box()
        assert box is not None and box["y"] < 50 and box["height"] > 10
    finally:
        ctx.close()


@pytest.mark.parametrize("kind", list(PAGES))
def test_a_link_with_longer_to_go_shows_no_notice(browser: Any, demo_server: DemoServer,
                                                  kind: str) -> None:
    for ttl_s in (30 * DAY_S, 4 * DAY_S):
        ctx, page = _open(browser, demo_server, kind, "en", ttl_s)
        try:
            page.wait_for_timeout(300)
            assert not page.locator(".link-expiry").is_visible(), ttl_s
            assert "stops working" not in page.locator("body").inner_text()
        finally:
            ctx.close()
