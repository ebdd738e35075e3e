"""'Today by hour' and 'By counter' on the floor overview (/supervise/{site}): waits by the
hour people arrived, with the counters open then, and each counter's day, as real tables in
English and Chinese, on a desk screen and a 320 px phone with text at 200 %; the helpers as
JS units."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.browser.conftest import DemoServer, wait_js
from tests.browser.test_supervise_audit import _overview as audit_overview

pytestmark = pytest.mark.browser
WAIT_MS = 15000


def _served_at_counter_4(server: DemoServer) -> dict[str, Any]:
    """A lab ticket served at counter 4; the hour view once the recorder has it."""
    t = server.take("lab")
    server.counter("4", "open")
    server.counter("4", "call", {"ticket": t["id"]})
    server.counter("4", "complete")
    sup = {"Authorization": f"Bearer {server.token('supervisor', site='demo')}"}
    for _ in range(150):
        r = httpx.get(f"{server.base}/v1/sites/demo/stats", headers=sup, timeout=10,
                      params={"by": "counter"})
        rows = {c["counter"]: c for c in r.json()["counters"]}
        if rows.get("4", {}).get("served"):
            hour = httpx.get(f"{server.base}/v1/sites/demo/stats", headers=sup, timeout=10,
                             params={"by": "hour"}).json()
            return dict(hour)
        time.sleep(0.1)
    raise AssertionError(r.text)


@contextlib.contextmanager
def _overview(browser: Any, server: DemoServer, lang: str, width: int) -> Iterator[Any]:
    """The floor overview (as the ticket history's tests open it), both views shown."""
    with audit_overview(browser, server, lang, width) as page:
        page.locator("#hours:not([hidden]) #hr-table tbody tr").first.wait_for(timeout=WAIT_MS)
        page.locator("#byctr:not([hidden]) #bc-table tbody tr").first.wait_for(timeout=WAIT_MS)
        yield page


def test_today_by_hour_and_by_counter(browser: Any, demo_server: DemoServer) -> None:
    hour = _served_at_counter_4(demo_server)
    last = hour["hours"][-1]["hour"]
    with _overview(browser, demo_server, "en", 1440) as page:
        assert page.locator("#hr-title").inner_text().lower() == "today by hour"
        assert page.locator("#bc-title").inner_text().lower() == "by counter"
        heads = page.locator("#hr-table thead th").all_inner_texts()
        assert heads == ["Hour", "Arrived", "Mean wait", "9 in 10 waited at most",
                         "Counters open", "Arrivals per open counter"]
        assert page.locator("#hr-table thead th[scope=col]").count() == 6
        row = page.locator(f"#hr-table tbody tr[data-hour='{last}']")
        assert row.locator("th[scope=row]").inner_text() == f"{last:02d}:00"
        assert int(row.locator(".hr-issued").inner_text()) >= 1
        # The bars are decoration: the numbers are in the cells.
        assert page.locator(".hr-track:not([aria-hidden=true])").count() == 0
        peak = page.locator("#hr-peak").inner_text()
        assert peak.startswith("Longest waits: people who arrived at")
        assert page.locator("#hr-table").get_attribute("aria-labelledby") == "hr-title"
        assert "null" not in page.locator("#hours").inner_text()
        assert "null" not in page.locator("#byctr").inner_text()
        ctr = page.locator("#bc-table tbody tr[data-counter='4']")
        assert ctr.locator("th").inner_text() == "Counter 4"
        assert int(ctr.locator(".bc-served").inner_text()) >= 1
        assert ctr.locator(".bc-busy .hr-num").inner_text().endswith("%")
        page.locator("#lang button", has_text="中文").click()
        page.locator("#hr-title", has_text="今日分时").wait_for()
        assert page.locator("#bc-title").inner_text() == "按窗口"
        assert page.locator("#hr-table thead th").first.inner_text() == "时段"
        assert page.locator("#hr-peak").inner_text().startswith("等待最久：")
        assert page.locator("#bc-table tbody tr[data-counter='4'] th").inner_text() == "4号窗口"


def test_the_views_fit_a_phone_at_200_percent(browser: Any, demo_server: DemoServer) -> None:
    _served_at_counter_4(demo_server)
    with _overview(browser, demo_server, "zh", 320) as page:
        wait_js(page, "window.switchboardSupervise.hours.hours !== null")
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


UNITS = """async () => {
  const m = await import('/static/js/supervise-hours.js');
  const tr = (k, v) => `${k}:${JSON.stringify(v)}`;
  const rows = [{ hour: 8, wait_s: { mean: 600 } }, { hour: 9, wait_s: { mean: 1500 } },
    { hour: 10, wait_s: { mean: null } }];
  const d = (s) => m.formatDuration(s, tr);
  return [d(40), d(420), d(3900), d(null), m.peakHour(rows).hour,
    m.peakHour([{ hour: 7, wait_s: { mean: null } }])];
}"""


def test_the_helpers(browser: Any, demo_server: DemoServer) -> None:
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(f"{demo_server.base}/supervise/demo?token="
                  f"{demo_server.token('supervisor', site='demo')}")
        got = page.evaluate(UNITS)
        assert got == ['dur_s:{"s":40}', 'dur_min:{"m":7}', 'dur_h_min:{"h":1,"m":"05"}', "—",
                       9, None]
    finally:
        ctx.close()
