"""The public booking page books in the language the person reads it in: its texts then go
in that language (``lang`` of the booking, docs/appointments.md), not the site's first."""

from __future__ import annotations

from typing import Any

import pytest
from redis import Redis

from queueing import keys
from realtime.auth import make_token
from tests.browser.conftest import SECRET, DemoServer, wait_js
from tests.browser.test_booking_page import phone, texted_code  # noqa: F401  (a fixture)

pytestmark = pytest.mark.browser


def test_an_english_page_books_with_lang_en(phone: Any,  # noqa: F811
                                            demo_server: DemoServer) -> None:
    web = make_token(SECRET, "partner", site="demo", channels=["web"], subject="web-lang")
    phone.goto(f"{demo_server.base}/book/demo?token={web}&lang=zh")
    phone.locator("#services button").first.wait_for()
    phone.locator("#lang button", has_text="EN").tap()  # switched on the page itself
    phone.locator("#services button", has_text="Laboratory").tap()
    times = phone.locator("#times .b-time")
    times.first.wait_for()
    first_day = phone.evaluate("window.switchboardBook.day")
    phone.locator("#day-next").tap()
    wait_js(phone, f"window.switchboardBook.day > {first_day!r}")
    times.nth(2).tap()
    phone.locator("#phone").fill("+44 7700 900555")
    phone.locator("#code-send").tap()
    # The code is in the outbox once the page says it was sent (not as the tap returns).
    phone.locator("#code-hint", has_text="+447700900555").wait_for()
    phone.locator("#code").fill(texted_code(demo_server, "+447700900555"))
    phone.locator("#book-go").tap()
    phone.wait_for_url("**/booking/**")
    wait_js(phone, "window.switchboardBooking?.booking?.status === 'confirmed'")
    b = phone.evaluate("window.switchboardBooking.booking")
    with Redis(unix_socket_path=str(demo_server.data_dir / "redis.sock")) as r:
        kept = r.hget(keys.prefix("demo") + "bk:b:" + b["id"], "lang")
    assert kept == b"en"
