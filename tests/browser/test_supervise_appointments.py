"""'Appointments today' on the floor overview (/supervise/{site}): the day's list — who is
expected, who has arrived with their ticket, who did not come — in a real browser against a
demo server; and the rules its rows follow, as JS units."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from realtime.auth import make_token
from tests.browser.conftest import SECRET, DemoServer, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000
SHANGHAI = dt.timezone(dt.timedelta(hours=8))  # the demo clinic's zone (no DST)


def _lab_booking(server: DemoServer, customer: str) -> dict[str, Any]:
    """A lab booking starting within the hour, today in the clinic's zone (check-in open)."""
    partner = make_token(SECRET, "partner", site="demo", subject="app")
    auth = {"Authorization": f"Bearer {partner}"}
    now = dt.datetime.now(SHANGHAI)
    slots = httpx.get(f"{server.base}/v1/sites/demo/availability", headers=auth, timeout=10,
                      params={"service": "lab", "date": now.date().isoformat()}).json()
    free = [s for s in slots if s["remaining"] > 0
            and dt.datetime.fromisoformat(s["start"]) < now + dt.timedelta(minutes=50)]
    if not free:
        pytest.skip("too late in the clinic's day for a lab slot within the hour")
    r = httpx.post(f"{server.base}/v1/sites/demo/bookings", headers=auth, timeout=10,
                   json={"slot": free[-1]["slot"], "customer": customer, "channel": "app"})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_todays_appointments_show_who_is_expected_and_who_arrived(
        browser: Any, demo_server: DemoServer) -> None:
    expected = _lab_booking(demo_server, "MRN-7001")
    arrived = _lab_booking(demo_server, "MRN-7002")
    ticket = demo_server.post("/v1/sites/demo/check-in",
                              demo_server.token("kiosk", site="demo"), {"code": arrived["code"]})
    ctx = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    try:
        page = ctx.new_page()
        token = demo_server.token("supervisor", site="demo")
        page.goto(f"{demo_server.base}/supervise/demo?token={token}&lang=en")
        page.locator("#appts:not([hidden])").wait_for(timeout=WAIT_MS)
        wait_js(page, "window.switchboardSupervise.appts.list !== null")
        row = page.locator(f"tr[data-booking='{expected['id']}']")
        assert "Laboratory · Blood draw room" in row.inner_text()
        assert "MRN-7001" in row.inner_text()
        assert row.locator(".ap-status").inner_text() == "Expected"  # it starts later
        done = page.locator(f"tr[data-booking='{arrived['id']}'] .ap-status")
        assert done.inner_text() == f"Arrived · {ticket['number']} · waiting"
        summary = page.locator("#appt-summary").inner_text()
        assert "arrived" in summary and "expected" in summary
        page.locator("#lang button", has_text="中文").click()
        page.locator("#appt-title", has_text="今日预约").wait_for()
        assert done.inner_text() == f"已到 · {ticket['number']} · 等候中"
    finally:
        ctx.close()


UNITS = """async () => {
  const m = await import('/static/js/supervise-appts.js');
  const tr = (k, v) => (v ? `${k}:${JSON.stringify(v)}` : k);
  const now = Date.parse('2026-12-08T10:00:00+08:00');
  const b = (status, start, extra = {}) => ({ status, start, end: start, ...extra });
  const list = [
    b('confirmed', '2026-12-08T10:30:00+08:00'),
    b('confirmed', '2026-12-08T09:30:00+08:00'),
    b('checked_in', '2026-12-08T09:00:00+08:00', { ticket_number: 'A012', ticket_status: 'done' }),
    b('no_show', '2026-12-08T08:00:00+08:00'),
    b('held', '2026-12-08T11:00:00+08:00'),
  ];
  return { states: list.map((x) => m.appointmentState(x, now, tr)), tally: m.tally(list, now) };
}"""


def test_the_rows_rules(browser: Any, demo_server: DemoServer) -> None:
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(demo_server.base + "/")
        got = page.evaluate(UNITS)
    finally:
        ctx.close()
    assert [s["kind"] for s in got["states"]] == ["expected", "late", "arrived", "missed",
                                                  "other"]
    assert got["states"][2]["text"] == 'ap_arrived:{"number":"A012"} · ap_tk_done'
    assert got["tally"] == {"n": 5, "arrived": 1, "expected": 2, "missed": 1}
