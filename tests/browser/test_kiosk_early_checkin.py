"""A booked person who checks in at the kiosk more than ``appointment_early_s`` before the
appointment waits as a walk-in from the check-in (docs/appointments.md): the ticket still
names the appointment, so the kiosk says why they are in line with everyone else.

The check-in answer is Playwright's (``page.route``): the demo's bookings are not at a fixed
time of day. The booking policy the kiosk reads to tell (GET …/booking) is the demo's own:
``ticket_priority`` ``appointment``, the site's default class ``walk_in``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser import test_kiosk_timeout
from tests.browser.conftest import DemoServer

pytestmark = pytest.mark.browser
kiosk = test_kiosk_timeout.kiosk
CHECK_IN = "**/v1/sites/demo/check-in"


def answer(priority: str) -> dict[str, Any]:
    """A check-in's 201 as the server shapes it (a ticket plus ``booking``)."""
    return {"id": "demo.0a0b0c0d0e0f", "site": "demo", "number": "P031", "service": "pharmacy",
            "status": "waiting", "priority": priority, "channel": "kiosk", "position": 4,
            "people_ahead": 3, "counter": None, "calls": 0,
            "issued_at": "2030-05-06T17:01:00+08:00", "called_at": None,
            "started_at": None, "ended_at": None,
            "appointment_at": "2030-05-06T17:35:00+08:00",
            "token": "t", "tracker": "/t/demo.0a0b0c0d0e0f?token=t", "booking": "b1"}


def check_in(page: Any, url: str, priority: str) -> None:
    page.route(CHECK_IN, lambda route: route.fulfill(
        status=201, content_type="application/json", body=json.dumps(answer(priority))))
    test_kiosk_timeout.open_kiosk(page, url)
    page.locator("#appt-btn").tap()
    page.locator("#code").fill("ABC234")
    # The kiosk reads the booking policy after the check-in: wait for its answer.
    with page.expect_response(lambda r: r.url.endswith("/v1/sites/demo/booking")) as policy:
        page.locator("#checkin-submit").tap()
    assert policy.value.ok
    page.locator("#screen-ticket").wait_for()


@pytest.mark.parametrize(("lang", "text"), [
    ("en", "You’re early for your 17:35 appointment, so you’re in line in order of "
           "arrival, like everyone else."),
    ("zh", "您比预约时间 17:35 来得早，现按到达顺序与大家一起排队。"),
])
def test_an_early_check_in_is_told_it_waits_in_order_of_arrival(
        kiosk: Any, demo_server: DemoServer, lang: str, text: str) -> None:
    check_in(kiosk, demo_server.page_url("kiosk", lang=lang), "walk_in")
    note = kiosk.locator("#t-note")
    expect(note).to_be_visible()
    expect(note).to_have_text(text)
    # Read with the ticket by a screen reader (the Done button is described by it).
    expect(kiosk.locator("#done-btn")).to_have_accessible_description(
        re.compile(re.escape(text)))


def test_a_check_in_that_keeps_the_appointments_place_says_nothing_more(
        kiosk: Any, demo_server: DemoServer) -> None:
    check_in(kiosk, demo_server.page_url("kiosk", lang="en"), "appointment")
    expect(kiosk.locator("#t-number")).to_have_text("P031")
    expect(kiosk.locator("#t-note")).to_be_hidden()
    expect(kiosk.locator("#t-note")).to_have_text("")


def test_where_both_classes_are_one_the_time_tells(kiosk: Any,
                                                   demo_server: DemoServer) -> None:
    """A site whose appointment class is its default class: an early ticket has the same
    class, so the kiosk goes by the check-in time against ``appointment_early_s``."""
    test_kiosk_timeout.open_kiosk(kiosk, demo_server.page_url("kiosk", lang="en"))
    got = kiosk.evaluate("""async () => {
      const { isEarly } = await import('/static/js/kiosk.js');
      const tk = (at) => ({ appointment_at: '2030-05-06T17:35:00+08:00', priority: 'walk_in',
                            issued_at: at });
      const same = { ticket_priority: 'walk_in', appointment_early_s: 600 };
      const apart = { ticket_priority: 'appointment', appointment_early_s: 600 };
      return [isEarly(tk('2030-05-06T17:24:59+08:00'), same, 'walk_in'),
              isEarly(tk('2030-05-06T17:25:00+08:00'), same, 'walk_in'),
              isEarly(tk('2030-05-06T17:30:00+08:00'), apart, 'walk_in'),
              isEarly({ ...tk('2030-05-06T17:00:00+08:00'), priority: 'appointment' },
                      apart, 'walk_in'),
              isEarly({ priority: 'walk_in', issued_at: '2030-05-06T17:00:00+08:00' },
                      apart, 'walk_in')];
    }""")
    assert got == [True, False, True, False, False]
