"""The kiosk's start screen puts back the kiosk's own language, text size and contrast (from its
URL and boot block) when left alone, as one person's choice is not the next one's; but a
low-vision patient may still be reading the services with large text. So, as on the ticket
screen (WCAG 2.2.1): after 90 s with nobody touching it, an alert dialog with "More time", up
for 30 s; only then do they go back. A touch or a key starts the time again; with the kiosk's
own settings there is nothing to put back and no timer at all. Done keeps the text size and
contrast of whoever tapped it; a ticket screen that times out (after its own warning) puts them
back.

On Playwright's fake clock, paused, as in test_kiosk_timeout.py: the shipped times, to the second.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import test_kiosk_timeout
from tests.browser.conftest import DemoServer

pytestmark = pytest.mark.browser
kiosk = test_kiosk_timeout.kiosk  # a 1280 px touch kiosk
CHOICES = """() => ({screen: window.switchboardKiosk.screen,
  lang: document.documentElement.lang,
  large: document.getElementById('large-btn').getAttribute('aria-pressed') === 'true'
    && document.body.classList.contains('large'),
  contrast: document.getElementById('contrast-btn').getAttribute('aria-pressed') === 'true'
    && document.body.classList.contains('contrast'),
  warning: document.getElementById('idle-dialog').open})"""
EN = {"screen": "services", "lang": "en", "large": False, "contrast": False, "warning": False}
BIG = {**EN, "large": True, "contrast": True}
ZH_BIG = {**BIG, "lang": "zh-CN"}
WARN_AT_S = 90
RESET_AT_S = 120


def choices(page: Any) -> dict[str, Any]:
    return dict(page.evaluate(CHOICES))


def choose(page: Any, *, lang: str | None = None, large: bool = False,
           contrast: bool = False) -> None:
    """Taps on the start screen's language, large-text and contrast buttons."""
    if lang:
        page.locator(f"#lang button[lang='{lang}']").tap()
    if large:
        page.locator("#large-btn").tap()
    if contrast:
        page.locator("#contrast-btn").tap()


def test_large_text_is_kept_while_warned_and_goes_only_after_the_warning(
        kiosk: Any, demo_server: DemoServer) -> None:
    """Large text and high contrast chosen, then nobody: for 90 s nothing changes; then an
    alert dialog says what will go, focus on "More time"; 30 s later (not before) the kiosk
    is back to standard text and contrast."""
    test_kiosk_timeout.open_kiosk(kiosk, demo_server.page_url("kiosk", lang="en"))
    choose(kiosk, large=True, contrast=True)
    assert choices(kiosk) == BIG
    for _ in range(WARN_AT_S - 1):
        kiosk.clock.run_for(1_000)
        assert choices(kiosk) == BIG
    kiosk.clock.run_for(1_000)
    assert choices(kiosk) == {**BIG, "warning": True}
    dialog = kiosk.get_by_role("alertdialog")
    expect(dialog).to_have_accessible_name("Do you need more time?")
    expect(dialog).to_have_accessible_description(
        "In 30 s this screen goes back to the kiosk’s usual text size, contrast and language.")
    expect(kiosk.locator("*:focus")).to_have_accessible_name("More time")
    for _ in range(RESET_AT_S - WARN_AT_S - 1):
        kiosk.clock.run_for(1_000)
        assert choices(kiosk) == {**BIG, "warning": True}
    kiosk.clock.run_for(1_000)
    assert choices(kiosk) == EN
    kiosk.clock.run_for(10 * 60_000)  # and stays so, with no more warnings
    assert choices(kiosk) == EN


def test_more_time_keeps_them_as_often_as_asked(kiosk: Any, demo_server: DemoServer) -> None:
    """"More time", tapped or pressed, gives the whole time again, twelve times over."""
    test_kiosk_timeout.open_kiosk(kiosk, demo_server.page_url("kiosk", lang="en"))
    choose(kiosk, large=True)
    for i in range(12):
        kiosk.clock.run_for(WARN_AT_S * 1_000)
        assert choices(kiosk) == {**EN, "large": True, "warning": True}, i
        test_kiosk_timeout.more_time(kiosk, tap=bool(i % 2))
        assert choices(kiosk) == {**EN, "large": True}, i
    kiosk.clock.run_for(RESET_AT_S * 1_000)
    assert choices(kiosk) == EN


def test_chinese_choices_are_warned_in_chinese_then_put_back(
        kiosk: Any, demo_server: DemoServer) -> None:
    test_kiosk_timeout.open_kiosk(kiosk, demo_server.page_url("kiosk", lang="en"))
    choose(kiosk, lang="zh-CN", large=True, contrast=True)
    kiosk.clock.run_for(WARN_AT_S * 1_000)
    assert choices(kiosk) == {**ZH_BIG, "warning": True}
    expect(kiosk.locator("#idle-text")).to_have_text(
        "30 秒后本屏将恢复本机默认的字号、对比度和语言。")
    kiosk.clock.run_for((RESET_AT_S - WARN_AT_S) * 1_000)
    assert choices(kiosk) == EN
    assert kiosk.locator("#choose-title").text_content() == "Please choose a service"


