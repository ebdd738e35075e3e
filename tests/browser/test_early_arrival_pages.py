# ruff: noqa: E501  (the JavaScript under test is embedded; its lines follow JS, not PEP 8)
"""The early-arrival rule on the person's own pages, in both languages: a booked person who
checks in more than ``appointment_early_s`` (10 min) before the time waits in order of
arrival until then (``promote_at``), and takes the appointment's place at that time. The
kiosk said so; the booking page said "shortly before your time" and the ticket page
nothing. Now the booking page says what happens and at what local time before and after
checking in, and the ticket page says it while waiting and, once promoted, that it was.

And a site's words changed while the ticket page is open: the page speaks them at once."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.browser.conftest import DemoServer, wait_js
from tests.browser.test_booking_page import book_slot, phone  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser
TZ = ZoneInfo("Asia/Shanghai")  # the demo's


def _hhmm(iso: str, minutes: int = 0) -> str:
    return (dt.datetime.fromisoformat(iso) + dt.timedelta(minutes=minutes)).astimezone(
        TZ).strftime("%H:%M")


def test_the_booking_and_ticket_pages_say_until_when_an_early_arrival_waits(
        phone: Any, demo_server: DemoServer) -> None:  # noqa: F811
    # 25 to 50 minutes ahead: check-in is open (an hour early), and it is early.
    b = book_slot(demo_server, demo_server.slot_soon("lab", 1500, 3000)["slot"])
    at, appt = _hhmm(b["start"], -10), _hhmm(b["start"])
    # The booking page names the day when it is not today (run just before midnight): "from
    # tomorrow 00:05" / "明天 00:05"; the ticket page gives the time alone.
    promote = dt.datetime.fromisoformat(b["start"]).astimezone(TZ) - dt.timedelta(minutes=10)
    tomorrow = promote.date() != dt.datetime.now(TZ).date()
    at_en = f"tomorrow {at}" if tomorrow else at
    at_zh = f"明天 {at}" if tomorrow else at
    phone.goto(demo_server.base + b["manage"] + "&lang=en")
    wait_js(phone, "window.switchboardBooking.booking?.status === 'confirmed'")
    status = phone.locator("#status")
    status.locator("p", has_text=f"If you check in before {at_en},").wait_for()
    assert status.locator("p").all_inner_texts() == [
        "Check-in is open. Check in once you are in the building.",
        f"If you check in before {at_en}, you wait in order of arrival until {at_en}; at "
        f"{at_en} you take your appointment’s place in line."]
    phone.goto(demo_server.base + b["manage"] + "&lang=zh")
    status.locator("p", has_text=f"如在 {at_zh} 前签到").wait_for()
    assert (f"如在 {at_zh} 前签到，{at_zh} 前按到达顺序排队；{at_zh} 起排到预约的位置。"
            in status.inner_text())
    phone.locator("#act-check_in").tap()
    phone.locator("#ask-yes").tap()
    phone.wait_for_url("**/ticket/**")
    wait_js(phone, "window.switchboardTicket?.ticket?.status === 'waiting'")
    assert phone.evaluate("window.switchboardTicket.ticket.promote_at")
    note = phone.locator("#status .early-note")
    phone.locator("#lang button", has_text="EN").tap()
    note.locator("text=You are early").wait_for()
    assert note.inner_text() == (
        f"You are early for your {appt} appointment, so until {at} you wait in order of "
        f"arrival, like anyone who came when you did. At {at} you move up to your "
        "appointment’s place in line; the wait shown already counts that.")
    phone.locator("#lang button", has_text="中文").tap()
    note.locator("text=您比预约时间").wait_for()
    assert note.inner_text() == (f"您比预约时间 {appt} 来得早：{at} 前按到达顺序排队，与同时到达的人一样；"
                                 f"{at} 起排到预约的位置，显示的等待时间已计入这一点。")
    # Back on the booking page: checked in early, and until when.
    phone.goto(demo_server.base + b["manage"] + "&lang=en")
    wait_js(phone, "window.switchboardBooking.booking?.status === 'checked_in'")
    status.locator("p", has_text="You checked in early").wait_for()
    assert (f"You checked in early: until {at_en} you wait in order of arrival; at {at_en} you "
            "take your appointment’s place in line.") in status.inner_text()


TICKET_UNITS = """async () => {
  const m = await import('/static/js/ticket.js');
  const tz = 'Asia/Shanghai';
  const at = (iso) => new Date(iso).getTime();
  const early = { status: 'waiting', priority: 'walk_in', promote_at: '2026-12-08T09:50:00+08:00', appointment_at: '2026-12-08T10:00:00+08:00' };
  const after = { status: 'waiting', priority: 'appointment', appointment_at: '2026-12-08T10:00:00+08:00' };
  const returned = { status: 'waiting', priority: 'walk_in', appointment_at: '2026-12-08T10:00:00+08:00' };
  return {
    before: m.earlyNote(early, null, at('2026-12-08T09:10:00+08:00'), 'en', tz),
    due: [m.earlyNote(early, null, at('2026-12-08T09:50:00+08:00'), 'en', tz), m.earlyNote(early, null, at('2026-12-08T09:50:00+08:00'), 'zh', tz)],
    promoted: [m.earlyNote(after, { at: early.promote_at }, 0, 'en', tz), m.earlyNote(after, { at: early.promote_at }, 0, 'zh', tz),
               m.earlyNote(after, { at: null }, 0, 'en', tz), m.earlyNote(after, null, 0, 'en', tz)],
    called: m.earlyNote({ ...after, status: 'called' }, { at: early.promote_at }, 0, 'en', tz),
    seen: [m.wasPromoted(early, after, 'promoted'), m.wasPromoted(early, after, 'position'),
           m.wasPromoted(early, returned, 'no_show'), m.wasPromoted(early, early, 'position'), m.wasPromoted(null, after, 'position')],
  };
}"""

RULES_UNITS = """async () => {
  const m = await import('/static/js/booking-rules.js');
  const at = (iso) => new Date(iso).getTime();
  const b = (status, extra = {}) => ({ status, start: '2026-12-08T10:00:00+08:00', promote_at: '2026-12-08T09:50:00+08:00', ...extra });
  const t = at('2026-12-08T09:20:00+08:00');
  const late = at('2026-12-08T09:55:00+08:00');
  const s = (x) => x?.state ?? null;
  return [
    s(m.earlyArrival(b('confirmed'), t)), s(m.earlyArrival(b('confirmed'), late)),
    s(m.earlyArrival(b('confirmed', { promote_at: undefined }), t)),
    s(m.earlyArrival(b('checked_in', { checked_in_at: '2026-12-08T09:15:00+08:00' }), t)),
    s(m.earlyArrival(b('checked_in', { checked_in_at: '2026-12-08T09:15:00+08:00', ticket_status: 'waiting' }), late)),
    s(m.earlyArrival(b('checked_in', { checked_in_at: '2026-12-08T09:15:00+08:00', ticket_status: 'called' }), late)),
    s(m.earlyArrival(b('checked_in', { checked_in_at: '2026-12-08T09:52:00+08:00' }), late)),
    s(m.earlyArrival(b('checked_in', { checked_in_at: '2026-12-08T09:15:00+08:00', late: true }), t)),
    s(m.earlyArrival(b('cancelled'), t)),
  ];
}"""


def test_the_rules_of_the_early_notes(phone: Any, demo_server: DemoServer) -> None:  # noqa: F811
    phone.goto(demo_server.base + "/")
    assert phone.evaluate(RULES_UNITS) == [
        "before", None, None, "waiting", "promoted", None, None, None, None]
    # A booking refused because no counter serves the service (409 service_not_served).
    said = phone.evaluate("""async () => {
      const v = await import('/static/js/vocabulary.js');
      const m = await import('/static/js/booking-rules.js');
      v.setVocabulary('clinic');
      return [m.bookingTranslator('en')('e_service_not_served'), m.bookingTranslator('zh')('e_service_not_served')];
    }""")
    assert said == ["This cannot be booked at the moment: no doctor is taking it on. Please call us.",
                    "该科室目前无人办理，暂不能预约，请来电咨询。"]
    r = demo_server.take("lab")
    phone.goto(demo_server.base + r["tracker"] + "&lang=en")
    wait_js(phone, "window.switchboardTicket?.ticket?.status === 'waiting'")
    got = phone.evaluate(TICKET_UNITS)
    assert got["before"] == (
        "You are early for your 10:00 appointment, so until 09:50 you wait in order of "
        "arrival, like anyone who came when you did. At 09:50 you move up to your "
        "appointment’s place in line; the wait shown already counts that.")
    assert got["due"] == [
        "From 09:50 you have your appointment’s place in line: you are moved up in a moment.",
        "09:50 起您排到预约的位置，稍后即调整。"]
    assert got["promoted"] == [
        "Since 09:50 you have your appointment’s place in line.", "09:50 起您已排到预约的位置。",
        "You now have your appointment’s place in line.", None]
    assert got["called"] is None
    assert got["seen"] == [True, True, False, False, False]


def test_the_ticket_page_follows_the_site_words_live(phone: Any,  # noqa: F811
                                                    demo_server: DemoServer) -> None:
    admin = {"Authorization": f"Bearer {demo_server.token('admin')}"}
    site = httpx.get(f"{demo_server.base}/v1/sites/demo", headers=admin, timeout=10).json()
    assert site["vocabulary"] == "clinic"
    demo_server.counter("5", "open")  # an estimate, and "almost your turn" near the front
    # At the front (the page's words of the site show when it is almost one's turn): the
    # pharmacy tickets other tests left waiting are cancelled by staff first.
    boss = {"Authorization": f"Bearer {demo_server.token('supervisor', site='demo')}"}
    queue = httpx.get(f"{demo_server.base}/v1/sites/demo/services/pharmacy/queue",
                      headers=boss, timeout=10).json()
    for waiting in queue["tickets"]:
        gone = httpx.post(f"{demo_server.base}/v1/tickets/{waiting['id']}/cancel",
                          headers=boss, timeout=10)
        assert gone.status_code == 200, gone.text
    r = demo_server.take("pharmacy")
    phone.goto(demo_server.base + r["tracker"] + "&lang=zh")
    wait_js(phone, "window.switchboardTicket?.ticket?.status === 'waiting'")
    status = phone.locator("#status")
    try:
        wait_js(phone, "window.switchboardTicket.phase === 'almost'")
        status.locator("text=候诊区").wait_for()
        put = httpx.put(f"{demo_server.base}/v1/sites/demo", headers=admin, timeout=10,
                        json=site | {"vocabulary": "government"})
        assert put.status_code == 200, put.text
        status.locator("text=请回到等候区等候").wait_for()  # the page was not reloaded
        assert "候诊区" not in status.inner_text()
    finally:
        httpx.put(f"{demo_server.base}/v1/sites/demo", headers=admin, timeout=10, json=site)
