"""A device page that cannot know its site's language (the site is unknown, or the link is
refused before the site is read) showed its error in Chinese only ("没有这个站点。"), so
whoever set up a kiosk in an English browser could not read it. Every device page now says
it in the browser's language when it is one of ours, then the other (Chinese first for any
other browser language); an expired link says it has expired and to ask for a new one."""

from __future__ import annotations

import re
from typing import Any

import pytest

from realtime.auth import make_token
from tests.browser.conftest import SECRET, DemoServer, wait_js

pytestmark = pytest.mark.browser
CJK = re.compile(r"[\u4e00-\u9fff]")

# Every device page, at an address a refused link would open: a display token of another
# site opens none of them.
PAGES = {
    "kiosk": "/kiosk/demo", "board": "/board/demo", "counter": "/counter/demo/1",
    "ticket": "/ticket/{ticket}", "booking": "/booking/nosuchbooking",
    "supervise": "/supervise/demo", "phone": "/phone/demo", "tech": "/tech/t1",
    "track": "/track/j1", "dispatch-console": "/dispatch/r1", "org": "/org/o1",
}


def _screen(browser: Any, url: str, locale: str) -> tuple[str, str, str, str, str]:
    """(first line, its lang, second line, its lang, code) of the page's error screen."""
    ctx = browser.new_context(locale=locale, viewport={"width": 1280, "height": 800})
    try:
        page = ctx.new_page()
        page.goto(url)
        wait_js(page, "document.querySelector('.error-screen h1')")
        got = page.evaluate("""() => {
          const s = document.querySelector('.error-screen');
          const first = s.querySelector('h1'), second = s.querySelector('.error-second');
          return [first.textContent, first.lang, second?.textContent ?? '',
                  second?.lang ?? '', s.querySelector('.muted').textContent];
        }""")
        first, first_lang, second, second_lang, code = (str(x) for x in got)
        return first, first_lang, second, second_lang, code
    finally:
        ctx.close()


@pytest.mark.parametrize("kind", list(PAGES))
def test_a_refused_link_is_told_in_english_and_chinese(browser: Any, demo_server: DemoServer,
                                                      kind: str) -> None:
    ticket = demo_server.take()["id"]
    token = make_token(SECRET, "display", site="elsewhere")
    url = f"{demo_server.base}{PAGES[kind].format(ticket=ticket)}?token={token}"
    first, first_lang, second, second_lang, code = _screen(browser, url, "en-GB")
    assert code, kind
    # The browser's language (English) first, then Chinese.
    assert first_lang == "en" and not CJK.search(first) and re.search("[a-z]{3}", first), first
    assert second_lang == "zh-CN" and CJK.search(second), (kind, second)


@pytest.mark.parametrize(("locale", "first", "second"), [
    ("en-GB", "There is no such site.", "没有这个站点。"),
    ("zh-CN", "没有这个站点。", "There is no such site."),
    ("fr-FR", "没有这个站点。", "There is no such site."),  # neither: Chinese, then English
])
def test_an_unknown_site_on_a_kiosk(browser: Any, demo_server: DemoServer, locale: str,
                                    first: str, second: str) -> None:
    token = make_token(SECRET, "kiosk", site="nosuch")
    got = _screen(browser, f"{demo_server.base}/kiosk/nosuch?token={token}", locale)
    assert (got[0], got[2], got[4]) == (first, second, "unknown_site")


@pytest.mark.parametrize(("kind", "role", "path", "en", "zh"), [
    ("kiosk", "kiosk", "/kiosk/demo", "This link has expired. Ask staff for a new one.",
     "此链接已过期，请向工作人员索取新链接。"),
    ("board", "display", "/board/demo", "This link has expired. Ask staff for a new one.",
     "此链接已过期，请向工作人员索取新链接。"),
    ("counter", "agent", "/counter/demo/1",
     "This link has expired. Ask your administrator for a new one.",
     "此链接已过期，请向管理员索取新链接。"),
    ("supervise", "supervisor", "/supervise/demo",
     "This link has expired. Ask your administrator for a new one.",
     "此链接已过期，请向管理员索取新链接。"),
])
def test_an_expired_link_says_so_and_to_ask_for_a_new_one(
        browser: Any, demo_server: DemoServer, kind: str, role: str, path: str, en: str,
        zh: str) -> None:
    counter = "1" if role == "agent" else None
    token = make_token(SECRET, role, site="demo", counter=counter, ttl_s=-60)
    got = _screen(browser, f"{demo_server.base}{path}?token={token}", "en-GB")
    assert (got[0], got[2], got[4]) == (en, zh, "unauthorized"), kind
