"""The kiosk and the site's issuing hours (policy.hours, docs/configuration.md): outside them
its start screen says, big, that it is closed for tickets and when it opens (EN and ZH, with a
closed date's name), a service closed while the site is open is disabled with when it opens,
and check-in for appointments stays. It flips by itself at the closing and opening times (a
timer from GET /v1/sites/{site}/hours, moved here with Playwright's clock), at once when the
site's hours are changed (the live site message), and on a 409 site_closed to a tap. Speech
says the closed screen.

The server's clock is the real one: hours are set around the real time in the demo site's
zone, and the page's clock starts at the real time too before it is moved on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import DemoServer, wait_js
from tests.browser.test_kiosk_speech import STUB, said

pytestmark = pytest.mark.browser
WAIT_MS = 15000
TZ = ZoneInfo("Asia/Shanghai")  # the demo site's
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SERVICE = ".k-service[data-service='{}']"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    s = DemoServer(tmp_path_factory.mktemp("kiosk-hours")).start()
    yield s
    s.stop()


def set_hours(s: DemoServer, hours: dict[str, Any] | None) -> None:
    """The demo site's policy.hours, as an admin's PUT /v1/sites/demo."""
    admin = {"Authorization": f"Bearer {s.token('admin')}"}
    cfg = httpx.get(f"{s.base}/v1/sites/demo", headers=admin, timeout=10).json()
    cfg.setdefault("policy", {})["hours"] = hours
    r = httpx.put(f"{s.base}/v1/sites/demo", headers=admin, json=cfg, timeout=10)
    assert r.status_code == 200, r.text


def now() -> dt.datetime:
    return dt.datetime.now(TZ)


def minute(at: dt.datetime) -> dt.datetime:
    return at.replace(second=0, microsecond=0)


def hhmm(at: dt.datetime) -> str:
    return at.strftime("%H:%M")


def every_day(*spans: tuple[dt.datetime, dt.datetime]) -> dict[str, list[list[str]]]:
    return {d: [[hhmm(a), hhmm(b)] for a, b in spans] for d in DAYS}


def opens_en(at: dt.datetime, today: dt.date) -> str:
    """When it opens as the kiosk says it in English."""
    if at.date() == today:
        return f"today at {hhmm(at)}"
    return f"{at:%a} {at.day} {at:%b} at {hhmm(at)}"


def open_kiosk(browser: Any, s: DemoServer, lang: str, *, speech: bool = False) -> Any:
    """The kiosk on a page clock started at the real time (moved on by the test)."""
    ctx = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1024})
    if speech:
        ctx.add_init_script(STUB)
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    page.clock.install(time=dt.datetime.now(dt.UTC))
    try:  # its read of the hours, before the test moves the clock (none on a kiosk without)
        with page.expect_response(lambda r: r.url.endswith("/v1/sites/demo/hours"),
                                  timeout=5000):
            page.goto(s.page_url("kiosk", lang=lang))
    except PlaywrightTimeout:
        pass
    page.locator(SERVICE.format("pharmacy")).wait_for(state="attached")
    page.wait_for_timeout(100)  # the answer drawn
    return page


def forward_to(page: Any, at: dt.datetime) -> None:
    """The page's clock moved on to just past ``at`` (timers due meanwhile fire)."""
    page.clock.fast_forward(int((at - now()).total_seconds() * 1000) + 1500)


def closed_shown(page: Any) -> bool:
    return bool(page.evaluate("!document.getElementById('closed').hidden"))


