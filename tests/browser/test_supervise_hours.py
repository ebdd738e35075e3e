"""'Today by hour' and 'By counter' on the floor overview (/supervise/{site}): waits by the
hour people arrived, with the counters open then, and each counter's day, as real tables in
English and Chinese, on a desk screen and a 320 px phone with text at 200 %; today's hours
whose arrivals are not all called say how many their waits cover; a refresh keeps the
reader's place; the helpers as JS units."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DemoServer, wait_js
from tests.browser.test_supervise_audit import _overview as audit_overview

pytestmark = pytest.mark.browser
WAIT_MS = 15000


def _stats(server: DemoServer, by: str) -> dict[str, Any]:
    sup = {"Authorization": f"Bearer {server.token('supervisor', site='demo')}"}
    r = httpx.get(f"{server.base}/v1/sites/demo/stats", headers=sup, timeout=10,
                  params={"by": by})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _served_at_counter_4(server: DemoServer, waiting: int = 0) -> dict[str, Any]:
    """``waiting`` lab tickets left in the queue, then three served at counter 4 (enough
    waits to name an hour); the hour view once the recorder has them."""
    for _ in range(waiting):
        server.take("lab")
    server.counter("4", "open")
    before = {c["counter"]: c["served"] for c in _stats(server, "counter")["counters"]}
    for _ in range(3):
        t = server.take("lab")
        server.counter("4", "call", {"ticket": t["id"]})
        server.counter("4", "complete")
    for _ in range(150):
        rows = {c["counter"]: c for c in _stats(server, "counter")["counters"]}
        if rows.get("4", {}).get("served", 0) >= before.get("4", 0) + 3:
            return _stats(server, "hour")
        time.sleep(0.1)
    raise AssertionError(rows)


@contextlib.contextmanager
def _overview(browser: Any, server: DemoServer, lang: str, width: int) -> Iterator[Any]:
    """The floor overview (as the ticket history's tests open it), both views shown."""
    with audit_overview(browser, server, lang, width) as page:
        page.locator("#hours:not([hidden]) #hr-table tbody tr").first.wait_for(timeout=WAIT_MS)
        page.locator("#byctr:not([hidden]) #bc-table tbody tr").first.wait_for(timeout=WAIT_MS)
        yield page


def test_today_by_hour_and_by_counter(browser: Any, demo_server: DemoServer) -> None:
    hour = _served_at_counter_4(demo_server, waiting=1)
    last = hour["hours"][-1]
    n, issued = last["wait_s"]["n"], last["issued"]
    with _overview(browser, demo_server, "en", 1440) as page:
        assert page.locator("#hr-title").inner_text().lower() == "today by hour"
        assert page.locator("#bc-title").inner_text().lower() == "by counter"
        heads = page.locator("#hr-table thead th").all_inner_texts()
        assert heads == ["Hour", "Arrived", "Mean wait", "9 in 10 waited at most",
                         "Counters open", "Arrivals per open counter"]
        assert page.locator("#hr-table thead th[scope=col]").count() == 6
        row = page.locator(f"#hr-table tbody tr[data-hour='{last['hour']}']")
        assert row.locator("th[scope=row]").inner_text() == f"{last['hour']:02d}:00"
        assert int(row.locator(".hr-issued").inner_text()) == issued
        # One of the hour's arrivals is still waiting: the waits say whom they cover.
        assert n < issued
        assert row.locator(".hr-wait .hr-sub").inner_text() == f"{n} of {issued} called so far"
        assert row.locator(".hr-p90 .hr-sub").inner_text() == "so far"
        # The bars are decoration: the numbers are in the cells.
        assert page.locator(".hr-track:not([aria-hidden=true])").count() == 0
        peak = page.locator("#hr-peak").inner_text()
        assert peak.startswith(f"Longest waits: people who arrived at {last['hour']:02d}:00")
        assert f"({n} of {issued} called so far)" in peak
        assert page.locator("#hr-table").get_attribute("aria-labelledby") == "hr-title"
        assert "null" not in page.locator("#hours").inner_text()
        assert "null" not in page.locator("#byctr").inner_text()
        ctr = page.locator("#bc-table tbody tr[data-counter='4']")
        assert ctr.locator("th").inner_text() == "Counter 4"
        assert int(ctr.locator(".bc-served").inner_text()) >= 3
        assert ctr.locator(".bc-busy .hr-num").inner_text().endswith("%")
        page.locator("#lang button", has_text="中文").click()
        page.locator("#hr-title", has_text="今日分时").wait_for()
        assert page.locator("#bc-title").inner_text() == "按窗口"
        assert page.locator("#hr-table thead th").first.inner_text() == "时段"
        assert page.locator("#hr-peak").inner_text().startswith("等待最久：")
        assert row.locator(".hr-wait .hr-sub").inner_text() == f"至今已叫 {n}/{issued} 人"
        assert page.locator("#bc-table tbody tr[data-counter='4'] th").inner_text() == "4号窗口"


# A morning as the reviewer saw it at 11:50: at 08:00 two people waited long while a counter
# was open three minutes; 09:00 is the worst hour with everyone called; at 10:00 most are
# called; at 11:00 30 arrived, 5 were called after 5 min and 25 are still waiting.
def _hour(hour: int, issued: int, n: int, mean: float, p90: float, open_: float
          ) -> dict[str, Any]:
    return {"hour": hour, "start_ms": 0, "minutes": 60, "issued": issued, "called": n,
            "served": n, "no_shows": 0, "wait_s": {"n": n, "mean": mean, "p90": p90},
            "counters_open": open_, "arrivals_per_counter": round(issued / open_, 2),
            "services": {}}


MORNING = {"site": "demo", "by": "hour", "date": "2026-12-07", "timezone": "Asia/Shanghai",
           "after_day": {"called": 0, "served": 0, "no_shows": 0},
           "hours": [_hour(8, 2, 2, 1500, 1600, 0.05), _hour(9, 12, 12, 480, 900, 2),
                     _hour(10, 10, 8, 420, 600, 2.5), _hour(11, 30, 5, 300, 360, 1)]}


@contextlib.contextmanager
def _morning(browser: Any, server: DemoServer, lang: str, width: int) -> Iterator[Any]:
    """The floor overview with the hour view answering MORNING from its next refresh on (the
    counters' view is the server's)."""
    with audit_overview(browser, server, lang, width) as page:
        wait_js(page, "window.switchboardSupervise.hours.hours !== null")
        page.route(lambda url: "/stats?by=hour" in url, lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(MORNING)))
        page.evaluate("() => window.switchboardSupervise.hours.load()")
        page.locator("#hr-table tbody tr[data-hour='11']").wait_for(timeout=WAIT_MS)
        yield page


