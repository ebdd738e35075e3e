"""A booking's `suspended` message carries the alternatives as the suspension found them;
replayed after a reconnection, a time taken since was still offered on the booking page.
The page now reads the booking again (GET /v1/bookings/{id}, once per such message) and
shows the alternatives free now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DemoServer, wait_js
from tests.browser.test_booking_page import book, book_slot

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    page.set_default_timeout(15000)
    yield page
    ctx.close()


def test_a_replayed_suspension_shows_only_the_times_free_now(phone: Any,
                                                             demo_server: DemoServer) -> None:
    b = book(demo_server, "paediatrics", dt.date.today() + dt.timedelta(days=5))
    path = f"/v1/bookings/{b['id']}"
    reads: list[str] = []
    phone.on("request", lambda r: reads.append(r.method)
             if r.url.split("?")[0].endswith(path) and r.method == "GET" else None)
    phone.goto(demo_server.base + b["manage"] + "&lang=en")
    wait_js(phone, "window.switchboardBooking.booking?.status === 'confirmed'")
    # The page goes away (a phone asleep): the suspension comes meanwhile, and the first
    # time it offers is then taken by others.
    phone.evaluate("window.switchboardBooking.client.stop()")
    start = dt.datetime.fromisoformat(b["start"])
    agent = demo_server.token("agent", site="demo", counter="1")
    demo_server.post(f"/v1/sites/demo/resources/{b['resource']}/suspend", agent, {
        "from": (start - dt.timedelta(minutes=1)).isoformat(),
        "until": (start + dt.timedelta(hours=1)).isoformat(), "reason": "called away"})
    auth = {"Authorization": f"Bearer {b['token']}"}
    alts = httpx.get(demo_server.base + path, headers=auth, timeout=10).json()[
        "suspension"]["alternatives"]
    assert len(alts) >= 2, alts
    taken = alts[0]
    for _ in range(taken["remaining"]):
        book_slot(demo_server, taken["slot"])
    now = httpx.get(demo_server.base + path, headers=auth, timeout=10).json()
    free = [a["slot"] for a in now["suspension"]["alternatives"] if a["remaining"] > 0]
    assert taken["slot"] not in free and free, now
    # Every time the page ever offers, from the moment it comes back.
    phone.evaluate("""() => {
      window.offered = new Set();
      const list = document.getElementById('alts-list');
      const note = () => list.querySelectorAll('[data-slot]').forEach(
        (e) => window.offered.add(e.dataset.slot));
      new MutationObserver(note).observe(list, { childList: true, subtree: true });
    }""")
    before = len(reads)
    phone.evaluate("window.switchboardBooking.client.start()")
    wait_js(phone, "document.querySelectorAll('#alts-list [data-slot]').length > 0")
    phone.wait_for_timeout(1000)  # a late answer, or a second read, would show by now
    shown = phone.evaluate("[...document.querySelectorAll('#alts-list [data-slot]')]"
                           ".map((e) => e.dataset.slot)")
    assert shown == free
    assert taken["slot"] not in phone.evaluate("[...window.offered]")
    assert len(reads) - before == 1  # the replayed message: one read, not more
