# ruff: noqa: E501  (the JavaScript under test is embedded; its lines follow JS, not PEP 8)
"""The customer's tracking page against a real server, worker and Redis: a visit booked for a
later day says "Booked for <date>, 10:00–12:00" (it was "No technician can come yet": the
planner judged it against today's shifts), and a planned visit whose window opens after the
technician would arrive shows when service starts, not the arrival ("08:03 · in 2 min" for a
visit the plan starts at 09:01). The formatters behind them are unit-tested in the same
browser, without a server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import wait_js
from tests.browser.dispatch_support import DispatchDemo
from tests.browser.test_dispatch_pages import run, unit

pytestmark = pytest.mark.browser
WAIT_MS = 30000
TZ = ZoneInfo("Asia/Shanghai")
TECH = "city.tf"
HOME = (31.3450, 121.3300)  # Baoshan, away from the demo's own technicians and jobs
SITE = (31.3440, 121.3310)
SKILL = "future-eta-test"  # only this module's technician has it
NOBODY = "nobody-has-this"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DispatchDemo]:
    d = DispatchDemo.start(tmp_path_factory.mktemp("dispatch-future"))
    d.put_tech(TECH, *HOME, skills=[SKILL], name="李娜 Li Na")
    d.actions(TECH, ("online", ""))
    d.fixes(TECH, [HOME])
    yield d
    d.stop()


def local_ms(days: int, hh: int, mm: int = 0) -> int:
    day = datetime.now(TZ) + timedelta(days=days)
    return int(day.replace(hour=hh, minute=mm, second=0, microsecond=0).timestamp() * 1000)


def wait_status(demo: DispatchDemo, jid: str, status: str, timeout_s: float = 30) -> dict[str, Any]:
    end = time.monotonic() + timeout_s
    while True:
        j: dict[str, Any] = demo.job(jid)
        if j["status"] == status or time.monotonic() > end:
            assert j["status"] == status, j
            return j
        time.sleep(0.2)


@pytest.mark.timeout(180)
def test_a_visit_booked_for_a_later_day_says_so(browser: Any, demo: DispatchDemo) -> None:
    # Three days ahead: beyond even a round-the-clock shift's horizon (today and tomorrow).
    win = (local_ms(3, 10), local_ms(3, 12))
    ahead = demo.create_job(*SITE, skills=[NOBODY], window={"start_ms": win[0], "end_ms": win[1]})
    # Created after it, with the same missing skill and no window: once the worker has
    # called this one unassignable, it has looked at the booked one too.
    now = demo.create_job(*SITE, skills=[NOBODY])
    wait_status(demo, now["id"], "unassignable")
    assert demo.job(ahead["id"])["status"] == "new"
    day = datetime.fromtimestamp(win[0] / 1000, TZ)
    ctx = browser.new_context(locale="en-GB")
    try:
        page = ctx.new_page()
        page.goto(demo.track_url(ahead, lang="en"))
        wait_js(page, "window.switchboardTrack && window.switchboardTrack.job")
        headline = page.locator("#headline").inner_text()
        assert headline.startswith("Booked for "), headline
        assert f"{day:%a} {day.day} {day:%b}, 10:00–12:00" in headline
        assert "No technician" not in page.locator("body").inner_text()
        assert f"{day.day} {day:%b}, 10:00–12:00" in page.locator("#details").inner_text()
        page.goto(demo.track_url(ahead, lang="zh"))
        wait_js(page, "window.switchboardTrack && window.switchboardTrack.job")
        assert f"已预约：{day.month}月{day.day}日" in page.locator("#headline").inner_text()
    finally:
        ctx.close()


@pytest.mark.timeout(180)
def test_the_expected_time_is_when_service_starts(browser: Any, demo: DispatchDemo) -> None:
    # The technician is a minute away; the customer's window opens in an hour.
    opens = (int(time.time()) // 60 + 61) * 60_000
    job = demo.create_job(*SITE, skills=[SKILL], window={"start_ms": opens, "end_ms": opens + 7200_000})
    planned = wait_status(demo, job["id"], "offered")
    assert planned["eta_ms"] < opens - 30 * 60_000  # the plan's arrival: long before it opens
    ctx = browser.new_context(locale="en-GB")
    try:
        page = ctx.new_page()
        page.goto(demo.track_url(job, lang="en"))
        wait_js(page, "window.switchboardTrack && window.switchboardTrack.job && window.switchboardTrack.job.eta_ms")
        shown = page.locator("#eta .tr-eta-value").inner_text()
        # With its day when it opens after midnight (a test run late in the evening).
        start = datetime.fromtimestamp(opens / 1000, TZ)
        day = "" if start.date() == datetime.now(TZ).date() else f"{start:%a} {start.day} {start:%b}, "
        assert shown.startswith(f"{day}{start:%H:%M}"), shown
        assert "arriving now" not in shown
    finally:
        ctx.close()


# -- the formatters, without a server ------------------------------------------------------

# The page that imports clients/web's modules, and ``run`` with them as m.dispatch, m.map, …
__all__ = ["unit"]  # the fixture, imported for pytest


def test_windows_on_another_day_show_their_date(unit: Any) -> None:
    # Monday 7 Dec 2026 09:00 in Shanghai (01:00 UTC).
    r = run(unit, """
      const d = m.dispatch;
      const tz = 'Asia/Shanghai', now = Date.UTC(2026, 11, 7, 1, 0);
      const h = (d, hh) => Date.UTC(2026, 11, d, hh - 8, 0);
      const today = [h(7, 10), h(7, 12)], tomorrow = [h(8, 10), h(8, 12)];
      // 23:30 UTC on the 7th is already the 8th in Shanghai.
      const lateUtc = [Date.UTC(2026, 11, 7, 23, 30), Date.UTC(2026, 11, 8, 1, 30)];
      return {
        today: d.formatWindow(today, 'en', tz, now),
        tomorrow: d.formatWindow(tomorrow, 'en', tz, now),
        zh: d.formatWindow(tomorrow, 'zh', tz, now),
        late: d.formatWindow(lateUtc, 'en', tz, now),
        booked: d.bookedFor({ status: 'new', window: tomorrow }, 'en', tz, now),
        bookedZh: d.bookedFor({ status: 'new', window: tomorrow }, 'zh', tz, now),
        todayNew: d.bookedFor({ status: 'new', window: today }, 'en', tz, now),
        offered: d.bookedFor({ status: 'offered', window: tomorrow }, 'en', tz, now),
        zones: d.bookedFor({ status: 'unassignable', window: tomorrow }, 'en', tz, now),
      };
    """)
    assert r["today"] == "10:00–12:00"
    assert r["tomorrow"] == "Tue 8 Dec, 10:00–12:00"
    assert r["zh"].startswith("12月8日") and r["zh"].endswith(" 10:00–12:00")
    assert r["late"] == "Tue 8 Dec, 07:30–09:30"
    assert r["booked"] == "Booked for Tue 8 Dec, 10:00–12:00"
    assert r["bookedZh"].startswith("已预约：12月8日")
    assert r["todayNew"] == r["offered"] == r["zones"] == ""


def test_customer_eta_is_the_service_start_and_never_a_past_time(unit: Any) -> None:
    r = run(unit, """
      const d = m.dispatch;
      const tz = 'Asia/Shanghai';
      const at = (hh, mm) => Date.UTC(2026, 11, 7, hh - 8, mm);
      const job = { status: 'offered', eta_ms: at(8, 16), window: [at(9, 1), at(11, 1)] };
      return {
        // 08:01: the plan arrives at 08:16 but service starts 09:01.
        early: d.customerEta(job, at(8, 1), 'en', tz),
        start: d.expectedStart(job),
        fromView: d.expectedStart({ ...job, start_ms: at(9, 5) }),
        noWindow: d.expectedStart({ status: 'assigned', eta_ms: at(8, 16), window: null }),
        // 09:06 and the technician has not set off: no "arriving now".
        stale: d.customerEta(job, at(9, 6), 'en', tz),
        staleZh: d.customerEta(job, at(9, 6), 'zh', tz),
        // On the way, a live time a moment ago is "arriving now" (it is).
        driving: d.customerEta({ ...job, status: 'en_route', eta_ms: at(9, 5) }, at(9, 6), 'en', tz),
      };
    """)
    assert r["early"] == "09:01 · in 60 min"
    assert r["start"] == r["noWindow"] + 45 * 60_000
    assert r["fromView"] == r["start"] + 4 * 60_000
    assert r["stale"] == "Later than planned — a new time follows shortly"
    assert r["staleZh"] == "比原计划晚，新的时间稍后更新"
    assert r["driving"] == "09:05 · arriving now"


@pytest.mark.timeout(180)
def test_a_visit_outside_every_zone_promises_nothing(browser: Any, demo: DispatchDemo) -> None:
    """Outside the service area nobody will come later either: the page said "We will let
    you know as soon as someone can come"."""
    job = demo.create_job(39.90, 116.40)  # Beijing: outside every zone of the region
    wait_status(demo, job["id"], "unassignable")
    ctx = browser.new_context(locale="en-GB")
    try:
        page = ctx.new_page()
        page.goto(demo.track_url(job, lang="en"))
        page.locator("#reason:not([hidden])").wait_for(timeout=WAIT_MS)
        text = page.locator("#reason").inner_text()
        assert "outside our service area" in text and "let you know" not in text, text
        assert "contact" in text
        page.goto(demo.track_url(job, lang="zh"))
        page.locator("#reason:not([hidden])").wait_for(timeout=WAIT_MS)
        assert "请联系" in page.locator("#reason").inner_text()
    finally:
        ctx.close()
