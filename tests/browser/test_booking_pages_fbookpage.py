"""The public booking pages, a booking review's findings (in real Chromium against a demo
server): /book's mobile number takes the usual written forms whole ("+86 138 0013 8071" was
cut to 16 characters, spaces counted, and a code texted to another number), and texts and
books the number typed; a suspended booking's page says the suspension first, in its status
too, with no check-in instructions above it; a time another channel took between the list
and "Move it" leaves the list when the move is refused, instead of failing again."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from realtime.auth import make_token
from tests.browser import test_booking_review as review
from tests.browser.conftest import SECRET, DemoServer, wait_js
from tests.browser.test_booking_page import book, texted_code
from tests.browser.test_booking_review import _open, _page

pytestmark = pytest.mark.browser
ctx = review.ctx  # a 390 px phone (the fixture)
_customers = itertools.count(1)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    server = DemoServer(tmp_path_factory.mktemp("fbookpage")).start()
    yield server
    server.stop()


def _book_page(ctx: Any, server: DemoServer) -> Any:
    """/book with a time of the lab's next day chosen (as the page's own test does)."""
    web = make_token(SECRET, "partner", site="demo", channels=["web"], subject="web-fbookpage")
    page = _page(ctx)
    page.goto(f"{server.base}/book/demo?token={web}&lang=zh")
    page.locator("#services button", has_text="检验科").tap()
    times = page.locator("#times .b-time")
    times.first.wait_for()
    first_day = page.evaluate("window.switchboardBook.day")
    page.locator("#day-next").tap()
    wait_js(page, f"window.switchboardBook.day > {first_day!r}")
    times.nth(1).tap()
    page.locator("#chosen", has_text="已选：检验科").wait_for()
    return page


@pytest.mark.parametrize(("typed", "e164"), [
    ("+86 138 0013 8071", "+8613800138071"),
    ("0086 139 0013 8072", "+8613900138072"),
    ("+86 (137) 0013-8073", "+8613700138073"),
])
def test_a_number_written_the_usual_ways_is_kept_whole_and_texted(
        ctx: Any, demo_server: DemoServer, typed: str, e164: str) -> None:
    page = _book_page(ctx, demo_server)
    page.locator("#phone").fill(typed)
    assert page.locator("#phone").input_value() == typed  # 16 characters cut the last digit
    page.locator("#code-send").tap()
    sent = page.evaluate("(n) => import('/static/js/book.js').then((m) => m.normalisePhone(n))",
                         typed)
    page.locator("#code-hint", has_text=f"验证码已发送至 {sent}").wait_for()
    assert page.locator("#phone-error").inner_text() == ""
    code = texted_code(demo_server, e164)  # the outbox of the number typed, not another
    page.locator("#code").fill(code)
    page.locator("#book-go").tap()
    page.wait_for_url("**/booking/**")
    wait_js(page, "window.switchboardBooking?.booking?.status === 'confirmed'")
    assert page.evaluate("window.switchboardBooking.booking.customer") == e164


def test_full_width_numbers_are_read_as_typed(ctx: Any, demo_server: DemoServer) -> None:
    """A Chinese input method types full-width digits, brackets and dashes."""
    page = _book_page(ctx, demo_server)
    got = page.evaluate("""() => import('/static/js/book.js').then((m) => [
      m.normalisePhone('＋８６ （１３８） ００１３－８０７１'),
      m.normalisePhone('138\u30000013\u20138071'),
      m.PHONE.test(m.normalisePhone('＋８６ １３８ ００１３ ８０７１'))])""")
    assert got == ["+8613800138071", "13800138071", True]


def test_a_suspended_booking_says_the_suspension_first(ctx: Any,
                                                       demo_server: DemoServer) -> None:
    b = book(demo_server, "paediatrics", dt.date.today() + dt.timedelta(days=1))
    page = _page(ctx)  # 390 px
    _open(page, demo_server, b, "zh")
    assert page.locator("#b-state").inner_text() == "已预约"
    start = dt.datetime.fromisoformat(b["start"])
    demo_server.post(f"/v1/sites/demo/resources/{b['resource']}/suspend",
                     demo_server.token("agent", site="demo", counter="1"), {
                         "from": (start - dt.timedelta(minutes=1)).isoformat(),
                         "until": (start + dt.timedelta(hours=1)).isoformat(),
                         "reason": "去会诊"})
    page.locator("#status", has_text="去会诊").wait_for()
    lines = page.locator("#status p").all_inner_texts()
    assert "停诊" in lines[0] and "去会诊" in lines[0], lines
    assert "保留您的排队位置" in lines[1], lines
    assert page.locator("#b-state").inner_text() == "医生停诊，请改约"
    assert "chip-warn" in (page.locator("#b-state").get_attribute("class") or "")
    assert page.evaluate("window.switchboardBooking.booking.status") == "confirmed"
    # Nothing about checking in is said before the suspension.
    assert not any("签到" in x or "预约成功" in x for x in lines[:2]), lines
    # Answered (one of the alternatives): "booked" again.
    page.locator("#alts-list .b-slot").first.tap()
    page.locator("#ask-yes").tap()
    wait_js(page, "window.switchboardBooking.booking.suspension?.answered !== false")
    page.locator("#b-state", has_text="已预约").wait_for()
    assert "停诊" not in page.locator("#status").inner_text()


def _take(server: DemoServer, slot: str) -> None:
    """Another channel takes every place of ``slot``."""
    tok = make_token(SECRET, "partner", site="demo", channels=["app", "web"], subject="other")
    for channel in ("web", "app"):
        for _ in range(50):
            r = httpx.post(f"{server.base}/v1/sites/demo/bookings", timeout=10,
                           headers={"Authorization": f"Bearer {tok}"},
                           json={"slot": slot, "customer": f"taker-{next(_customers)}",
                                 "channel": channel})
            if r.status_code != 201:
                assert r.status_code == 409, r.text
                break


def test_a_time_taken_meanwhile_leaves_the_list(ctx: Any, demo_server: DemoServer) -> None:
    b = book(demo_server, "internal", dt.date.today() + dt.timedelta(days=3))
    page = _page(ctx)
    _open(page, demo_server, b)
    page.locator("#act-move").tap()
    times = page.locator("#move-list .b-time")
    times.first.wait_for()
    pick = times.nth(1)
    slot = pick.get_attribute("data-slot")
    assert slot and slot != b["slot"]
    _take(demo_server, slot)
    pick.tap()
    page.locator("#ask-yes").tap()
    page.locator(".toast.error").wait_for()
    # The list is read again: the taken time is gone, the others are still there.
    wait_js(page, f"!document.querySelector('#move-list [data-slot=\"{slot}\"]') && "
                  "document.querySelectorAll('#move-list .b-time').length > 0", timeout_s=5)
    assert page.evaluate("window.switchboardBooking.booking.slot") == b["slot"]
    assert page.locator("#move").is_visible()
    assert page.evaluate("document.activeElement.id") == "move-title"
