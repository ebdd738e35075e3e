"""The kiosk's start screen, left alone for 60 s, puts back the kiosk's own language, text size
and contrast (from its URL and boot block): one person's choice is not kept for the next. No
warning, as nothing of anyone's is lost; a touch or a key on the start screen starts the 60 s
again, so it never changes under someone using it.

On Playwright's fake clock, paused, as in test_kiosk_timeout.py: the shipped 60 s, to the second.
"""

from __future__ import annotations

from typing import Any

import pytest

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
ZH_BIG = {"screen": "services", "lang": "zh-CN", "large": True, "contrast": True,
          "warning": False}


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


def test_choices_left_on_the_start_screen_go_back_after_60_s(
        kiosk: Any, demo_server: DemoServer) -> None:
    """Chinese, large text and high contrast chosen, then nobody: at 59 s they are still
    there, at 60 s the kiosk is back in English, standard text and contrast, with no warning
    on the way."""
    test_kiosk_timeout.open_kiosk(kiosk, demo_server.page_url("kiosk", lang="en"))
    choose(kiosk, lang="zh-CN", large=True, contrast=True)
    assert choices(kiosk) == ZH_BIG
    for _ in range(59):
        kiosk.clock.run_for(1_000)
        assert choices(kiosk) == ZH_BIG
    kiosk.clock.run_for(1_000)
    assert choices(kiosk) == EN
    assert kiosk.locator("#choose-title").text_content() == "Please choose a service"
    kiosk.clock.run_for(10 * 60_000)  # and stays so
    assert choices(kiosk) == EN


def test_the_defaults_are_the_kiosks_own_from_its_url(
        kiosk: Any, demo_server: DemoServer) -> None:
    """A kiosk set up in Chinese with large text and high contrast goes back to those, not to
    English and standard ones, after someone switched them off."""
    url = demo_server.page_url("kiosk", lang="zh") + "&text=large&contrast=high"
    test_kiosk_timeout.open_kiosk(kiosk, url)
    assert choices(kiosk) == ZH_BIG
    choose(kiosk, lang="en", large=True, contrast=True)
    assert choices(kiosk) == EN
    kiosk.clock.run_for(60_000)
    assert choices(kiosk) == ZH_BIG


def test_a_touch_or_key_on_the_start_screen_keeps_the_choices(
        kiosk: Any, demo_server: DemoServer) -> None:
    """Someone still reading the services: a tap anywhere, or a key, every 50 s for five
    minutes keeps their large text; left alone 60 s after the last, it goes."""
    test_kiosk_timeout.open_kiosk(kiosk, demo_server.page_url("kiosk", lang="en"))
    choose(kiosk, large=True)
    for i in range(6):
        kiosk.clock.run_for(50_000)
        if i % 2:
            kiosk.keyboard.press("Tab")
        else:
            kiosk.locator("#choose-title").tap()
        assert choices(kiosk) == {**EN, "large": True}, i
    kiosk.clock.run_for(59_000)
    assert choices(kiosk) == {**EN, "large": True}
    kiosk.clock.run_for(1_000)
    assert choices(kiosk) == EN


def test_a_ticket_screens_timeout_then_the_start_screens(
        kiosk: Any, demo_server: DemoServer) -> None:
    """Back at the start from the ticket screen (Done), a choice made there for the next
    ticket is put back 60 s later too."""
    test_kiosk_timeout.take_ticket(kiosk, demo_server.page_url("kiosk", lang="en"))
    kiosk.locator("#done-btn").tap()
    choose(kiosk, contrast=True)
    kiosk.clock.run_for(59_000)
    assert choices(kiosk) == {**EN, "contrast": True}
    kiosk.clock.run_for(1_000)
    assert choices(kiosk) == EN