def test_the_defaults_are_the_kiosks_own_from_its_url(
        kiosk: Any, demo_server: DemoServer) -> None:
    """A kiosk set up in Chinese with large text and high contrast goes back to those, not to
    English and standard ones, after someone switched them off; and with its own settings
    showing, it never warns."""
    url = demo_server.page_url("kiosk", lang="zh") + "&text=large&contrast=high"
    test_kiosk_timeout.open_kiosk(kiosk, url)
    assert choices(kiosk) == ZH_BIG
    kiosk.clock.run_for(10 * 60_000)
    assert choices(kiosk) == ZH_BIG
    choose(kiosk, lang="en", large=True, contrast=True)
    assert choices(kiosk) == EN
    kiosk.clock.run_for(RESET_AT_S * 1_000)
    assert choices(kiosk) == ZH_BIG


def test_a_touch_or_key_on_the_start_screen_keeps_the_choices(
        kiosk: Any, demo_server: DemoServer) -> None:
    """Someone still reading the services: a tap anywhere, or a key, every 80 s for ten
    minutes keeps their large text, with no warning; left alone after the last, it goes."""
    test_kiosk_timeout.open_kiosk(kiosk, demo_server.page_url("kiosk", lang="en"))
    choose(kiosk, large=True)
    for i in range(8):
        kiosk.clock.run_for(80_000)
        if i % 2:
            kiosk.keyboard.press("Tab")
        else:
            kiosk.locator("#choose-title").tap()
        assert choices(kiosk) == {**EN, "large": True}, i
    kiosk.clock.run_for((RESET_AT_S - 1) * 1_000)
    assert choices(kiosk) == {**EN, "large": True, "warning": True}
    kiosk.clock.run_for(1_000)
    assert choices(kiosk) == EN


def test_done_keeps_large_text_and_focuses_the_first_service(
        kiosk: Any, demo_server: DemoServer) -> None:
    """Done, with the keyboard: back at the start with large text and contrast still on, the
    focus on the first service (not lost to the page); then the start screen's warned timer."""
    test_kiosk_timeout.open_kiosk(kiosk, demo_server.page_url("kiosk", lang="en"))
    choose(kiosk, large=True, contrast=True)
    kiosk.locator(".k-service[data-service='pharmacy']").press("Enter")
    kiosk.locator("#screen-ticket").wait_for()
    expect(kiosk.locator("*:focus")).to_have_id("done-btn")
    kiosk.keyboard.press("Enter")
    assert choices(kiosk) == BIG
    first = kiosk.locator("#services .k-service").first
    expect(first).to_be_focused()
    kiosk.clock.run_for(WARN_AT_S * 1_000)
    assert choices(kiosk) == {**BIG, "warning": True}
    kiosk.clock.run_for((RESET_AT_S - WARN_AT_S) * 1_000)
    assert choices(kiosk) == EN


def test_a_ticket_screen_that_times_out_puts_them_back(
        kiosk: Any, demo_server: DemoServer) -> None:
    """A ticket taken with large text and nobody there after it: the ticket screen's own
    warning, then the start screen with the kiosk's own settings."""
    test_kiosk_timeout.open_kiosk(kiosk, demo_server.page_url("kiosk", lang="en"))
    choose(kiosk, large=True, contrast=True)
    kiosk.locator(".k-service[data-service='pharmacy']").tap()
    kiosk.locator("#screen-ticket").wait_for()
    kiosk.clock.run_for(25_000)
    assert kiosk.locator("#idle-dialog").evaluate("d => d.open")
    kiosk.clock.run_for(20_000)
    assert choices(kiosk) == EN


def test_a_language_chosen_with_the_keyboard_keeps_the_focus(
        kiosk: Any, demo_server: DemoServer) -> None:
    """The language switch is rebuilt in the new language: Enter on 中文 leaves focus on the
    new 中文 button (it went to the page), and its timer is the warned one."""
    test_kiosk_timeout.open_kiosk(kiosk, demo_server.page_url("kiosk", lang="en"))
    kiosk.locator("#lang button[lang='zh-CN']").focus()
    kiosk.keyboard.press("Enter")
    expect(kiosk.locator("#lang button[lang='zh-CN']")).to_be_focused()
    assert choices(kiosk) == {**EN, "lang": "zh-CN"}
    kiosk.clock.run_for(WARN_AT_S * 1_000)
    assert choices(kiosk) == {**EN, "lang": "zh-CN", "warning": True}
