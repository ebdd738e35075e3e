"""The kiosk's check-in screen times out like its ticket screen (test_kiosk_timeout.py): a
half-typed booking code, or a refused one with its message, must not wait there for the next
person. After 25 s with no touch, key or typing an alert dialog asks "Do you need more time?"
for the last 20 s; its one big button, or any touch or key, gives the whole 45 s again; with
nobody there the kiosk goes back to the start and the code is gone. The start screen itself
never warns (it only puts back the kiosk's defaults: test_kiosk_start_reset.py).

On Playwright's fake clock, paused, as in test_kiosk_timeout.py: the shipped 45 s and 20 s,
to the second.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import test_kiosk_timeout
from tests.browser.conftest import DemoServer
from tests.browser.test_accessibility import SMALL_TARGETS, assert_reflows

pytestmark = pytest.mark.browser
kiosk = test_kiosk_timeout.kiosk  # a 1280 px touch kiosk, as the ticket screen's tests use
STATE = """() => ({screen: window.switchboardKiosk.screen,
  code: document.getElementById('code').value,
  error: document.getElementById('checkin-error').textContent,
  warning: document.getElementById('idle-dialog').open})"""


def open_check_in(page: Any, url: str) -> None:
    """The kiosk on a paused clock, on its check-in screen."""
    test_kiosk_timeout.open_kiosk(page, url)
    page.locator("#appt-btn").tap()
    page.locator("#keypad button").first.wait_for()


def key(page: Any, name: str) -> None:
    """A tap on one key of the on-screen keypad."""
    page.locator("#keypad").get_by_role("button", name=name, exact=True).tap()


def state(page: Any) -> dict[str, Any]:
    return dict(page.evaluate(STATE))


def test_left_alone_it_warns_20_s_before_and_goes_back_with_the_code_cleared(
        kiosk: Any, demo_server: DemoServer) -> None:
    """Half a code typed and nobody there: at 25 s the warning says the code will be
    cleared, with focus on "More time"; at 45 s the kiosk is back at the start, and the
    next person who opens check-in finds an empty field."""
    open_check_in(kiosk, demo_server.page_url("kiosk", lang="en"))
    for k in "AB3":
        key(kiosk, k)
    kiosk.clock.run_for(24_000)
    assert state(kiosk) == {"screen": "checkin", "code": "AB3", "error": "", "warning": False}
    expect(kiosk.locator("#idle-dialog")).to_be_hidden()
    kiosk.clock.run_for(1_000)
    assert state(kiosk)["warning"]
    dialog = kiosk.get_by_role("alertdialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_accessible_name("Do you need more time?")
    expect(dialog).to_have_accessible_description(
        "In 20 s this screen goes back to the start and the code you typed is cleared.")
    expect(kiosk.locator("*:focus")).to_have_accessible_name("More time")

    kiosk.clock.run_for(19_000)
    assert state(kiosk) == {"screen": "checkin", "code": "AB3", "error": "", "warning": True}
    kiosk.clock.run_for(1_000)
    assert state(kiosk) == {"screen": "services", "code": "", "error": "", "warning": False}
    expect(kiosk.locator("#screen-checkin")).to_be_hidden()
    kiosk.locator("#appt-btn").tap()
    expect(kiosk.locator("#code")).to_have_value("")


def test_a_refused_code_and_its_message_go_too(kiosk: Any, demo_server: DemoServer) -> None:
    """A check-in result left on screen (here: no such booking, with the code typed on a
    keyboard) is someone's too: cleared with the code when the kiosk goes back."""
    open_check_in(kiosk, demo_server.page_url("kiosk", lang="en"))
    kiosk.locator("#code").press_sequentially("ZZ9Z9Z")
    kiosk.locator("#checkin-submit").tap()
    expect(kiosk.locator("#checkin-error")).to_contain_text("could not find that code")
    kiosk.clock.run_for(25_000)
    assert state(kiosk)["warning"]
    kiosk.clock.run_for(20_000)
    assert state(kiosk) == {"screen": "services", "code": "", "error": "", "warning": False}


