"""'Appointments today' on the floor overview (/supervise/{site}): the day's list — who is
expected, who has arrived with their ticket, who did not come — in a real browser against a
demo server; and the rules its rows follow, as JS units."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from realtime.auth import make_token
from tests.browser.conftest import SECRET, DemoServer, wait_js
from tests.conftest import daytime_zone

pytestmark = pytest.mark.browser
WAIT_MS = 15000


@pytest.fixture
def daytime(demo_server: DemoServer) -> Iterator[None]:
    """The demo clinic where it is day now: in its own zone, Asia/Shanghai, unless it is
    past 23:00 or before 01:00 there, when no lab time may be left today within the hour
    (the overview lists today's appointments); then in another zone, put back after."""
    own = _site(demo_server)["timezone"]
    zone = daytime_zone(own).key
    if zone != own:
        _put_zone(demo_server, zone)
    yield
    if zone != own:
        _put_zone(demo_server, own)


def _site(server: DemoServer) -> dict[str, Any]:
    r = httpx.get(f"{server.base}/v1/sites/demo", timeout=10,
                  headers={"Authorization": f"Bearer {server.token('admin')}"})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _put_zone(server: DemoServer, zone: str) -> None:
    r = httpx.put(f"{server.base}/v1/sites/demo", json={**_site(server), "timezone": zone},
                  headers={"Authorization": f"Bearer {server.token('admin')}"}, timeout=10)
    assert r.status_code == 200, r.text


def _lab_booking(server: DemoServer, customer: str) -> dict[str, Any]:
    """A lab booking today in the clinic's zone, starting within the hour (check-in open)
    and half an hour on (the overview, opened meanwhile, sees it as expected, not late)."""
    partner = make_token(SECRET, "partner", site="demo", subject="app")
    slot = server.slot_soon("lab", 1800, 3000)
    r = httpx.post(f"{server.base}/v1/sites/demo/bookings", timeout=10,
                   headers={"Authorization": f"Bearer {partner}"},
                   json={"slot": slot["slot"], "customer": customer, "channel": "app"})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_todays_appointments_show_who_is_expected_and_who_arrived(
        browser: Any, demo_server: DemoServer, daytime: None) -> None:
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