def test_hours_not_all_called_say_so(browser: Any, demo_server: DemoServer) -> None:
    with _morning(browser, demo_server, "en", 1440) as page:
        # Not 08:00 (two waits), not 11:00 (5 of 30): 09:00; and 11:00 is named as not counted.
        assert page.locator("#hr-peak").inner_text() == (
            "Longest waits: people who arrived at 09:00 waited 8 min on average, with 2 "
            "counters open. Not compared, as too few were called: 08:00 (2 called). Most who "
            "arrived at 11:00 (5 of 30 called) have not been called yet, so their waits are not "
            "in these figures.")
        row = page.locator("#hr-table tbody tr[data-hour='11']")
        assert row.get_attribute("class") == "hr-pending-row"
        assert row.locator(".hr-wait").inner_text().split("\n") == [
            "5 min", "5 of 30 called so far"]
        assert page.locator("tr[data-hour='9']").get_attribute("class") == "hr-peak-row"
        assert page.locator("tr[data-hour='9'] .hr-sub").count() == 0  # all called
        assert page.locator("tr[data-hour='10'] .hr-wait .hr-sub").inner_text() == (
            "8 of 10 called so far")
        # 40 arrivals per counter for a counter open three minutes is no figure.
        per = page.locator("tr[data-hour='8'] .hr-per")
        assert per.inner_text().split("\n") == ["—", "counters barely open"]
        assert "less than a tenth of this hour" in (per.get_attribute("title") or "")
        assert page.locator("tr[data-hour='8'] .hr-open").inner_text() == "< 0.1"
        assert page.locator("tr[data-hour='9'] .hr-per").inner_text() == "6"


def test_the_views_fit_a_phone_at_200_percent(browser: Any, demo_server: DemoServer) -> None:
    _served_at_counter_4(demo_server)
    with _overview(browser, demo_server, "zh", 320) as page:
        wait_js(page, "window.switchboardSupervise.hours.hours !== null")
        _fits(page)
    with _morning(browser, demo_server, "zh", 320) as page:
        assert page.locator("#hr-peak").inner_text() == (
            "等待最久：09:00 取号的人平均等待 8分钟，当时开放 2 个窗口。"
            "叫号人数太少，未参与比较：08:00（已叫 2 人）。"
            "11:00（已叫 5/30 人）取号的人大多还没有叫号，他们的等待尚未计入。")
        assert page.locator("tr[data-hour='11'] .hr-wait .hr-sub").inner_text() == (
            "至今已叫 5/30 人")
        assert page.locator("tr[data-hour='8'] .hr-per .hr-sub").inner_text() == "窗口几乎未开"
        _fits(page)


def _fits(page: Any) -> None:
    for text in ("100%", "200%"):
        page.evaluate(f"() => {{ document.documentElement.style.fontSize = '{text}'; }}")
        page.wait_for_timeout(150)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, (text, width)
        # The tables scroll in their own frame (which a keyboard can reach); the rest wraps.
        for sel in ("#hr-title", "#hr-peak", "#hours .s-table-wrap", "#bc-title",
                    "#byctr .s-table-wrap"):
            box = page.locator(sel).bounding_box()
            assert box is not None and box["x"] + box["width"] <= 320, (text, sel, box)
        assert page.locator("#hours .s-table-wrap").get_attribute("tabindex") == "0"