def test_more_time_typing_or_a_touch_keeps_the_code_as_often_as_asked(
        kiosk: Any, demo_server: DemoServer) -> None:
    """Someone looking for the code on their phone: "More time" (tapped or pressed), a key
    typed, a keypad tap, each give the whole 45 s again and keep what was typed; focus goes
    back to where it was. Ten rounds past the deadline each had; then, left alone, back."""
    open_check_in(kiosk, demo_server.page_url("kiosk", lang="en"))
    kiosk.locator("#code").press_sequentially("K7")
    kiosk.clock.run_for(25_000)
    for i in range(10):
        assert state(kiosk)["warning"], i
        test_kiosk_timeout.more_time(kiosk, tap=bool(i % 2))
        assert state(kiosk) == {"screen": "checkin", "code": "K7", "error": "",
                                "warning": False}, i
        expect(kiosk.locator("*:focus")).to_have_id("code")
        kiosk.clock.run_for(21_000)  # past the deadline it had
        assert state(kiosk)["screen"] == "checkin" and not state(kiosk)["warning"], i
        kiosk.clock.run_for(4_000)  # 25 s since More time: the warning again
    kiosk.locator("#more-time").tap()

    # Typing is being there: a key on the keyboard or the keypad every 24 s, for two minutes.
    for i in range(5):
        kiosk.clock.run_for(24_000)
        if i % 2:
            key(kiosk, "M")
        else:
            kiosk.locator("#code").press("End")  # after the keypad's last key, not before
            kiosk.keyboard.press("N")
        assert not state(kiosk)["warning"], i
    assert state(kiosk) == {"screen": "checkin", "code": "K7NMNMN", "error": "",
                            "warning": False}
    kiosk.clock.run_for(45_000)
    assert state(kiosk) == {"screen": "services", "code": "", "error": "", "warning": False}


@pytest.mark.parametrize("tap", [False, True])
def test_after_more_time_keyboard_typing_goes_after_the_code(
        kiosk: Any, demo_server: DemoServer, tap: bool) -> None:
    """The warning closed ("More time" tapped or pressed), focus is back in the code field
    with the caret after what was typed: the next key typed on a keyboard goes at the end,
    not in front of the code."""
    open_check_in(kiosk, demo_server.page_url("kiosk", lang="en"))
    kiosk.locator("#code").press_sequentially("K7P")
    kiosk.clock.run_for(25_000)
    assert state(kiosk)["warning"]
    test_kiosk_timeout.more_time(kiosk, tap=tap)
    assert not state(kiosk)["warning"]
    assert kiosk.evaluate("""() => { const c = document.getElementById('code');
      return [document.activeElement === c, c.selectionStart, c.selectionEnd]; }""") == [
        True, 3, 3]
    kiosk.keyboard.type("N4")
    assert state(kiosk)["code"] == "K7PN4"


def test_back_clears_the_code_and_the_start_screen_never_times_out(
        kiosk: Any, demo_server: DemoServer) -> None:
    """Back to the services leaves no code behind in the hidden form; the start screen,
    with nothing of anyone's on it, stays as it is: no warning, however long."""
    open_check_in(kiosk, demo_server.page_url("kiosk", lang="en"))
    kiosk.locator("#code").press_sequentially("Q4")
    kiosk.locator("#checkin-back").tap()
    assert state(kiosk) == {"screen": "services", "code": "", "error": "", "warning": False}
    kiosk.clock.run_for(10 * 60_000)
    assert state(kiosk) == {"screen": "services", "code": "", "error": "", "warning": False}


@pytest.mark.parametrize("width", [320, 1280])
def test_the_check_in_warning_in_chinese_fits_and_is_a_big_target(
        browser: Any, demo_server: DemoServer, width: int) -> None:
    """The same dialog on the check-in screen, in the kiosk's language; at 320 CSS px too
    it fits the width and every target is 44 px at least."""
    ctx = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 720},
                              has_touch=True)
    try:
        page = ctx.new_page()
        open_check_in(page, demo_server.page_url("kiosk", lang="zh"))
        key(page, "7")
        page.clock.run_for(25_000)
        dialog = page.get_by_role("alertdialog")
        expect(dialog).to_have_accessible_name("您需要更多时间吗？")
        expect(dialog).to_have_accessible_description(
            "20 秒后本屏将返回首页，并清除您输入的预约码。")
        expect(page.locator("*:focus")).to_have_accessible_name("需要更多时间")
        assert_reflows(page, "check-in warning")
        assert page.evaluate(SMALL_TARGETS) == []
    finally:
        ctx.close()
