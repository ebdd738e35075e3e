# ruff: noqa: E501  (the JavaScript under test is embedded; its lines follow JS, not PEP 8)
"""A field-service review of the dispatch pages, with the live topic played by the test (a
real server serves the pages and their boot; the websocket is routed to a fake that sends
one snapshot): times on another day carry their day, on the customer's page, the
enterprise dashboard and the technician's device (tomorrow's 22:30 read "Expected arrival
22:30", Tuesday's stops came under "Later today"); a wristband's offer shows its window's
day and time (it was cut at "Tue 8 Dec,…"); the dispatcher console shows a group's newest
jobs and opens the rest (it showed the oldest 100 and a dead "… and 195 more"); the
dashboard's "On the way" tile and its technicians panel say what each counts.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.dispatch_support import ORG, REGION, DispatchDemo
from tests.browser.test_dispatch_pages import run, unit

pytestmark = pytest.mark.browser
__all__ = ["unit"]  # the fixture, imported for pytest
TZ = ZoneInfo("Asia/Shanghai")
TECH = "city.t1"
WAIT_MS = 30000


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DispatchDemo]:
    # No worker: the test's fake topic is all the pages hear.
    d = DispatchDemo.start(tmp_path_factory.mktemp("days-lists"), worker=False)
    yield d
    d.stop()


def local_ms(days: int, hh: int, mm: int = 0) -> int:
    day = datetime.now(TZ) + timedelta(days=days)
    return int(day.replace(hour=hh, minute=mm, second=0, microsecond=0).timestamp() * 1000)


def day_en(ms: int) -> str:
    d = datetime.fromtimestamp(ms / 1000, TZ)
    return f"{d:%a} {d.day} {d:%b}"


def day_zh(ms: int) -> str:
    d = datetime.fromtimestamp(ms / 1000, TZ)
    return f"{d.month}月{d.day}日"


def fake_topic(page: Any, topic: str, data: dict[str, Any]) -> None:
    """The page's websocket answered by the test: one snapshot of ``topic`` once the page
    has said something (its subscribe)."""
    def handler(ws: Any) -> None:
        sent = [False]

        def on_message(_msg: Any) -> None:
            if not sent[0]:
                sent[0] = True
                ws.send(json.dumps({"op": "snapshot", "topic": topic, "epoch": "e", "offset": "1-0", "data": data}))
        ws.on_message(on_message)
    page.route_web_socket(re.compile(r".*/ws(\?.*)?$"), handler)


def open_with(browser: Any, url: str, topic: str, data: dict[str, Any], width: int = 1280,
              height: int = 900, locale: str = "en-GB") -> tuple[Any, Any]:
    ctx = browser.new_context(locale=locale, viewport={"width": width, "height": height})
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    fake_topic(page, topic, data)
    page.goto(url)
    return ctx, page


# -- the formatters ------------------------------------------------------------------------

def test_a_time_on_another_day_has_its_day(unit: Any) -> None:
    # Monday 7 Dec 2026 23:30 in Shanghai.
    r = run(unit, """
      const d = m.dispatch;
      const tz = 'Asia/Shanghai';
      const at = (day, hh, mm) => Date.UTC(2026, 11, day, hh - 8, mm);
      const now = at(7, 23, 30);
      return {
        today: d.formatAt(at(7, 23, 50), 'en', tz, now),
        tomorrow: d.formatAt(at(8, 6, 1), 'en', tz, now),
        zh: d.formatAt(at(8, 6, 1), 'zh', tz, now),
        // 22.5 h ahead: "Expected arrival 22:00" read as tonight.
        eta: d.formatEta(at(8, 22, 0), now, 'en', tz),
        soon: d.formatEta(at(8, 0, 10), now, 'en', tz),
        sameDay: d.formatEta(at(7, 23, 45), now, 'en', tz),
        customer: d.customerEta({ status: 'assigned', eta_ms: at(8, 22, 0), window: null }, now, 'zh', tz),
        parts: d.windowParts([at(8, 10, 0), at(8, 12, 0)], 'en', tz, now),
        partsToday: d.windowParts([at(7, 23, 40), at(8, 0, 40)], 'en', tz, now),
      };
    """)
    assert r["today"] == "23:50"
    assert r["tomorrow"] == "Tue 8 Dec, 06:01"
    assert r["zh"].startswith("12月8日") and r["zh"].endswith(" 06:01"), r["zh"]
    assert r["eta"] == "Tue 8 Dec, 22:00"
    assert r["soon"] == "Tue 8 Dec, 00:10 · in 40 min"
    assert r["sameDay"] == "23:45 · in 15 min"
    assert r["customer"].startswith("12月8日") and r["customer"].endswith(" 22:00"), r["customer"]
    assert r["parts"] == {"day": "Tue 8 Dec", "times": "10:00–12:00"}
    assert r["partsToday"] == {"day": "", "times": "23:40–00:40"}


# -- the enterprise dashboard --------------------------------------------------------------

def org_view() -> dict[str, Any]:
    eta, end = local_ms(1, 6, 1), local_ms(1, 1, 0)
    later = local_ms(2, 12, 0)
    job = {"lat": 31.23, "lon": 121.47, "batch": None, "customer": None, "start_ms": None}
    return {
        "id": ORG, "name": "Acme", "batches": [],
        "counts": {"en_route": 0, "on_site": 3, "assigned": 1},  # one on site has no fix yet
        "jobs": [
            {**job, "id": "city.j-aaaa1111", "status": "assigned", "eta_ms": eta, "window_end_ms": end, "at_risk": True},
            {**job, "id": "city.j-bbbb2222", "status": "on_site", "eta_ms": None, "window_end_ms": later, "at_risk": False},
            {**job, "id": "city.j-cccc3333", "status": "on_site", "eta_ms": None, "window_end_ms": later, "at_risk": False},
        ],
        "on_the_way": [
            {"technician": "王伟 Wang Wei", "job": "city.j-bbbb2222", "status": "on_site", "lat": 31.23, "lon": 121.47, "eta_ms": None, "start_ms": None},
            {"technician": "李娜 Li Na", "job": "city.j-cccc3333", "status": "on_site", "lat": 31.23, "lon": 121.47, "eta_ms": None, "start_ms": None},
        ],
        "at_risk": ["city.j-aaaa1111"],
    }


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_dashboard_times_tomorrow_and_who_is_on_the_way(browser: Any, demo: DispatchDemo, lang: str) -> None:
    view = org_view()
    eta, end, later = view["jobs"][0]["eta_ms"], view["jobs"][0]["window_end_ms"], view["jobs"][1]["window_end_ms"]
    day = day_en if lang == "en" else day_zh
    ctx, page = open_with(browser, demo.org_url(lang=lang), f"org:{ORG}", view)
    try:
        page.locator("#alerts .o-alert").first.wait_for()
        alert = page.locator("#alerts .o-alert").first.inner_text()
        # It read "ETA 06:01, window ends 01:00 · 301 min late".
        assert f"{day(eta)}" in alert and f"{day(end)}" in alert, alert
        assert ("5 h 1 min late" if lang == "en" else "晚 5 小时 1 分钟") in alert, alert
        row = page.locator("#jobs tr[data-job='city.j-aaaa1111']").inner_text()
        assert row.count(day(eta)) >= 1 and row.count(day(end)) >= 1, row
        assert day(later) in page.locator("#jobs tr[data-job='city.j-bbbb2222']").inner_text()
        # The tile counts those driving (0); the panel said "Technicians on the way" above
        # the two on site it places. Now it counts both, apart, as the tile does.
        assert page.locator(".kpi-way .o-kpi-n").inner_text() == "0"
        title = page.locator("#map-title").text_content()
        if lang == "en":
            assert title == "Technicians at work: 0 on the way, 3 on site", title
            assert "driving" in (page.locator(".kpi-way").get_attribute("title") or "")
        else:
            assert title == "作业中的技师：在路上 0 人，在现场 3 人", title
        assert page.locator("#on-way .o-way-item").count() == 2
        assert page.locator("#on-way .o-way-unplaced").inner_text() == ("1 of them without a GPS position yet" if lang == "en" else "其中 1 人暂无定位")
    finally:
        ctx.close()


# -- the technician's device ---------------------------------------------------------------

def stop(job: str, status: str, eta: int, window: list[int] | None = None, customer: str | None = None) -> dict[str, Any]:
    return {"job": job, "status": status, "eta_ms": eta, "lat": 31.23, "lon": 121.47, "window": window,
            "duration_s": 1800, "skills": [], "priority": 0, "customer": customer, "address": None}


def tech_view(route: list[dict[str, Any]], offers: list[dict[str, Any]] | None = None,
              active: str | None = None) -> dict[str, Any]:
    return {"id": TECH, "name": "王伟 Wang Wei", "status": "available", "active_job": active,
            "position": None, "route": route, "offers": offers or []}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_device_lists_tomorrows_stops_under_their_day(browser: Any, demo: DispatchDemo, lang: str) -> None:
    nxt, a, b = local_ms(1, 8, 0), local_ms(1, 10, 0), local_ms(2, 9, 0)
    view = tech_view([stop("city.j-next0001", "assigned", nxt, customer="Mr Next"),
                      stop("city.j-aaaa0001", "assigned", a, customer="Mrs A"),
                      stop("city.j-bbbb0001", "assigned", b, customer="Mr B")], active="city.j-next0001")
    day = day_en if lang == "en" else day_zh
    ctx, page = open_with(browser, demo.tech_url(TECH, sim=False, lang=lang), f"tech:{TECH}", view, width=400)
    try:
        page.locator("#route .stop[data-job='city.j-bbbb0001']").wait_for()
        title = page.locator("#route-title").text_content()
        assert title == ("Coming up" if lang == "en" else "后续行程"), title
        days = page.locator("#route .stop-day").all_inner_texts()
        assert [x.startswith(day(t)) for x, t in zip(days, (a, b), strict=True)] == [True, True], days
        items = page.locator("#route > li").evaluate_all("(els) => els.map((e) => e.className + '|' + (e.dataset.job || ''))")
        assert items == ["stop-day|", "stop|city.j-aaaa0001", "stop-day|", "stop|city.j-bbbb0001"], items
        assert page.locator("#next .n-eta dd").inner_text().startswith(day(nxt))
    finally:
        ctx.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_wristband_offer_shows_its_windows_day_and_time(browser: Any, demo: DispatchDemo, lang: str) -> None:
    win = [local_ms(1, 22, 57), local_ms(2, 0, 57)]
    job = "city.j-0ffe0001"
    deadline = int(time.time() * 1000) + 110_000
    view = tech_view([stop(job, "offered", win[0], window=win)], offers=[{"job": job, "n": 1, "deadline_ms": deadline}])
    day = day_en if lang == "en" else day_zh
    ctx, page = open_with(browser, demo.tech_url(TECH, sim=False, lang=lang), f"tech:{TECH}", view, width=240, height=240)
    try:
        page.locator("body.has-offer .offer-card").wait_for()
        fit = page.evaluate("""() => [...document.querySelectorAll('.offer-card .offer-facts dd')].map((d) => ({
            text: d.innerText, visible: d.checkVisibility(),
            cut: [d, ...d.children].filter((e) => e.checkVisibility()).some((e) => e.scrollWidth > e.clientWidth + 1) }))""")
        shown = [f for f in fit if f["visible"]]
        windows = [f for f in shown if "22:57–00:57" in f["text"]]
        assert len(windows) == 1, fit
        assert windows[0]["text"].startswith(day(win[0])) and not windows[0]["cut"], fit
        for button in (".offer-decline", ".offer-accept"):
            box = page.locator(f".offer-card {button}").bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= 240, (button, box)
            assert box["height"] >= 64, (button, box)
    finally:
        ctx.close()


# -- the dispatcher console ----------------------------------------------------------------

def test_the_console_shows_the_newest_jobs_and_opens_the_rest(browser: Any, demo: DispatchDemo) -> None:
    t0 = int(time.time() * 1000) - 3_600_000
    jobs = [{"id": f"city.j-{i:04x}beef", "status": "new", "created_ms": t0 + i * 1000, "customer": f"C{i}",
             "address": None, "window": None, "technician": None, "eta_ms": None} for i in range(250)]
    url = f"{demo.base}/dispatch/{REGION}?token={demo.server.token('dispatcher', region=REGION)}&lang=en"
    ctx, page = open_with(browser, url, f"region:{REGION}", {"jobs": jobs, "techs": [], "kpis": None})
    try:
        group = page.locator("[data-group='new']")
        group.locator(".dc-job").first.wait_for()
        ids = group.locator(".dc-job").evaluate_all("(els) => els.map((e) => e.dataset.job)")
        # The job that came in last is on top (it was past the first 100, unseen).
        assert len(ids) == 100 and ids[0] == jobs[-1]["id"] and ids[-1] == jobs[150]["id"], ids[:3]
        more = group.locator("button.dc-more")
        assert more.inner_text() == "Show 100 more (150 not shown)"
        more.click()
        assert group.locator(".dc-job").count() == 200
        assert more.inner_text() == "Show 50 more (50 not shown)"
        more.click()
        assert group.locator(".dc-job").count() == 250 and more.count() == 0
        assert group.locator(".dc-job").last.get_attribute("data-job") == jobs[0]["id"]
    finally:
        ctx.close()