# Marks the focused hours frame, its rows and cells, and scrolls both frames sideways; after
# a refresh, says which marks are still there.
MARK = """() => {
  const [hrs, ctrs] = document.querySelectorAll('#hours .s-table-wrap, #byctr .s-table-wrap');
  hrs.focus();
  hrs.scrollLeft = 90;
  ctrs.scrollLeft = 70;
  const all = '#hours tr, #hours th, #hours td, #byctr tr, #byctr th, #byctr td';
  for (const el of document.querySelectorAll(all)) el.kept = true;
  return [hrs.scrollWidth > hrs.clientWidth, hrs.scrollLeft, ctrs.scrollLeft];
}"""
KEPT = """async () => {
  await window.switchboardSupervise.hours.load();
  const [hrs, ctrs] = document.querySelectorAll('#hours .s-table-wrap, #byctr .s-table-wrap');
  const last = [...document.querySelectorAll('#hr-table tbody tr')].at(-1);
  const ctr = document.querySelector('#bc-table tr[data-counter="4"]');
  return { focused: document.activeElement === hrs, left: [hrs.scrollLeft, ctrs.scrollLeft],
    rows: [last.kept, ctr.kept], hour: last.cells[0].kept, ctrName: ctr.cells[0].kept,
    issued: last.querySelector('.hr-issued').textContent,
    issuedKept: last.querySelector('.hr-issued').kept };
}"""


def test_a_refresh_keeps_the_readers_place(browser: Any, demo_server: DemoServer) -> None:
    hour = _served_at_counter_4(demo_server)
    with _overview(browser, demo_server, "zh", 320) as page:
        wait_js(page, "window.switchboardSupervise.hours.hours !== null")
        overflows, left, ctr_left = page.evaluate(MARK)
        assert overflows and left > 0 and ctr_left > 0
        # Nothing shown changed (counter 4's open time did, by the second): nothing is rebuilt.
        got = page.evaluate(KEPT)
        assert got["focused"] and got["left"] == [left, ctr_left], got
        assert got["rows"] == [True, True] and got["issuedKept"] and got["ctrName"], got
        # Someone arrives: that cell is new, the rest of the table, its focus and scroll stay.
        issued = hour["hours"][-1]["issued"]
        demo_server.take("lab")
        for _ in range(100):
            if _stats(demo_server, "hour")["hours"][-1]["issued"] > issued:
                break
            time.sleep(0.1)
        got = page.evaluate(KEPT)
        assert got["focused"] and got["left"] == [left, ctr_left], got
        assert got["rows"] == [True, True] and got["hour"] and got["ctrName"], got
        assert int(got["issued"]) == issued + 1 and not got["issuedKept"], got


UNITS = """async () => {
  const m = await import('/static/js/supervise-hours.js');
  const tr = (k, v) => `${k}:${JSON.stringify(v)}`;
  const row = (hour, issued, n, mean) => ({ hour, issued, wait_s: { n, mean, p90: mean },
    counters_open: 1 });
  const rows = [row(8, 3, 3, 600), row(9, 4, 3, 1500), row(10, 0, 0, null)];
  const d = (s) => m.formatDuration(s, tr);
  const num = String;
  const per = (open) => m.hourCells({ ...row(8, 5, 5, 60), counters_open: open,
    arrivals_per_counter: 5 / open }, tr, num, { wait: 60, open: 2 })[5].text;
  return [d(40), d(420), d(3900), d(null), m.peakHour(rows).hour,
    m.peakHour([{ hour: 7, wait_s: { n: 0, mean: null } }]),
    m.peakHour([row(7, 2, 2, 900), row(8, 7, 3, 800), row(9, 3, 3, 60)]).hour,
    m.peakLine([row(7, 2, 2, 900)], tr, num), m.peakLine([row(7, 0, 0, null)], tr, num),
    m.peakLine(rows, tr, num), per(0.05), per(0.1), m.coverage({ issued: 3 })];
}"""


def test_the_helpers(browser: Any, demo_server: DemoServer) -> None:
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(f"{demo_server.base}/supervise/demo?token="
                  f"{demo_server.token('supervisor', site='demo')}")
        got = page.evaluate(UNITS)
        assert got == [
            'dur_s:{"s":40}', 'dur_min:{"m":7}', 'dur_h_min:{"h":1,"m":"05"}', "—",
            9, None,
            9,  # not 07:00 (two waits), not 08:00 (3 of 7 called)
            "hr_peak_few:undefined", None,
            'hr_peak:{"hour":"09:00","wait":"dur_min:{\\"m\\":25}","open":"1",'
            '"so_far":"hr_peak_so_far:{\\"n\\":3,\\"issued\\":4,\\"partial\\":true}"}',
            "—", "50", {"n": 0, "issued": 3, "partial": True}]
    finally:
        ctx.close()
