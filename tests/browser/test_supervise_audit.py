"""'Ticket history' on the floor overview (/supervise/{site}): a supervisor types the number
from a patient's slip and reads every step of that ticket today (or on a day picked), in
plain words, in English and Chinese, on a desk screen and a 320 px phone; and the words as
JS units."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from redis import Redis

from queueing import keys
from tests.browser.conftest import DemoServer, wait_js

pytestmark = pytest.mark.browser
WAIT_MS = 15000


def _story(server: DemoServer) -> dict[str, Any]:
    """A lab ticket called by its number at counter 4, absent (back in the queue), called
    again, served; recorded in the trail (the recorder runs every second)."""
    t = server.take("lab")
    server.counter("4", "open")
    server.counter("4", "call", {"ticket": t["id"]})
    server.counter("4", "no-show")
    server.counter("4", "call", {"ticket": t["id"]})
    server.counter("4", "start")
    server.counter("4", "complete")
    sup = {"Authorization": f"Bearer {server.token('supervisor', site='demo')}"}
    for _ in range(100):
        r = httpx.get(f"{server.base}/v1/sites/demo/audit", headers=sup, timeout=10,
                      params={"number": t["number"]})
        if len(r.json()["records"]) == 6:
            return dict(t)
        time.sleep(0.1)
    raise AssertionError(r.text)


@contextlib.contextmanager
def _overview(browser: Any, server: DemoServer, lang: str, width: int) -> Iterator[Any]:
    """The floor overview in ``lang`` on a screen ``width`` px wide, its history box shown."""
    ctx = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US",
                              viewport={"width": width, "height": 900})
    try:
        page = ctx.new_page()
        token = server.token("supervisor", site="demo")
        page.goto(f"{server.base}/supervise/demo?token={token}&lang={lang}")
        page.locator("#audit:not([hidden])").wait_for(timeout=WAIT_MS)
        yield page
    finally:
        ctx.close()


def _look_up(page: Any, number: str) -> None:
    page.locator("#au-number").fill(number.lower())
    page.locator("#audit button[type=submit]").click()
    page.locator("#au-list li").nth(5).wait_for(timeout=WAIT_MS)


def test_a_tickets_history_in_plain_words(browser: Any, demo_server: DemoServer) -> None:
    t = _story(demo_server)
    with _overview(browser, demo_server, "en", 1440) as page:
        assert page.locator("#au-title").inner_text().lower() == "ticket history"
        assert page.get_by_label("Ticket number").count() == 1
        assert page.get_by_label("Day", exact=True).get_attribute("type") == "date"
        assert page.locator("form[role=search]").count() == 1
        _look_up(page, t["number"])
        steps = page.locator("#au-list li")
        assert [steps.nth(i).get_attribute("data-event") for i in range(6)] == [
            "issued", "called", "no_show", "called", "started", "completed"]
        assert "Took a ticket for Laboratory (kiosk)" in steps.nth(0).inner_text()
        called = steps.nth(1).inner_text()
        assert "Called to Counter 4 by its number (not the next in line)" in called
        assert "by agent:demo:4 · counter console" in called
        assert "Absent when called at Counter 4; put back in the queue" in steps.nth(2).inner_text()
        assert "Finished at Counter 4" in steps.nth(5).inner_text()
        assert page.locator("#au-status").inner_text() == f"{t['number']}: 6 steps."
        assert page.locator("#au-status").get_attribute("role") == "status"
        page.locator("#lang button", has_text="中文").click()
        page.locator("#au-title", has_text="号票记录").wait_for()
        assert "在 4号窗口 叫号未到，重新排队" in steps.nth(2).inner_text()
        assert "操作：agent:demo:4 · 窗口终端" in steps.nth(2).inner_text()
        page.locator("#au-number").fill("Z999")
        page.locator("#audit button[type=submit]").click()
        page.locator("#au-status", has_text="今天没有 Z999 的记录。").wait_for(timeout=WAIT_MS)
        assert steps.count() == 0


def test_another_days_history(browser: Any, demo_server: DemoServer) -> None:
    """A complaint comes the day after: the supervisor picks the day. The story is copied
    to the trail of three days ago in the demo's Redis (the trail is one key a day)."""
    t = _story(demo_server)
    sup = {"Authorization": f"Bearer {demo_server.token('supervisor', site='demo')}"}
    today = httpx.get(f"{demo_server.base}/v1/sites/demo/audit", headers=sup,
                      timeout=10).json()["date"]
    day = (dt.date.fromisoformat(today) - dt.timedelta(days=3)).isoformat()
    with Redis(unix_socket_path=str(demo_server.data_dir / "redis.sock")) as r:
        r.copy(keys.prefix("demo") + "audit:" + today, keys.prefix("demo") + "audit:" + day,
               replace=True)
    named = dt.date.fromisoformat(day).strftime("%a %-d %b")
    with _overview(browser, demo_server, "en", 1440) as page:
        assert page.locator("#au-day").get_attribute("max") == today
        assert page.locator("#au-day").input_value() == today
        page.locator("#au-day").fill(day)
        _look_up(page, t["number"])
        status = page.locator("#au-status", has_text=f"{t['number']} on {named}: 6 steps.")
        status.wait_for(timeout=WAIT_MS)
        before = dt.date.fromisoformat(day) - dt.timedelta(days=1)
        page.locator("#au-day").fill(before.isoformat())
        page.locator("#audit button[type=submit]").click()
        page.locator("#au-status", has_text="Nothing recorded on").wait_for(timeout=WAIT_MS)
        assert page.locator("#au-list li").count() == 0
        page.locator("#au-day").fill("")  # empty: today
        _look_up(page, t["number"])
        assert page.locator("#au-status").inner_text() == f"{t['number']}: 6 steps."