def test_the_start_screen_closes_by_itself_at_the_closing_time(browser: Any,
                                                               server: DemoServer) -> None:
    """Open until a minute or two from now: the services show; at the closing time (the
    page's clock moved there, no request) the start screen says it is closed and when it
    opens (the same time tomorrow), in English and in Chinese; check-in stays."""
    start = minute(now() - dt.timedelta(hours=2))
    close = minute(now() + dt.timedelta(minutes=2))
    set_hours(server, {"week": every_day((start, close))})
    page = open_kiosk(browser, server, "en")
    expect(page.locator(SERVICE.format("pharmacy"))).to_be_enabled()
    assert not closed_shown(page)
    forward_to(page, close)
    wait_js(page, "!document.getElementById('closed').hidden")
    reopen = start.replace(year=close.year, month=close.month, day=close.day)
    if reopen <= close:
        reopen += dt.timedelta(days=1)
    expect(page.locator("#closed-text")).to_have_text(
        f"Closed for tickets — opens {opens_en(reopen, close.date())}")
    expect(page.locator("#closed-second")).to_contain_text("现在不取号")
    expect(page.locator("#closed-second")).to_contain_text(hhmm(reopen))
    expect(page.locator("#closed-second")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#services")).to_be_hidden()
    # Appointments are checked in at any time (the booking schedule decides those).
    expect(page.locator("#appt-btn")).to_be_visible()
    expect(page.locator("#closed-checkin")).to_have_text("Appointment check-in is open as usual.")
    page.context.close()


def test_a_closed_service_is_disabled_until_it_opens(browser: Any, server: DemoServer) -> None:
    """The site open, the pharmacy's own hours later today: its button disabled with when it
    opens; the lab's own hours end later: its button says until when; at the pharmacy's
    opening (page clock) its button takes taps again."""
    t0 = now()
    site = (minute(t0 - dt.timedelta(hours=2)), minute(t0 + dt.timedelta(hours=3)))
    opens = minute(t0 + dt.timedelta(minutes=2))
    lab_until = minute(t0 + dt.timedelta(minutes=90))
    set_hours(server, {"week": every_day(site), "services": {
        "pharmacy": every_day((opens, minute(t0 + dt.timedelta(hours=2)))),
        "lab": every_day((site[0], lab_until))}})
    page = open_kiosk(browser, server, "en")
    pharmacy = page.locator(SERVICE.format("pharmacy"))
    expect(pharmacy).to_be_disabled()
    expect(pharmacy.locator(".k-svc-hours")).to_have_text(
        f"Closed — opens {opens_en(opens, t0.date())}")
    expect(page.locator(SERVICE.format("lab")).locator(".k-svc-hours")).to_have_text(
        f"Tickets until {hhmm(lab_until)}")
    expect(page.locator(SERVICE.format("internal"))).to_be_enabled()
    expect(page.locator(SERVICE.format("internal")).locator(".k-svc-hours")).to_be_hidden()
    assert not closed_shown(page)
    forward_to(page, opens)
    expect(pharmacy).to_be_enabled()
    expect(pharmacy.locator(".k-svc-hours")).to_be_hidden()
    page.context.close()


def test_closed_now_opens_by_itself_and_speech_says_it(browser: Any,
                                                       server: DemoServer) -> None:
    """Closed until a minute or two from now: with speech on, the start screen is said as
    closed, with when it opens; at the opening (page clock) the services are back and said."""
    t0 = now()
    opens = minute(t0 + dt.timedelta(minutes=2))
    set_hours(server, {"week": every_day((opens, minute(t0 + dt.timedelta(hours=3))))})
    page = open_kiosk(browser, server, "en", speech=True)
    wait_js(page, "!document.getElementById('closed').hidden")
    text = f"Closed for tickets — opens {opens_en(opens, t0.date())}"
    expect(page.locator("#closed-text")).to_have_text(text)
    page.locator("#speech-btn").click()
    wait_js(page, "window.__spoken.some((u) => (u.text || '').includes('Closed for tickets'))")
    words = next(x for x in said(page) if "Closed for tickets" in x)
    assert text in words and "I have an appointment" in words, words
    assert "Please choose a service" not in words
    forward_to(page, opens)
    wait_js(page, "document.getElementById('closed').hidden")
    expect(page.locator(SERVICE.format("pharmacy"))).to_be_enabled()
    wait_js(page, "window.__spoken.some((u) => (u.text || '').includes('Please choose a service'))")
    page.context.close()


def test_a_closed_date_set_while_open_shows_at_once_in_chinese(browser: Any,
                                                               server: DemoServer) -> None:
    """The site's hours changed while the kiosk is open (today made a named closed date): the
    live site message has the kiosk read them again and say so, with the date's name."""
    set_hours(server, None)
    page = open_kiosk(browser, server, "zh")
    expect(page.locator(SERVICE.format("pharmacy"))).to_be_enabled()
    # Following the site live before the change (its message is what is tested here).
    wait_js(page, "document.body.dataset.conn === 'online'")
    today = now().date()
    set_hours(server, {"week": every_day((dt.datetime(2000, 1, 1, 8, 0),
                                          dt.datetime(2000, 1, 1, 17, 0))),
                       "closed": [{"date": today.isoformat(),
                                   "name": {"en": "Spring Festival", "zh": "春节"}}]})
    wait_js(page, "!document.getElementById('closed').hidden")
    expect(page.locator("#closed-text")).to_contain_text("现在不取号 — ")
    expect(page.locator("#closed-text")).to_contain_text("08:00 开始取号")
    expect(page.locator("#closed-note")).to_have_text("今日休息：春节")
    expect(page.locator("#closed-second")).to_contain_text("Closed for tickets — opens ")
    expect(page.locator("#closed-second")).to_contain_text("Closed today: Spring Festival")
    page.context.close()


def test_a_refused_tap_says_when_it_opens_and_closes_the_screen(browser: Any,
                                                                server: DemoServer) -> None:
    """The hours not read again (GET /hours failing), the site closed meanwhile: the tap's
    409 site_closed is said with when it opens, not as a generic error, and the start
    screen is closed from then on."""
    set_hours(server, None)
    page = open_kiosk(browser, server, "en")
    page.route("**/v1/sites/demo/hours", lambda route: route.abort())
    t0 = now()
    opens = minute(t0 + dt.timedelta(hours=2))
    set_hours(server, {"week": every_day((opens, minute(t0 + dt.timedelta(hours=4))))})
    page.wait_for_timeout(500)  # the live message's read of the hours fails
    assert not closed_shown(page)
    page.locator(SERVICE.format("pharmacy")).click()
    alert = page.locator(".k-alert")
    expect(alert).to_have_text(f"Closed for tickets — opens {opens_en(opens, t0.date())}")
    wait_js(page, "!document.getElementById('closed').hidden")
    expect(page.locator("#closed-text")).to_have_text(
        f"Closed for tickets — opens {opens_en(opens, t0.date())}")
    page.context.close()


def test_the_phone_page_says_when_texts_take_tickets_again(browser: Any,
                                                           server: DemoServer) -> None:
    """Text to join outside the hours: the text back says when it opens (the server's words)
    and the phone page marks it as closed for tickets, not as a ticket or an error."""
    t0 = now()
    opens = minute(t0 + dt.timedelta(hours=2))
    set_hours(server, {"week": every_day((opens, minute(t0 + dt.timedelta(hours=4))))})
    ctx = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    token = server.token("partner", site="demo", channels=["sms"])  # type: ignore[arg-type]
    page.goto(f"{server.base}/phone/demo?token={token}&lang=en")
    page.locator("#thread .p-empty").wait_for()
    page.locator("#quick button", has_text="Pharmacy").click()
    reply = page.locator("#thread .p-in").first
    expect(reply).to_have_attribute("data-kind", "site_closed")
    expect(reply).to_contain_text(f"Text again from {opens:%a} {opens.day} {opens:%b} "
                                  f"{hhmm(opens)}.")
    expect(reply.locator(".p-meta")).to_contain_text("closed for tickets")
    ctx.close()