def test_the_history_fits_a_phone(browser: Any, demo_server: DemoServer) -> None:
    t = _story(demo_server)
    with _overview(browser, demo_server, "zh", 320) as page:
        _look_up(page, t["number"])
        wait_js(page, "window.switchboardSupervise.audit.records !== null")
        for text in ("100%", "200%"):  # and with text at 200 %
            page.evaluate(f"() => {{ document.documentElement.style.fontSize = '{text}'; }}")
            page.wait_for_timeout(150)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 320, (text, width)
            for sel in ("#au-list li >> nth=2", "#audit button[type=submit]", "#au-number",
                        "#au-day"):
                box = page.locator(sel).bounding_box()
                assert box is not None and box["x"] + box["width"] <= 320, (text, sel)


UNITS = """async () => {
  const m = await import('/static/js/supervise-audit.js');
  const tr = (k, v) => (v ? `${k}:${JSON.stringify(v)}` : k);
  const names = { service: (id) => `S(${id})`, counter: (id) => `C(${id})` };
  const r = (event, extra = {}) =>
    m.describe({ event, actor: 'nurse-li', via: 'counter', ...extra }, tr, names).text;
  return [r('no_show', { counter: '1', returned: true }),
    r('no_show', { counter: '1', reason: 'auto' }), r('cancelled', { reason: 'by_staff' }),
    r('cancelled', { reason: 'weird' }), r('notify_set', { notify: false }),
    r('counter_paused', { counter: '1' })];
}"""


def test_the_words_for_each_step(browser: Any, demo_server: DemoServer) -> None:
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.goto(f"{demo_server.base}/supervise/demo?token="
                  f"{demo_server.token('supervisor', site='demo')}")
        got = page.evaluate(UNITS)
        assert got[0].startswith("au_returned:") and '"counter":"C(1)"' in got[0]
        assert got[1].startswith("au_no_show_auto:")
        assert got[2].startswith("au_cancelled_by_staff")
        # A reason the page has no words for: plainly cancelled, not a raw key.
        assert got[3].startswith("au_cancelled:")
        assert got[4] == "au_notify_off"
        assert got[5].startswith("au_other:")
    finally:
        ctx.close()
